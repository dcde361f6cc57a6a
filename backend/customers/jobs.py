from celery import shared_task

from backend.customers.batch_printing import PRINT_BATCH_JOB
from backend.customers.batch_printing import print_batch_run as _run
from backend.customers.expiry import id_expiry_run as run
from backend.customers.notices import customer_notices_deliver


@shared_task(name=PRINT_BATCH_JOB, acks_late=True)
def print_batch_run(batch_id: str) -> str:
    return _run(batch_id=batch_id)


@shared_task(name="customers.deliver_notices", acks_late=True)
def deliver_notices() -> int:
    return customer_notices_deliver()


@shared_task(name="customers.id_expiry_run", acks_late=True)
def id_expiry_run() -> dict:
    """Monthly: open an update task for every identity document expiring within
    ID_EXPIRY_NOTICE_DAYS or expired (idempotent: see expiry.id_expiry_run)."""

    return run()

from celery import shared_task

from backend.customers.batch_printing import PRINT_BATCH_JOB
from backend.customers.batch_printing import print_batch_run as _run
from backend.customers.expiry import id_expiry_run as run
from backend.customers.notices import customer_notices_deliver
from backend.customers.prospects import prospects_expire as _prospects_expire


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


@shared_task(name="customers.prospects_expire", acks_late=True)
def prospects_expire() -> dict:
    """Daily: expire unconverted prospects past their time and blank the personal data of those
    expired PURGE_DAYS ago (see prospects.prospects_expire; idempotent)."""

    return _prospects_expire()

from celery import shared_task

from backend.customers.batch_printing import print_batch_run as _run


@shared_task(name="customers.print_batch_run", acks_late=True)
def print_batch_run(batch_id: str) -> str:
    return _run(batch_id=batch_id)


@shared_task(name="customers.deliver_notices", acks_late=True)
def deliver_notices() -> int:
    from backend.customers.notices import customer_notices_deliver

    return customer_notices_deliver()

from celery import shared_task

from backend.common.outbox import outbox_relay


@shared_task(name="common.relay_outbox", acks_late=True)
def relay_outbox() -> int:
    return outbox_relay()

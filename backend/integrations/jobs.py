from celery import shared_task

from backend.integrations.callbacks import callbacks_deliver
from backend.integrations.dispatch import DELIVER_CALLBACKS, RUN_IMPORT, START_IMPORT_REVIEWS
from backend.integrations.imports import import_batch_run, import_reviews_start
from backend.integrations.verification import sample_verification_run


@shared_task(name=DELIVER_CALLBACKS, acks_late=True)
def deliver_callbacks() -> int:
    return callbacks_deliver()


@shared_task(name=RUN_IMPORT, acks_late=True)
def run_import(batch_id: int) -> str:
    return import_batch_run(batch_id=batch_id).status


@shared_task(name="integrations.sample_verification", acks_late=True)
def sample_verification(period: str | None = None) -> dict:
    return sample_verification_run(period=period)


@shared_task(name=START_IMPORT_REVIEWS, acks_late=True)
def start_import_reviews(batch_id: int) -> int:
    return import_reviews_start(batch_id=batch_id)

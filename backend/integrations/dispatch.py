"""Queue jobs through the transactional outbox: a row written in the surrounding transaction,
published once it commits (never `.delay()` inside one, never a publish that can fail a commit).

Jobs are enqueued by their registered names (backend/integrations/jobs.py registers the Celery
tasks under these names), so the services that enqueue them never import the task module."""

from __future__ import annotations

from backend.common.outbox import outbox_enqueue

DELIVER_CALLBACKS = "integrations.deliver_callbacks"
RUN_IMPORT = "integrations.run_import"
START_IMPORT_REVIEWS = "integrations.start_import_reviews"


def callbacks_deliver_on_commit() -> None:
    outbox_enqueue(job=DELIVER_CALLBACKS)


def import_run_on_commit(batch_id: int) -> None:
    outbox_enqueue(job=RUN_IMPORT, args=[batch_id], key=f"{RUN_IMPORT}:{batch_id}")


def import_reviews_start_on_commit(batch_id: int) -> None:
    outbox_enqueue(job=START_IMPORT_REVIEWS, args=[batch_id], key=f"{START_IMPORT_REVIEWS}:{batch_id}")

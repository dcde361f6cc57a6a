"""Queue jobs through the transactional outbox: a row written in the surrounding transaction,
published once it commits (never `.delay()` inside one, never a publish that can fail a commit)."""

from __future__ import annotations

from backend.common.outbox import outbox_enqueue


def callbacks_deliver_on_commit() -> None:
    from backend.integrations.jobs import deliver_callbacks

    outbox_enqueue(job=deliver_callbacks)


def import_run_on_commit(batch_id: int) -> None:
    from backend.integrations.jobs import run_import

    outbox_enqueue(job=run_import, args=[batch_id], key=f"integrations.run_import:{batch_id}")


def import_reviews_start_on_commit(batch_id: int) -> None:
    from backend.integrations.jobs import start_import_reviews

    outbox_enqueue(job=start_import_reviews, args=[batch_id], key=f"integrations.start_import_reviews:{batch_id}")

"""Queue jobs after the surrounding transaction commits (never `.delay()` inside one)."""

from __future__ import annotations

from django.db import transaction


def callbacks_deliver_on_commit() -> None:
    from backend.integrations.jobs import deliver_callbacks

    transaction.on_commit(lambda: deliver_callbacks.delay())


def import_run_on_commit(batch_id: int) -> None:
    from backend.integrations.jobs import run_import

    transaction.on_commit(lambda: run_import.delay(batch_id))


def import_reviews_start_on_commit(batch_id: int) -> None:
    from backend.integrations.jobs import start_import_reviews

    transaction.on_commit(lambda: start_import_reviews.delay(batch_id))

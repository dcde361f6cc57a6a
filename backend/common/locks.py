"""Row-lock helpers shared by the jobs that work through a table of pending rows."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet


def lock_skipping_taken(qs: QuerySet) -> QuerySet:
    """Lock the rows of ``qs`` (its own table only), skipping rows another worker holds, so
    concurrent relays and senders never wait on or repeat each other's rows. SQLite has no
    SKIP LOCKED: there a plain lock serialises the writers, which is all one process needs."""
    if connection.vendor == "postgresql":
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs.select_for_update()

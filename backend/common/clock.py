"""The system clock that writes read: the wall clock, or the time a timer step runs at.

A timer sweep may run as if it were another time (`manage.py run_timers --at`, tests, a sweep
that fires a timer due a moment ago): every row and audit event that step writes (the task it
escalates, the task it creates, the notifications, the trail) carries the step's time, so a
trail entry never precedes the deadline it records. Outside such a step ``now()`` is
``timezone.now()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_pinned: ContextVar[datetime | None] = ContextVar("custflow_system_clock", default=None)


def now() -> datetime:
    value = _pinned.get()
    return value if value is not None else timezone.now()


@contextmanager
def running_at(at: datetime) -> Iterator[datetime]:
    """Writes inside the block are stamped ``at`` (this thread / task only)."""
    if at.tzinfo is None:
        raise ValueError("the system clock needs an aware datetime")
    token = _pinned.set(at)
    try:
        yield at
    finally:
        _pinned.reset(token)

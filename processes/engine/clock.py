"""The engine's clock. Everything time-dependent in the engine (timer due times) reads ``now()``.

``frozen(dt)`` pins the clock for the current context (thread / asyncio task) only, so tests and
``run_timers --at`` can move time without sleeping and without affecting other threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_frozen: ContextVar[datetime | None] = ContextVar("custflow_engine_clock", default=None)


def now() -> datetime:
    """The current time as an aware UTC datetime (the frozen value inside ``frozen``)."""
    value = _frozen.get()
    if value is not None:
        return value
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` converted to UTC; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the engine clock needs an aware datetime (with a time zone)")
    return value.astimezone(UTC)


@contextmanager
def frozen(value: datetime) -> Iterator[datetime]:
    """Pin ``now()`` to ``value`` (aware) inside the block, for this context only."""
    pinned = as_utc(value)
    token = _frozen.set(pinned)
    try:
        yield pinned
    finally:
        _frozen.reset(token)

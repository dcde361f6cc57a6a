"""The transactional outbox: every job published after a commit goes through here.

A write that must be followed by background work (an e-mail, a callback delivery, a batch
print, an import run) calls `outbox_enqueue` inside its transaction: the row commits or rolls
back with the write. After the commit a "kick" tries to publish the row at once; if the broker
is down the kick logs, records the error on the row and returns (it never raises into the
request or the step). The relay (`outbox_relay`, a beat job) publishes every due row with
exponential backoff until the broker takes it: at least once, never lost. Each job is
idempotent on its domain rows, so a row published twice does its work once.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.common.locks import lock_skipping_taken
from backend.common.models import OutboxMessage

logger = logging.getLogger(__name__)

_kicks_suspended: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "custflow_outbox_kicks_suspended", default=False
)


def outbox_enqueue(*, job: Any, args: Sequence[Any] = (), key: str = "", fresh: bool = False) -> OutboxMessage:
    """Write a job row in the caller's transaction and kick it once that commits. `job` is a
    Celery task (or its registered name); `args` must be JSON-able. A non-empty `key` makes the
    row unique: enqueueing the same key again returns the existing row. `fresh`: the key names
    rows this transaction just made, so no row can hold it yet and it is not looked up."""
    name = job if isinstance(job, str) else job.name
    if key and not fresh:
        existing = OutboxMessage.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    now = timezone.now()
    message = OutboxMessage.objects.create(
        job=name, args=list(args), idempotency_key=key, created_at=now, next_attempt_at=now
    )
    transaction.on_commit(partial(outbox_kick, ids=[message.pk]))
    return message


@contextmanager
def outbox_kicks_suspended() -> Iterator[None]:
    """Inside: commits leave their rows for the relay instead of publishing at once (a forked
    step child must not talk to the broker over connections it inherited from its parent)."""
    token = _kicks_suspended.set(True)
    try:
        yield
    finally:
        _kicks_suspended.reset(token)


def outbox_kick(*, ids: list[int]) -> int:
    """Publish these rows now, after their transaction committed. Never raises: a broker that
    is down leaves the rows for the relay."""
    if _kicks_suspended.get():
        return 0
    try:
        return _publish_rows(ids, now=timezone.now())
    except Exception as exc:  # noqa: BLE001 - the request or step already committed
        logger.warning("outbox: kick of rows %s failed, the relay will publish them: %s", ids, _describe(exc))
        return 0


def outbox_relay(*, now: datetime | None = None, limit: int | None = None) -> int:
    """The relay: publish due rows, oldest first; each row is claimed with SKIP LOCKED so any
    number of relays (and kicks) may run at once. Stops at the first publish failure (the
    broker is down: the other rows wait for the next run). Returns how many were published."""
    now = now or timezone.now()
    cfg = settings.CUSTFLOW["OUTBOX"]
    limit = limit or cfg["BATCH"]
    ids = list(
        OutboxMessage.objects.filter(published_at__isnull=True, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    published = _publish_rows(ids, now=now)
    keep = timedelta(days=cfg["KEEP_PUBLISHED_DAYS"])
    OutboxMessage.objects.filter(published_at__lt=now - keep).delete()
    return published


def outbox_pending_count() -> int:
    return OutboxMessage.objects.filter(published_at__isnull=True).count()


def _backoff(attempts: int) -> timedelta:
    cfg = settings.CUSTFLOW["OUTBOX"]
    return timedelta(
        seconds=min(cfg["BACKOFF_SECONDS"] * (2 ** max(attempts - 1, 0)), cfg["MAX_BACKOFF_SECONDS"])
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _publish(message: OutboxMessage, connection: Any) -> None:
    args = message.args if isinstance(message.args, list) else [message.args]
    task = current_app.tasks.get(message.job)
    if task is None:  # a web process has not imported every app's jobs module yet
        current_app.loader.import_default_modules()
        task = current_app.tasks.get(message.job)
    # retry=False: one quick attempt; the outbox itself is the retry, with backoff.
    if task is not None:
        task.apply_async(args=args, retry=False, connection=connection)
    else:
        current_app.send_task(message.job, args=args, retry=False, connection=connection)


@contextmanager
def _broker_connection() -> Iterator[Any]:
    """A pooled broker connection, connected with one attempt: a broker that is down fails the
    publish at once (kombu would otherwise retry for seconds inside the request)."""

    if current_app.conf.task_always_eager:
        yield None
        return
    with current_app.pool.acquire(block=True) as conn:
        conn.ensure_connection(max_retries=0)
        yield conn


def _publish_rows(ids: list[int], *, now: datetime) -> int:
    published = 0
    with ExitStack() as stack:
        broker: list[Any] = []  # connected on the first row that needs it, shared by the rest
        for message_id in ids:
            with transaction.atomic():
                qs = lock_skipping_taken(OutboxMessage.objects.filter(pk=message_id, published_at__isnull=True))
                message = qs.first()
                if message is None:  # published already, or another relay holds it
                    continue
                message.attempts += 1
                try:
                    if not broker:
                        broker.append(stack.enter_context(_broker_connection()))
                    with transaction.atomic():  # an eager job's database error rolls back to here
                        _publish(message, broker[0])
                except Exception as exc:  # noqa: BLE001 - the row stays; the relay retries it
                    message.last_error = _describe(exc)
                    message.next_attempt_at = now + _backoff(message.attempts)
                    message.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                    logger.warning(
                        "outbox: publishing %s (row %s, attempt %s) failed, next try at %s: %s",
                        message.job,
                        message.pk,
                        message.attempts,
                        message.next_attempt_at.isoformat(),
                        message.last_error,
                    )
                    break
                message.published_at = timezone.now()
                message.save(update_fields=["attempts", "published_at"])
                published += 1
    return published

"""The transactional outbox: a row per job in the write's transaction; a relay that publishes at
least once with exponential backoff while the broker is down; a kick that never raises."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from backend.common.models import OutboxMessage
from backend.common.outbox import outbox_enqueue, outbox_kick, outbox_kicks_suspended, outbox_relay
from tests.broker_support import (
    REDIS_URL,
    broker_at,
    broker_down,
    queue_clear,
    requires_redis,
    run_queued_jobs,
)

JOB = "tasks.email_notifications"


def _rows(n: int) -> list[OutboxMessage]:
    with transaction.atomic():
        return [outbox_enqueue(job=JOB, args=[[1000 + i]]) for i in range(n)]


@pytest.mark.django_db
def test_a_rolled_back_write_leaves_no_job():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(job=JOB, args=[[1]])
        raise RuntimeError("the write failed")
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_the_same_key_is_one_job():
    with transaction.atomic():
        first = outbox_enqueue(job=JOB, args=[[1]], key="k:1")
        again = outbox_enqueue(job=JOB, args=[[1]], key="k:1")
    assert first.pk == again.pk and OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_while_the_broker_is_down_the_relay_backs_off_and_loses_nothing(settings):
    cfg = settings.CUSTFLOW["OUTBOX"]
    first, second = _rows(2)
    now = timezone.now()
    with broker_down():
        assert outbox_kick(ids=[first.pk]) == 0  # never raises into its caller
        first.refresh_from_db()
        assert first.attempts == 1 and "111" in first.last_error and first.published_at is None
        # The relay stops at the first failure: the second row waits for the next run.
        assert outbox_relay(now=now) == 0
        second.refresh_from_db()
        assert (second.attempts, second.published_at) == (1, None)
        assert outbox_relay(now=now + timedelta(seconds=1)) == 0  # nothing due yet: no attempt
        first.refresh_from_db()
        assert first.attempts == 1
        # Each failure doubles the wait, up to the cap.
        waits = []
        at = first.next_attempt_at
        for _ in range(12):
            OutboxMessage.objects.filter(pk=second.pk).update(next_attempt_at=at + timedelta(days=1))
            assert outbox_relay(now=at) == 0
            first.refresh_from_db()
            waits.append(round((first.next_attempt_at - at).total_seconds()))
            at = first.next_attempt_at
        assert waits[:3] == [
            cfg["BACKOFF_SECONDS"] * 2,
            cfg["BACKOFF_SECONDS"] * 4,
            cfg["BACKOFF_SECONDS"] * 8,
        ]
        assert waits[-1] == cfg["MAX_BACKOFF_SECONDS"] and waits == sorted(waits)
    assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 2


@requires_redis
@pytest.mark.django_db
def test_once_the_broker_is_back_every_row_is_published_once():
    queue_clear()
    rows = _rows(3)
    with broker_down():
        assert outbox_relay() == 0
    with broker_at(REDIS_URL):
        assert outbox_relay(now=timezone.now() + timedelta(hours=1)) == 3
        assert outbox_relay(now=timezone.now() + timedelta(hours=2)) == 0
        assert run_queued_jobs() == [JOB] * 3
    assert all(r.published_at for r in OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]))


@requires_redis
@pytest.mark.django_db(transaction=True)
def test_a_row_held_by_another_relay_is_skipped_not_waited_for():
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED: PostgreSQL (SQLite serialises writers)")
    queue_clear()
    with outbox_kicks_suspended():  # the commit must not publish them: the relays do
        held, free = _rows(2)
    locked, release = threading.Event(), threading.Event()

    def other_relay():
        from django.db import connections

        try:
            with transaction.atomic():
                OutboxMessage.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(60)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_relay)
    thread.start()
    try:
        assert locked.wait(60)
        with broker_at(REDIS_URL):
            assert outbox_relay() == 1
            assert run_queued_jobs() == [JOB]
    finally:
        release.set()
        thread.join()
    assert list(OutboxMessage.objects.filter(published_at__isnull=True).values_list("pk", flat=True)) == [
        held.pk
    ]
    assert OutboxMessage.objects.get(pk=free.pk).published_at is not None

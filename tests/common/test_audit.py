"""The audit trail is append-only and verifiable: edits and deletions are detected."""

from __future__ import annotations

import pytest

from backend.common.audit import audit_event_record, audit_stream_verify
from backend.common.models import AuditEvent

pytestmark = pytest.mark.django_db


def _stream(n: int = 3) -> list[AuditEvent]:
    return [audit_event_record(actor=None, action=f"demo.step{i}", object_type="demo.thing", object_id=7, data={"i": i}) for i in range(n)]


def test_untouched_stream_verifies():
    events = _stream()
    assert audit_stream_verify(object_type="demo.thing", object_id=7)
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


def test_edited_event_is_detected():
    events = _stream()
    AuditEvent.objects.filter(pk=events[1].pk).update(data={"i": 99})
    assert not audit_stream_verify(object_type="demo.thing", object_id=7)


def test_deleted_event_is_detected():
    events = _stream()
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    assert not audit_stream_verify(object_type="demo.thing", object_id=7)


def test_streams_are_independent():
    _stream()
    audit_event_record(actor=None, action="demo.other", object_type="demo.thing", object_id=8)
    AuditEvent.objects.filter(object_id="8").update(action="demo.forged")
    assert audit_stream_verify(object_type="demo.thing", object_id=7)
    assert not audit_stream_verify(object_type="demo.thing", object_id=8)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_stream_keep_one_chain():
    import threading

    from django.db import connection, transaction

    barrier = threading.Barrier(4)

    def writer(n: int):
        try:
            barrier.wait()
            for i in range(5):
                with transaction.atomic():
                    audit_event_record(actor=None, action=f"demo.w{n}.{i}", object_type="demo.race", object_id=1)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert AuditEvent.objects.filter(object_type="demo.race").count() == 20
    assert audit_stream_verify(object_type="demo.race", object_id=1)

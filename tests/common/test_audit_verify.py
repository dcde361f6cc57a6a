"""manage.py audit_verify: every stream end to end, its tail held by signed checkpoints kept apart
from the table (files under CUSTFLOW["AUDIT"]["CHECKPOINT_DIR"] and the log)."""

from __future__ import annotations

import gzip
import io
import json
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backend.common.audit import audit_event_record
from backend.common.audit_checkpoints import audit_checkpoint_latest
from backend.common.models import AuditEvent

pytestmark = pytest.mark.django_db


def _stream(object_id: int, n: int = 3) -> list[AuditEvent]:
    return [
        audit_event_record(
            actor=None, action=f"demo.step{i}", object_type="demo.thing", object_id=object_id, data={"i": i}
        )
        for i in range(n)
    ]


def verify(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def test_clean_trail_exits_0_and_writes_a_signed_checkpoint(audit_checkpoint_dir, caplog):
    _stream(1)
    _stream(2, n=2)
    with caplog.at_level(logging.INFO, logger="custflow.audit"):
        code, out, _err = verify()
    assert code == 0 and "intact" in out
    checkpoint = audit_checkpoint_latest()
    last = AuditEvent.objects.filter(object_type="demo.thing", object_id="1").order_by("-id").first()
    head = checkpoint.heads[("demo.thing", "1")]
    assert (head.last_id, head.last_hash, head.count) == (last.pk, last.hash, 3)
    assert checkpoint.heads[("demo.thing", "2")].count == 2
    assert checkpoint.path.parent == audit_checkpoint_dir
    # The log holds the second copy: the file's digest and signature.
    assert any(
        checkpoint.path.name in r.getMessage() and "signature" in r.getMessage() for r in caplog.records
    )


def test_empty_database_exits_0():
    assert verify()[0] == 0


def test_deleting_the_newest_event_of_a_stream_is_detected_against_the_checkpoint():
    _stream(1)
    events = _stream(2)
    assert verify()[0] == 0
    AuditEvent.objects.filter(pk=events[-1].pk).delete()  # the chain of stream 2 still verifies
    code, _out, err = verify()
    assert code != 0
    assert "demo.thing:2" in err and "missing_tail" in err and "demo.thing:1" not in err
    # Nothing blesses the truncated stream: the next run still fails.
    assert verify()[0] != 0


def test_deleting_a_whole_stream_is_detected():
    _stream(1)
    _stream(2)
    assert verify()[0] == 0
    AuditEvent.objects.filter(object_type="demo.thing", object_id="2").delete()
    code, _out, err = verify()
    assert code != 0 and "demo.thing:2" in err


def test_an_edited_middle_event_is_detected_without_any_checkpoint():
    _stream(1)
    events = _stream(2)
    AuditEvent.objects.filter(pk=events[1].pk).update(data={"i": 99})
    code, _out, err = verify("--no-checkpoint")
    assert code != 0 and "demo.thing:2" in err and "edited" in err and "demo.thing:1" not in err


def test_a_gap_is_detected():
    events = _stream(3, n=4)
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    code, _out, err = verify()
    assert code != 0 and "demo.thing:3" in err and "gap" in err
    assert audit_checkpoint_latest() is None  # a failed run writes no checkpoint


def test_deleting_the_first_event_is_a_gap():
    events = _stream(4)
    AuditEvent.objects.filter(pk=events[0].pk).delete()
    code, _out, err = verify()
    assert code != 0 and "demo.thing:4" in err


def test_a_rewritten_head_is_detected():
    events = _stream(5)
    assert verify()[0] == 0
    AuditEvent.objects.filter(pk=events[-1].pk).update(hash="0" * 64)
    code, _out, err = verify()
    assert code != 0 and "demo.thing:5" in err


def test_a_forged_checkpoint_is_refused(audit_checkpoint_dir):
    events = _stream(6)
    assert verify()[0] == 0
    # The operator deletes the newest event and rewrites the checkpoint to match, without the key.
    AuditEvent.objects.filter(pk=events[-1].pk).delete()
    path = audit_checkpoint_latest().path
    body = json.loads(gzip.decompress(path.read_bytes()))
    body["streams"] = [
        [t, i, events[-2].pk, events[-2].hash, 2] if (t, i) == ("demo.thing", "6") else [t, i, a, h, n]
        for t, i, a, h, n in body["streams"]
    ]
    path.write_bytes(gzip.compress(json.dumps(body).encode()))
    code, _out, err = verify()
    assert code != 0 and "signature" in err


def test_events_after_the_checkpoint_are_fine_and_the_next_checkpoint_moves_on():
    _stream(7)
    assert verify()[0] == 0
    audit_event_record(actor=None, action="demo.later", object_type="demo.thing", object_id=7)
    _stream(8)
    assert verify()[0] == 0
    assert audit_checkpoint_latest().heads[("demo.thing", "7")].count == 4


def test_the_beat_job_checkpoints_and_logs_problems(caplog):
    from backend.common.jobs import audit_checkpoint

    events = _stream(9)
    assert audit_checkpoint()["ok"] is True
    AuditEvent.objects.filter(pk=events[-1].pk).delete()
    with caplog.at_level(logging.ERROR, logger="custflow.audit"):
        result = audit_checkpoint()
    assert result["ok"] is False and any("demo.thing:9" in p for p in result["problems"])
    assert any("demo.thing:9" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


def test_beat_schedules_the_checkpoint_job():
    from django.conf import settings

    assert any(entry["task"] == "common.audit_checkpoint" for entry in settings.CELERY_BEAT_SCHEDULE.values())

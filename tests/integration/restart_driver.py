"""Drives a private custflow database from a subprocess (run with its DATABASE_URL), for
tests/integration/test_restarts.py. Prints one JSON object per line.

  load N        submit N advanced openings and approve the review of every second one at once
                (while the others' review deadlines come due), like a client: a request that
                failed on a dropped connection is retried on a fresh one. Each outcome is a line.
  batches N     submit and approve N openings, then request N one-card print batches (jobs queued)
  check         the invariants after the faults, as one JSON object
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from tests.factories import opening_payload, resident_id  # noqa: E402

setup_test_environment()  # the test client's host and the locmem mail backend


def emit(**kw):
    print(json.dumps({"t": time.time(), **kw}), flush=True)


def call(fn, what: str, retry_for: float = 60.0):
    """fn() → response; on a dropped database connection, a fresh connection and again."""
    deadline = time.monotonic() + retry_for
    errors = 0
    while True:
        try:
            resp = fn()
        except Exception as exc:  # noqa: BLE001 - OperationalError/InterfaceError from a restarted server
            errors += 1
            emit(error=what, kind=type(exc).__name__)
            connections.close_all()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        # "Nothing was saved, retry later" (503) and "too many requests" (429): a client retries.
        if getattr(resp, "status_code", None) in (429, 503) and time.monotonic() < deadline:
            errors += 1
            emit(error=what, kind=f"http {resp.status_code}", body=resp.content[:300].decode("utf-8", "replace"))
            connections.close_all()
            time.sleep(0.5)
            continue
        return resp, errors


def client(username: str) -> APIClient:
    c = APIClient()
    resp, _ = call(lambda: c.post("/api/auth/token/", {"username": username, "password": "demo-pass-2026"}, format="json"), "token")
    assert resp.status_code == 200, resp.content
    c.credentials(HTTP_AUTHORIZATION=f"Token {resp.json()['token']}")
    return c


def submit(collector: APIClient, serial: int):
    payload = lambda: opening_payload("advanced", id_number=resident_id(birth=date(1960, 1 + serial % 12, 1 + serial % 28), serial=serial),  # noqa: E731
                                      phone=f"139{serial:08d}")
    resp, errors = call(lambda: collector.post("/api/account-openings/", payload(), format="multipart"), "submit")
    return resp, errors


def review_task(reviewer: APIClient, case_id):
    resp, _ = call(lambda: reviewer.get("/api/tasks/", {"page_size": 200}), "inbox")
    return next((t for t in resp.json()["results"] if t["case_id"] == case_id and t["step"] == "review"), None)


def load(n: int, base: int):
    # An officer's own advanced opening goes straight to review (a collector's waits for an officer).
    collector, reviewer = client("officer.sz"), client("reviewer.sz")
    for i in range(n):
        resp, errors = submit(collector, base + i)
        case = resp.json().get("id") if resp.status_code == 201 else None
        committed_before_drop = False
        if errors and resp.status_code == 409 and resp.json().get("code") == "duplicate_customer":
            # The first try committed and the connection dropped before its answer reached the
            # client (the outcome of a COMMIT cut mid-way is unknowable to the client); the retry
            # is refused as a duplicate and names the customer the first try created.
            case = _opening_of(resp.json()["customer_id"])
            committed_before_drop = case is not None
        body = "" if resp.status_code == 201 else resp.content[:300].decode("utf-8", "replace")
        emit(op="submit", status=resp.status_code, case=case, retried=errors, committed_before_drop=committed_before_drop, body=body)
        if case is None or i % 2:
            continue
        task = review_task(reviewer, case)
        if task is None:  # its deadline already fired
            emit(op="complete", status=None, case=case)
            continue
        done, errors = call(lambda task=task: reviewer.post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json"), "complete")
        emit(op="complete", status=done.status_code, task=task["id"], case=case, retried=errors)


def _opening_of(customer_id):
    from backend.customers.models import AccountOpening

    found, _ = call(lambda: list(AccountOpening.objects.filter(customer_id=customer_id).values_list("pk", flat=True)), "lookup")
    return found[0] if len(found) == 1 else None


def batches(n: int, base: int):
    # An officer's own advanced opening goes straight to review (a collector's waits for an officer).
    collector, reviewer = client("officer.sz"), client("reviewer.sz")
    for i in range(n):
        resp, _ = submit(collector, base + i)
        assert resp.status_code == 201, resp.content
        task = review_task(reviewer, resp.json()["id"])
        done, _ = call(lambda task=task: reviewer.post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json"), "complete")
        assert done.status_code == 200, done.content
        batch, _ = call(lambda resp=resp: reviewer.post("/api/print-batches/", {"customer_ids": [resp.json()["customer_id"]],
                                                                          "reason": "重启演练"}, format="json"), "batch")
        assert batch.status_code in (200, 201, 202), batch.content
        emit(op="batch", id=batch.json()["id"])


def check():
    from django.utils import timezone

    from backend.common.audit import audit_stream_verify
    from backend.common.models import AuditEvent
    from backend.customers.models import AccountOpening, PrintBatch
    from processes.models import Timer
    from tasks.models import HumanTask

    fired = Counter(AuditEvent.objects.filter(action="timer.fired").values_list("process_instance_id", flat=True))
    escalated = Counter(AuditEvent.objects.filter(action="task.escalated").values_list("process_instance_id", flat=True))
    completed = Counter(str(a) for a in AuditEvent.objects.filter(action="task.completed").values_list("object_id", flat=True))
    ready = Counter(HumanTask.objects.filter(status="ready").values_list("instance_id", flat=True))
    # Each FIRED timer row is named (by its engine task id) in exactly one timer.fired event of
    # its instance; one event may name several timers of the instance that were due together.
    named = Counter(
        (iid, fid) for iid, data in AuditEvent.objects.filter(action="timer.fired").values_list("process_instance_id", "data")
        for fid in data.get("fired", [])
    )
    rows = set(Timer.objects.filter(status="fired").values_list("instance_id", "engine_task_id"))
    timer_event_mismatch = [f"{i}:{t}" for i, t in rows if named[(i, t)] != 1] + [f"{i}:{t}" for (i, t) in named if (i, t) not in rows]
    streams = set(AuditEvent.objects.values_list("object_type", "object_id").distinct())
    broken = [f"{t}:{o}" for t, o in streams if not audit_stream_verify(object_type=t, object_id=o)]
    print(json.dumps({
        "timers": dict(Counter(Timer.objects.values_list("status", flat=True))),
        "overdue_pending": Timer.objects.filter(status="pending", due_at__lte=timezone.now()).count(),
        "fired_timers": Timer.objects.filter(status="fired").count(),
        "openings": AccountOpening.objects.count(),
        "openings_per_id_number": max(Counter(AccountOpening.objects.values_list("customer__id_number", flat=True)).values(), default=0),
        "timer_fired_events": sum(fired.values()),
        "timers_fired_not_exactly_once": timer_event_mismatch,
        "timers_named_in_events": sum(named.values()),
        "instances_escalated_twice": [str(k) for k, v in escalated.items() if v > 1],
        "instances_with_two_ready_tasks": [str(k) for k, v in ready.items() if v > 1],
        "completed_tasks": [str(pk) for pk in HumanTask.objects.filter(status="completed").values_list("pk", flat=True)],
        "completed_events": {k: v for k, v in completed.items()},
        "review_ready_but_timer_fired": HumanTask.objects.filter(step="review", status="ready", instance__timers__status="fired").count(),
        "running_without_ready_task": [str(pk) for pk in _running_without_work()],
        "audit_streams": len(streams),
        "audit_broken": broken,
        "batches": dict(Counter(PrintBatch.objects.values_list("status", flat=True))),
        "batch_done": {str(b.pk): [b.status, b.done, b.total, str(b.document_id)] for b in PrintBatch.objects.all()},
    }))


def _running_without_work():
    """Instances still running with neither a ready human task nor a pending timer: stuck."""
    from processes.models import ProcessInstance

    return (ProcessInstance.objects.filter(status="running").exclude(human_tasks__status="ready").exclude(timers__status="pending")
            .values_list("pk", flat=True))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "load":
        load(int(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "batches":
        batches(int(sys.argv[2]), int(sys.argv[3]))
    else:
        check()

"""R1: races on PostgreSQL with real threads, each on its own database connection.

- N tasks, each completed twice at the same instant (N = 50 in CI, 1,000 with CUSTFLOW_SLOW=1);
- a claim racing a completion by another reviewer on the same task;
- a timer sweep firing the review deadline while the reviewer completes the same task.

Each race ends in exactly one outcome, one audit trail (one completion or escalation event, an
intact hash chain per instance), and no orphan rows (no ready task or pending timer left on a
finished instance, at most one ready task per running instance).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from backend.common.audit import audit_stream_verify
from backend.common.exceptions import ApplicationError
from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from processes.models import InstanceStatus, ProcessInstance, Timer
from processes.services import timer_fire, timer_fire_next
from tasks.models import HumanTask
from tasks.services import task_claim, task_complete
from tests.factories import resident_id

SLOW = os.environ.get("CUSTFLOW_SLOW") == "1"
N = int(os.environ.get("CUSTFLOW_RACE_N", "1000" if SLOW else "50"))
PAIRS_AT_ONCE = 8  # 16 threads → 16 connections

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("races"),
    pytest.mark.skipif("os.environ.get('DATABASE_URL', '').startswith('sqlite') or not os.environ.get('DATABASE_URL')",
                       reason="races need PostgreSQL row locks (SQLite serialises every write)"),
]


def _open_reviews(submit, n: int) -> list[int]:
    first = date(1940, 1, 1)
    for i in range(n):
        resp = submit("advanced", id_number=resident_id(birth=first + timedelta(days=i), serial=i))
        assert resp.status_code == 201, resp.content
    ids = list(HumanTask.objects.filter(step="review", status="ready").values_list("id", flat=True))
    assert len(ids) == n
    return ids


def _race(*calls) -> list[str]:
    """Run the calls at the same instant, each in its own thread and connection; their outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def run(i, fn):
        try:
            barrier.wait()
            outcomes[i] = fn() or "ok"
        except ApplicationError as exc:
            outcomes[i] = f"{exc.status_code}"
        except BaseException as exc:  # anything else is a failure of the test
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return outcomes


def _assert_no_orphans():
    finished = ProcessInstance.objects.exclude(status=InstanceStatus.RUNNING)
    assert not HumanTask.objects.filter(instance__in=finished, status="ready").exists()
    assert not Timer.objects.filter(instance__in=finished, status="pending").exists()
    per_instance = Counter(HumanTask.objects.filter(status="ready").values_list("instance_id", flat=True))
    assert all(count == 1 for count in per_instance.values()), per_instance.most_common(3)
    per_timer = Counter(Timer.objects.filter(status="pending").values_list("instance_id", "engine_task_id"))
    assert all(count == 1 for count in per_timer.values())


def _assert_trails_intact(instance_ids):
    for instance_id in instance_ids:
        for object_type, object_id in set(
            AuditEvent.objects.filter(process_instance_id=instance_id).values_list("object_type", "object_id")
        ):
            assert audit_stream_verify(object_type=object_type, object_id=object_id), (object_type, object_id)


@pytest.fixture
def second_reviewer(users):
    user = user_ensure(username="reviewer2.sz", password="demo-pass-2026")
    role_assign(user=user, role=Role.REVIEWER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    return user


def test_double_completions_one_outcome_each(submit, users, second_reviewer):
    task_ids = _open_reviews(submit, N)
    reviewers = [users["reviewer.sz"], second_reviewer]

    def pair(task_id):
        decisions = ["approve", "reject"] if task_id % 2 else ["approve", "approve"]
        return task_id, _race(*[
            (lambda r=r, d=d: task_complete(actor=r, task_id=task_id, data={"decision": d, "comment": "并发"}) and None)
            for r, d in zip(reviewers, decisions, strict=True)
        ])

    with ThreadPoolExecutor(PAIRS_AT_ONCE) as pool:
        results = dict(pool.map(pair, task_ids))
    bad = {t: o for t, o in results.items() if sorted(o) != ["409", "ok"]}
    assert bad == {}, list(bad.items())[:5]
    completed = Counter(AuditEvent.objects.filter(action="task.completed").values_list("task_id", flat=True))
    assert {t: completed[t] for t in task_ids} == dict.fromkeys(task_ids, 1)
    tasks = HumanTask.objects.filter(pk__in=task_ids)
    assert all(t.status == "completed" and t.completed_by_id in {r.pk for r in reviewers} for t in tasks)
    instances = list(tasks.values_list("instance_id", flat=True))
    assert ProcessInstance.objects.filter(pk__in=instances, status=InstanceStatus.RUNNING).count() == 0
    _assert_no_orphans()
    _assert_trails_intact(instances[:50])


def test_claim_racing_completion(submit, users, second_reviewer):
    task_ids = _open_reviews(submit, min(N, 50))
    claimer, completer = users["reviewer.sz"], second_reviewer
    winners = Counter()
    for task_id in task_ids:
        claim, complete = _race(
            lambda t=task_id: task_claim(actor=claimer, task_id=t) and None,
            lambda t=task_id: task_complete(actor=completer, task_id=t, data={"decision": "approve"}) and None,
        )
        assert sorted([claim, complete]).count("ok") == 1, (claim, complete)
        task = HumanTask.objects.get(pk=task_id)
        if claim == "ok":
            winners["claim"] += 1
            assert complete in ("403", "409") and task.status == "ready" and task.assignee_id == claimer.pk
            assert not AuditEvent.objects.filter(action="task.completed", task_id=task_id).exists()
        else:
            winners["complete"] += 1
            assert claim == "409" and task.status == "completed" and task.completed_by_id == completer.pk
            assert AuditEvent.objects.filter(action="task.completed", task_id=task_id).count() == 1
    assert sum(winners.values()) == len(task_ids)
    print("claim vs completion winners:", dict(winners))
    _assert_no_orphans()


def test_timer_firing_while_reviewer_completes(submit, users, settings):
    settings.CUSTFLOW = {**settings.CUSTFLOW, "DEADLINES": {"review": "PT1S"}}
    task_ids = _open_reviews(submit, min(N, 30))
    reviewer = users["reviewer.sz"]
    later = timezone.now() + timedelta(seconds=5)

    def sweep(task_id):
        instance_id = HumanTask.objects.get(pk=task_id).instance_id
        timer_ids = list(Timer.objects.filter(instance_id=instance_id, status="pending").values_list("id", flat=True))
        assert timer_ids

        others = set(Timer.objects.filter(status="pending").exclude(instance_id=instance_id).values_list("id", flat=True))

        def fire():
            # A sweep skips an instance another step holds; the next sweep retries it. Odd tasks
            # go through the sweep's own path (claim the next free instance), even ones through
            # firing one given timer.
            for _ in range(200):
                if not Timer.objects.filter(pk__in=timer_ids, status="pending").exists():
                    return "ok"
                if task_id % 2:
                    timer_fire_next(now=later, exclude=others, picked=[])
                else:
                    timer_fire(timer_id=timer_ids[0], now=later)
            return "stuck"

        return fire

    outcomes = Counter()
    for task_id in task_ids:
        fired, completed = _race(
            sweep(task_id),
            lambda t=task_id: task_complete(actor=reviewer, task_id=t, data={"decision": "approve"}) and None,
        )
        assert fired == "ok", fired
        task = HumanTask.objects.get(pk=task_id)
        escalations = AuditEvent.objects.filter(action="task.escalated", task_id=task_id).count()
        completions = AuditEvent.objects.filter(action="task.completed", task_id=task_id).count()
        if completed == "ok":
            outcomes["completed"] += 1
            assert (task.status, escalations, completions) == ("completed", 0, 1)
            assert not HumanTask.objects.filter(instance_id=task.instance_id, step="province_review").exists()
        else:
            outcomes["escalated"] += 1
            assert completed == "409", completed
            assert (task.status, task.outcome, escalations, completions) == ("cancelled", "escalated", 1, 0)
            assert HumanTask.objects.filter(instance_id=task.instance_id, step="province_review", status="ready").count() == 1
        assert Timer.objects.filter(instance_id=task.instance_id, spec="review_deadline", status="fired").count() == (
            0 if completed == "ok" else 1
        )
    assert sum(outcomes.values()) == len(task_ids)
    print("timer vs completion outcomes:", dict(outcomes))
    _assert_no_orphans()

"""Two concurrent completions of one task: exactly one wins, the other gets 409, one audit row."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from backend.common.exceptions import Conflict
from backend.common.models import AuditEvent
from backend.customers.models import Customer
from tasks.models import HumanTask
from tasks.services import task_complete


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("decisions", [("approve", "approve"), ("approve", "reject")])
def test_double_completion_one_wins(submit, users, decisions):
    assert submit("advanced").status_code == 201
    task = HumanTask.objects.get(step="review")
    reviewer = users["reviewer.sz"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(decision: str):
        try:
            barrier.wait()
            task_complete(actor=reviewer, task_id=task.pk, data={"decision": decision, "comment": "并发"})
            outcomes.append("ok")
        except Conflict:
            outcomes.append("409")
        except BaseException as exc:  # any other outcome fails the test below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(d,)) for d in decisions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["409", "ok"]
    # One completion of the review (the officer's confirmation before it is its own step).
    assert AuditEvent.objects.filter(action="task.completed", object_id=str(task.pk)).count() == 1
    assert HumanTask.objects.filter(status="ready").count() == 0
    assert Customer.objects.get().status in {"active", "rejected"}
    assert HumanTask.objects.filter(step="review").count() == 1

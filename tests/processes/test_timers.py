"""Deadline timers: a reminder before the deadline, escalation to the province after it,
each exactly once — also with two sweepers at the same time."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from backend.common.models import AuditEvent
from backend.customers.models import Customer
from processes.models import Timer
from processes.sweep import timers_sweep
from tasks.models import HumanTask, Notification
from tests.conftest import inbox


def _advanced(submit):
    resp = submit("advanced")
    assert resp.status_code == 201, resp.content
    return resp.json()


def _review():
    return HumanTask.objects.get(step="review")


@pytest.mark.django_db
def test_review_deadline_is_48h_by_default_with_two_timers(submit):
    _advanced(submit)
    task = _review()
    timers = {t.spec: t for t in Timer.objects.filter(status="pending")}
    assert set(timers) == {"review_reminder", "review_deadline"}
    created = task.created_at
    assert abs((timers["review_deadline"].due_at - created) - timedelta(hours=48)) < timedelta(seconds=5)
    assert abs((timers["review_reminder"].due_at - created) - timedelta(hours=36)) < timedelta(seconds=5)
    assert task.due_at == timers["review_deadline"].due_at


@pytest.mark.django_db
def test_deadline_is_a_setting(submit, settings):
    settings.CUSTFLOW = {**settings.CUSTFLOW, "DEADLINES": {"review": "PT2H"}}
    _advanced(submit)
    task = _review()
    assert abs((task.due_at - task.created_at) - timedelta(hours=2)) < timedelta(seconds=5)


@pytest.mark.django_db
def test_reminder_goes_to_assignee_once_and_task_stays(submit, api, users):
    _advanced(submit)
    task = _review()
    api("reviewer.sz").post(f"/api/tasks/{task.pk}/claim/")
    at = task.created_at + timedelta(hours=37)
    call_command("run_timers", "--at", at.isoformat(), stdout=open("/dev/null", "w"))
    call_command("run_timers", "--at", (at + timedelta(minutes=5)).isoformat(), stdout=open("/dev/null", "w"))
    reminders = Notification.objects.filter(kind="reminder")
    assert [n.user.username for n in reminders] == ["reviewer.sz"]
    assert AuditEvent.objects.filter(action="task.reminded").count() == 1
    task.refresh_from_db()
    assert task.status == "ready"
    assert Timer.objects.get(spec="review_reminder").status == "fired"


@pytest.mark.django_db
def test_nothing_fires_before_due(submit):
    _advanced(submit)
    task = _review()
    assert timers_sweep(now=task.created_at + timedelta(hours=35)) == 0
    assert Timer.objects.filter(status="pending").count() == 2


@pytest.mark.django_db
def test_deadline_escalates_to_province_once(submit, api):
    body = _advanced(submit)
    task = _review()
    at = task.created_at + timedelta(hours=49)
    assert timers_sweep(now=at) == 2  # the reminder (overdue too) and the deadline
    assert timers_sweep(now=at + timedelta(hours=1)) == 0
    task.refresh_from_db()
    assert task.status == "cancelled" and task.outcome == "escalated"
    assert AuditEvent.objects.filter(action="task.escalated").count() == 1
    assert inbox(api("reviewer.sz")) == []
    province = inbox(api("reviewer.gd"))
    assert [(t["step"], t["org_unit"]) for t in province] == [("province_review", "GD")]
    resp = api("reviewer.gd").post(f"/api/tasks/{province[0]['id']}/complete/", {"decision": "approve"}, format="json")
    assert resp.status_code == 200, resp.content
    assert Customer.objects.get(pk=body["customer_id"]).status == "active"
    # The escalated city task can no longer be completed.
    late = api("reviewer.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json")
    assert late.status_code == 409


@pytest.mark.django_db
def test_completed_review_cancels_its_timers(submit, api):
    _advanced(submit)
    task = _review()
    api("reviewer.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json")
    assert set(Timer.objects.values_list("status", flat=True)) == {"cancelled"}
    assert timers_sweep(now=task.created_at + timedelta(days=10)) == 0
    assert AuditEvent.objects.filter(action="task.escalated").count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_escalate_exactly_once(submit):
    for _ in range(3):
        _advanced(submit)
    at = HumanTask.objects.order_by("-created_at").first().created_at + timedelta(hours=49)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def sweeper():
        try:
            barrier.wait()
            results.append(timers_sweep(now=at))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    # Whatever one sweeper skipped (locked instance) the next sweep fires: still once each.
    timers_sweep(now=at)
    assert AuditEvent.objects.filter(action="task.escalated").count() == 3
    assert AuditEvent.objects.filter(action="task.reminded").count() == 3
    assert HumanTask.objects.filter(step="province_review").count() == 3
    assert Timer.objects.filter(status="fired").count() == 6
    assert sum(results) <= 6

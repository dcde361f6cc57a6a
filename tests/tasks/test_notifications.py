"""新任务 and 超时上报 notifications, and their e-mails (sent once, by a job after commit)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from processes.models import Timer
from processes.sweep import timers_sweep
from tasks.models import HumanTask, Notification
from tasks.notifications import notifications_email

pytestmark = pytest.mark.django_db


def test_a_new_review_notifies_its_candidates_and_emails_them(submit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as scheduled:
        assert submit("advanced").status_code == 201
    assert scheduled, "the e-mail job is queued once the step commits"
    task = HumanTask.objects.get(step="review", status="ready")
    notes = Notification.objects.filter(kind="new_task", task=task)
    assert [n.user.username for n in notes] == ["reviewer.sz"]
    assert notes[0].message == "新任务:客户信息审核"
    # What the job does (run here in-process; the worker runs the same function).
    assert notifications_email(ids=[n.pk for n in notes]) == 1
    assert [m.to for m in mail.outbox] == [["reviewer.sz@demo.custflow.example"]]
    assert f"/tasks/{task.pk}/" in mail.outbox[0].body and "新任务" in mail.outbox[0].subject
    assert Notification.objects.get(pk=notes[0].pk).emailed_at is not None
    # The job is idempotent: a re-run (a redelivered job) sends nothing again.
    assert notifications_email(ids=[n.pk for n in notes]) == 0
    assert len(mail.outbox) == 1


def test_escalation_notifies_the_province_as_an_escalation(submit):
    submit("advanced")
    deadline = Timer.objects.get(spec="review_deadline", status="pending")
    timers_sweep(now=deadline.due_at + timedelta(seconds=1))
    province = HumanTask.objects.get(step="province_review", status="ready")
    assert [(n.user.username, n.kind) for n in Notification.objects.filter(task=province)] == [("reviewer.gd", "escalation")]


def test_users_without_an_address_get_no_mail(submit, users, django_capture_on_commit_callbacks):
    users["reviewer.sz"].email = ""
    users["reviewer.sz"].save(update_fields=["email"])
    submit("advanced")
    # The officer's step (issue 16 item 4) notified officer.sz; the review notified reviewer.sz only.
    assert sorted(Notification.objects.filter(kind="new_task").values_list("user__username", flat=True)) == ["officer.sz", "reviewer.sz"]
    notes = Notification.objects.filter(kind="new_task", user__username="reviewer.sz")
    assert notes.count() == 1
    assert notifications_email(ids=[n.pk for n in notes]) == 0
    assert mail.outbox == []

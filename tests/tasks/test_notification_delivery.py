"""Notifications through the real flow: new task, reminder, escalation, copy and return arrive in
the bell and by e-mail (the outbox job, after commit) with an absolute link to the task; the
user's preference sends them immediately, in one daily digest (idempotent) or not at all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from processes.models import Timer
from tasks.digest import notifications_digest_send
from tasks.models import HumanTask, Notification, NotificationDigest
from tasks.notifications import notification_preference_set, notifications_email, notifications_email_resend

pytestmark = pytest.mark.django_db
SITE = "https://custflow.example.test"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.CUSTFLOW = {**settings.CUSTFLOW, "SITE_URL": SITE}


@pytest.fixture
def login_client(users):
    def _login(username: str) -> Client:
        client = Client()
        assert client.login(username=username, password="demo-pass-2026")
        return client

    return _login


def _run_timers_at(at) -> None:
    call_command("run_timers", at=at.isoformat(), stdout=open("/dev/null", "w"))


def _mails_to(username: str) -> list:
    return [m for m in mail.outbox if m.to == [f"{username}@demo.custflow.example"]]


def _opened(submit, capture):
    with capture(execute=True):
        assert submit("advanced").status_code == 201
    return HumanTask.objects.get(step="review", status="ready")


def _new_task(submit, api, capture):
    return _opened(submit, capture), "reviewer.sz"


def _reminder(submit, api, capture):
    review = _opened(submit, capture)
    mail.outbox.clear()
    at = Timer.objects.get(spec="review_reminder", status="pending").due_at + timedelta(minutes=1)
    with capture(execute=True):
        _run_timers_at(at)
    return review, "reviewer.sz"


def _escalation(submit, api, capture):
    _opened(submit, capture)
    mail.outbox.clear()
    at = Timer.objects.get(spec="review_deadline", status="pending").due_at + timedelta(minutes=1)
    with capture(execute=True):
        _run_timers_at(at)
    return HumanTask.objects.get(step="province_review", status="ready"), "reviewer.gd"


def _copy(submit, api, capture):
    review = _opened(submit, capture)
    mail.outbox.clear()
    with capture(execute=True):
        resp = api("reviewer.sz").post(
            f"/api/tasks/{review.pk}/copy/", {"to": ["officer.sz"], "note": "请知悉"}, format="json"
        )
    assert resp.status_code in (200, 201), resp.content
    return review, "officer.sz"


def _return(submit, api, capture):
    review = _opened(submit, capture)
    reviewer = api("reviewer.sz")
    assert (
        reviewer.post(
            f"/api/tasks/{review.pk}/complete/", {"decision": "return", "comment": "补充地址"}, format="json"
        ).status_code
        == 200
    )
    fix = HumanTask.objects.get(step="fix_submission", status="ready")
    done = api("collector.sz").post(
        f"/api/tasks/{fix.pk}/complete/", {"address": "深圳市南山区 9 号", "comment": "已补充"}, format="json"
    )
    assert done.status_code == 200
    # The collector's fix passes the officer's step again before the review (issue 16 item 4).
    officer_check = HumanTask.objects.get(step="officer_check", status="ready")
    confirmed = api("officer.sz").post(
        f"/api/tasks/{officer_check.pk}/complete/", {"decision": "confirm"}, format="json"
    )
    assert confirmed.status_code == 200, confirmed.content
    again = HumanTask.objects.get(step="review", status="ready")
    targets = reviewer.get(f"/api/tasks/{again.pk}/return-targets/").json()
    target = next(t["task_id"] for t in targets if t["step"] == "fix_submission")
    mail.outbox.clear()
    with capture(execute=True):
        resp = reviewer.post(
            f"/api/tasks/{again.pk}/return/", {"target": target, "reason": "扫描件不清晰"}, format="json"
        )
    assert resp.status_code == 200, resp.content
    return HumanTask.objects.get(pk=resp.json()["id"]), "collector.sz"


FLOWS = {
    "new_task": _new_task,
    "reminder": _reminder,
    "escalation": _escalation,
    "copy": _copy,
    "return": _return,
}


@pytest.mark.parametrize("kind", list(FLOWS))
def test_each_kind_arrives_in_the_bell_and_by_email_with_a_link_to_the_task(
    kind, submit, api, login_client, django_capture_on_commit_callbacks
):
    task, username = FLOWS[kind](submit, api, django_capture_on_commit_callbacks)
    note = Notification.objects.filter(kind=kind, task=task, user__username=username).get()
    bell = login_client(username).get("/notifications/")
    assert f'href="/tasks/{task.pk}/"' in bell.content.decode() and note.message in bell.content.decode()
    # The e-mail job after commit: in-process here (eager, it has already run and this sends
    # nothing again); with a real broker the worker runs this same function.
    notifications_email(ids=[note.pk])
    [email] = [m for m in _mails_to(username) if note.get_kind_display() in m.subject]
    assert f"{SITE}/tasks/{task.pk}/" in email.body and note.message in email.body
    assert Notification.objects.get(pk=note.pk).emailed_at is not None


def test_a_digest_user_gets_one_email_a_day_listing_the_days_notifications(
    submit, api, users, django_capture_on_commit_callbacks
):
    notification_preference_set(actor=users["reviewer.sz"], email="digest")
    review = _opened(submit, django_capture_on_commit_callbacks)
    reminder_at = Timer.objects.get(spec="review_reminder", status="pending").due_at + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        _run_timers_at(reminder_at)
    assert _mails_to("reviewer.sz") == []  # no e-mail per notification
    assert Notification.objects.filter(user__username="reviewer.sz", emailed_at__isnull=True).count() == 2
    assert notifications_digest_send(now=reminder_at + timedelta(minutes=5)) == 1
    [digest] = _mails_to("reviewer.sz")
    assert "每日通知汇总" in digest.subject and "2 条" in digest.subject
    assert (
        digest.body.count(f"{SITE}/tasks/{review.pk}/") == 2
        and "[新任务]" in digest.body
        and "[催办提醒]" in digest.body
    )
    assert NotificationDigest.objects.get(user__username="reviewer.sz").count == 2
    # Idempotent: the job run again the same day sends nothing, and the resend sweep leaves it.
    assert notifications_digest_send(now=reminder_at + timedelta(minutes=6)) == 0
    notifications_email_resend(now=reminder_at + timedelta(minutes=30))
    assert len(_mails_to("reviewer.sz")) == 1


def test_a_user_who_chose_no_email_gets_notifications_only_in_the_bell(
    submit, users, django_capture_on_commit_callbacks
):
    notification_preference_set(actor=users["reviewer.sz"], email="none")
    review = _opened(submit, django_capture_on_commit_callbacks)
    assert Notification.objects.filter(task=review, user__username="reviewer.sz").exists()
    assert _mails_to("reviewer.sz") == []
    assert notifications_digest_send() == 0


def test_the_preferences_page_saves_a_choice_and_refuses_a_bad_one(login_client, users):
    client = login_client("reviewer.sz")
    page = client.get("/notifications/preferences/")
    assert page.status_code == 200 and 'value="immediate" checked' in page.content.decode()
    assert client.post("/notifications/preferences/", {"email": "digest"}).status_code == 302
    assert 'value="digest" checked' in client.get("/notifications/preferences/").content.decode()
    bad = client.post("/notifications/preferences/", {"email": "hourly"})
    assert bad.status_code == 400 and "请选择邮件通知方式" in bad.content.decode()
    assert users["reviewer.sz"].notification_preference.email == "digest"


def test_a_return_notifies_the_one_it_goes_back_to_once_as_a_return(
    submit, api, django_capture_on_commit_callbacks
):
    # The review form's 退回修改 and the 退回 action: each is one 退回 notice, not also a 新任务.
    review = _opened(submit, django_capture_on_commit_callbacks)
    reviewer = api("reviewer.sz")
    done = reviewer.post(
        f"/api/tasks/{review.pk}/complete/", {"decision": "return", "comment": "补充地址"}, format="json"
    )
    assert done.status_code == 200
    fix = HumanTask.objects.get(step="fix_submission", status="ready")
    assert [(n.kind, n.message) for n in Notification.objects.filter(task=fix)] == [
        ("return", "深圳审核岗 将“修改并重新提交”退回给您:补充地址")
    ]
    fixed = {"address": "深圳市南山区 9 号", "comment": "已补充"}
    assert api("collector.sz").post(f"/api/tasks/{fix.pk}/complete/", fixed, format="json").status_code == 200
    # The collector's fix passes the officer's step again before the review (issue 16 item 4).
    officer_check = HumanTask.objects.get(step="officer_check", status="ready")
    confirmed = api("officer.sz").post(
        f"/api/tasks/{officer_check.pk}/complete/", {"decision": "confirm"}, format="json"
    )
    assert confirmed.status_code == 200, confirmed.content
    again = HumanTask.objects.get(step="review", status="ready")
    targets = reviewer.get(f"/api/tasks/{again.pk}/return-targets/").json()
    target = next(t["task_id"] for t in targets if t["step"] == "fix_submission")
    resp = reviewer.post(
        f"/api/tasks/{again.pk}/return/", {"target": target, "reason": "扫描件不清晰"}, format="json"
    )
    assert resp.status_code == 200, resp.content
    new = HumanTask.objects.get(pk=resp.json()["id"])
    assert [(n.kind, n.message) for n in Notification.objects.filter(task=new)] == [
        ("return", "深圳审核岗 将“修改并重新提交”退回给您:扫描件不清晰")
    ]

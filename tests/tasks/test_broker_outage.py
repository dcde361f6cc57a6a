"""A broker outage delays e-mails; it never loses one, never becomes an incident, and never turns a
committed write into a 5xx (the transactional outbox). Real commits (transaction=True), a real
closed loopback port as the dead broker, then the real Redis for the recovery."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from backend.common.models import OutboxMessage
from backend.common.outbox import outbox_relay
from processes.models import ProcessIncident, Timer
from processes.sweep import timers_sweep
from tasks.models import HumanTask, Notification
from tasks.notifications import notifications_email, notifications_email_resend
from tests.broker_support import (
    REDIS_URL,
    broker_at,
    broker_down,
    queue_clear,
    requires_redis,
    run_queued_jobs,
)
from tests.conftest import inbox

pytestmark = pytest.mark.django_db(transaction=True)

OPENINGS = 2


def _complete(client, task_id, **data):
    return client.post(f"/api/tasks/{task_id}/complete/", data, format="json")


@requires_redis
def test_completions_with_the_broker_down_answer_2xx_and_every_email_goes_out_once_after_recovery(
    submit, api
):
    queue_clear()
    with broker_down():
        # Submissions and returns to the submitter, each queueing an e-mail after its commit. An
        # officer submits: his own openings go straight to review (a collector's would notify the
        # officer first, issue 16 item 4).
        for _ in range(OPENINGS):
            assert submit("advanced", as_user="officer.sz").status_code == 201
        tasks = inbox(api("reviewer.sz"))
        assert len(tasks) == OPENINGS
        for task in tasks:
            resp = _complete(api("reviewer.sz"), task["id"], decision="return", comment="请补充地址")
            assert resp.status_code == 200, resp.content
        # Every step committed; every e-mail waits in the outbox; nothing was sent; no incident.
        assert HumanTask.objects.filter(step="fix_submission", status="ready").count() == OPENINGS
        notes = Notification.objects.filter(user__email__gt="")
        assert notes.count() == 2 * OPENINGS
        assert not notes.filter(emailed_at__isnull=False).exists()
        pending = OutboxMessage.objects.filter(published_at__isnull=True, job="tasks.email_notifications")
        assert pending.count() == 2 * OPENINGS
        assert all("111" in m.last_error or "refused" in m.last_error.lower() for m in pending)
        assert mail.outbox == []
        assert not ProcessIncident.objects.exists()
        # The relay while the broker is still down: nothing published, nothing lost.
        assert outbox_relay(now=timezone.now() + timedelta(hours=1)) == 0
        assert pending.count() == 2 * OPENINGS

    with broker_at(REDIS_URL):
        # (past the backoff the outage run gave the first row)
        assert outbox_relay(now=timezone.now() + timedelta(hours=2)) == 2 * OPENINGS
        ran = run_queued_jobs()
        assert ran == ["tasks.email_notifications"] * (2 * OPENINGS)
        recipients = sorted(m.to[0] for m in mail.outbox)
        assert recipients == sorted(
            ["reviewer.sz@demo.custflow.example"] * OPENINGS
            + ["officer.sz@demo.custflow.example"] * OPENINGS
        )
        assert not Notification.objects.filter(user__email__gt="", emailed_at__isnull=True).exists()
        # A second relay run publishes nothing and sends nothing.
        assert outbox_relay(now=timezone.now() + timedelta(hours=3)) == 0
        assert run_queued_jobs() == []
        # A job the broker hands out twice sends nothing the second time (idempotent on the row).
        assert notifications_email(ids=list(Notification.objects.values_list("pk", flat=True))) == 0
        assert len(mail.outbox) == 2 * OPENINGS
    assert not ProcessIncident.objects.exists()


def test_a_timer_sweep_in_isolation_with_the_broker_down_records_no_incident(submit, settings):
    custflow = copy.deepcopy(settings.CUSTFLOW)
    custflow["TIMER_STEP_ISOLATION"] = {"ENABLED": True, "SECONDS": 30, "MEMORY_MB": 4096}
    settings.CUSTFLOW = custflow
    with broker_down():
        assert submit("advanced", as_user="officer.sz").status_code == 201
        deadline = Timer.objects.get(spec="review_deadline", status="pending")
        # The escalation step commits in the forked child and queues an e-mail to the province.
        at = deadline.due_at + timedelta(seconds=1)
        due = Timer.objects.filter(status="pending", due_at__lte=at).count()  # the deadline and its reminder
        assert timers_sweep(now=at) == due
        province = HumanTask.objects.get(step="province_review", status="ready")
        note = Notification.objects.get(task=province)
        assert note.emailed_at is None
        assert not ProcessIncident.objects.exists()
        assert OutboxMessage.objects.filter(published_at__isnull=True, args=[[note.pk]]).count() == 1
        # The sweep runs again with the broker still down: still no incident.
        timers_sweep(now=deadline.due_at + timedelta(minutes=1))
        assert not ProcessIncident.objects.exists()


def test_emails_lost_with_the_broker_are_sent_by_the_resend_sweep_once(
    submit, settings, django_capture_on_commit_callbacks
):
    with broker_down():
        assert submit("advanced", as_user="officer.sz").status_code == 201
    note = Notification.objects.get(kind="new_task")
    # The job was published, then the broker died with it: the outbox row says published.
    OutboxMessage.objects.update(published_at=timezone.now())
    assert notifications_email_resend(now=timezone.now()) == 0  # too early: the job may still run
    later = timezone.now() + timedelta(
        minutes=settings.CUSTFLOW["NOTIFICATION_EMAIL"]["RESEND_AFTER_MINUTES"] + 1
    )
    assert notifications_email_resend(now=later) == 1
    assert [m.to for m in mail.outbox] == [["reviewer.sz@demo.custflow.example"]]
    assert Notification.objects.get(pk=note.pk).emailed_at is not None
    assert notifications_email_resend(now=later) == 0
    assert len(mail.outbox) == 1


def test_a_mail_server_that_refuses_leaves_the_notification_for_the_resend_sweep(submit, settings):
    with broker_down():
        assert submit("advanced", as_user="officer.sz").status_code == 201
    note = Notification.objects.get(kind="new_task")
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
            "127.0.0.1",
            closed.getsockname()[1],
            5,
        )
        assert notifications_email(ids=[note.pk]) == 0
    finally:
        closed.close()
    assert Notification.objects.get(pk=note.pk).emailed_at is None  # not marked sent: not lost
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = timezone.now() + timedelta(
        minutes=settings.CUSTFLOW["NOTIFICATION_EMAIL"]["RESEND_AFTER_MINUTES"] + 1
    )
    assert notifications_email_resend(now=later) == 1
    assert [m.to for m in mail.outbox] == [["reviewer.sz@demo.custflow.example"]]

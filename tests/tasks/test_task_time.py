"""Time you can see: trail times follow the system clock (`run_timers --at` included) and never
precede what they record; an escalated task keeps the original deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

from backend.common.models import AuditEvent
from processes.models import Timer
from tasks.models import HumanTask, Notification

pytestmark = pytest.mark.django_db


def _run_timers_at(at) -> None:
    call_command("run_timers", at=at.isoformat(), stdout=open("/dev/null", "w"))


def test_run_timers_at_records_the_escalation_at_the_moved_clock_never_before_the_deadline(submit):
    submit("advanced")
    review = HumanTask.objects.get(step="review", status="ready")
    deadline = Timer.objects.get(spec="review_deadline", status="pending")
    at = deadline.due_at + timedelta(days=3, hours=2)
    _run_timers_at(at)

    escalated = AuditEvent.objects.get(action="task.escalated", task_id=review.pk)
    assert escalated.created_at == at
    assert escalated.created_at >= review.due_at
    fired = AuditEvent.objects.filter(action="timer.fired").latest("id")
    assert fired.created_at == at
    province = HumanTask.objects.get(step="province_review", status="ready")
    assert province.created_at == at
    assert AuditEvent.objects.get(action="task.created", task_id=province.pk).created_at == at
    assert {n.created_at for n in Notification.objects.filter(task=province)} == {at}
    review.refresh_from_db()
    assert review.completed_at == at


def test_a_reminder_sent_by_run_timers_at_is_stamped_at_the_moved_clock(submit):
    submit("advanced")
    review = HumanTask.objects.get(step="review", status="ready")
    reminder = Timer.objects.get(spec="review_reminder", status="pending")
    at = reminder.due_at + timedelta(minutes=5)
    _run_timers_at(at)
    event = AuditEvent.objects.get(action="task.reminded", task_id=review.pk)
    assert event.created_at == at
    assert {n.created_at for n in Notification.objects.filter(task=review, kind="reminder")} == {at}


def test_working_day_durations_skip_holidays_and_count_adjusted_working_days(db):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tasks.timing import duration_text

    tz = ZoneInfo("Asia/Shanghai")
    start = datetime(2025, 9, 30, 10, 0, tzinfo=tz)
    # National Day 2025: 1–8 October off; Saturday 11 October is a working day (调休).
    assert duration_text(start, datetime(2025, 10, 11, 9, 0, tzinfo=tz), working_days=True) == "3 个工作日"
    assert duration_text(start, datetime(2025, 10, 8, 9, 0, tzinfo=tz), working_days=True) == "7 天 23 小时"
    assert duration_text(start, datetime(2025, 10, 8, 9, 0, tzinfo=tz), working_days=False) == "7 天 23 小时"


def test_a_working_day_step_records_it(submit, settings):
    settings.CUSTFLOW = {
        **settings.CUSTFLOW,
        "DEADLINES": {**settings.CUSTFLOW["DEADLINES"], "review": "P2WD"},
    }
    submit("advanced")
    assert HumanTask.objects.get(step="review", status="ready").working_days is True

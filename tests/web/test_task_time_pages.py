"""Time you can see on the inbox row and the task page: deadline, time left or overdue, reminder
and escalation history; an escalated task keeps the original deadline."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from processes.models import Timer
from tasks.models import HumanTask

pytestmark = pytest.mark.django_db


def _text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


@pytest.fixture
def escalated(review_task):
    """The review's reminder and deadline passed (`run_timers --at` three days after the deadline)."""
    deadline = Timer.objects.get(
        instance=review_task.instance, spec="review_deadline", status="pending"
    ).due_at
    at = deadline + timedelta(days=3, hours=2)
    call_command("run_timers", at=at.isoformat(), stdout=open("/dev/null", "w"))
    province = HumanTask.objects.get(instance=review_task.instance, step="province_review", status="ready")
    return province, deadline, at


def test_an_escalated_task_shows_the_original_deadline_how_long_it_is_overdue_and_its_history(
    escalated, login
):
    province, deadline, at = escalated
    with time_machine.travel(at + timedelta(minutes=30), tick=False):
        page = login("reviewer.gd").get(f"/tasks/{province.pk}/")
    assert page.status_code == 200
    text = _text(page.content)
    local = deadline.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert f"原截止时间 {local}" in text
    assert "已超时 3 天 2 小时" in text
    assert "已超时 0" not in text
    history = page.content.decode().split('data-testid="escalation-history"')[1].split("</ol>")[0]
    assert local in _text(history.encode()) and "深圳" in _text(history.encode())
    reminders = page.content.decode().split('data-testid="reminder-history"')[1].split("</ol>")[0]
    assert "系统" in reminders and "深圳审核岗" in reminders


def test_the_inbox_row_of_an_escalated_task_shows_its_deadline_and_counts_it_overdue(escalated, login):
    province, deadline, at = escalated
    with time_machine.travel(at + timedelta(minutes=30), tick=False):
        page = login("reviewer.gd").get("/inbox/")
    html = page.content.decode()
    cell = _text(html.split(f'data-testid="task-due-{province.pk}"')[1].split("</td>")[0].encode())
    assert "已超时 3 天 2 小时" in cell and "超时上报" in cell and "已催办 1 次" in cell
    assert 'data-testid="count-overdue">1<' in html


def test_a_ready_task_shows_the_time_left(review_task, login):
    with time_machine.travel(review_task.due_at - timedelta(hours=5, minutes=10), tick=False):
        page = login("reviewer.sz").get(f"/tasks/{review_task.pk}/")
    text = _text(page.content)
    assert "剩余 5 小时 10 分钟" in text
    assert "无" in text  # no reminder, no escalation yet


def test_the_escalated_original_says_how_late_it_was_escalated(escalated, review_task, login):
    page = login("reviewer.sz").get(f"/tasks/{review_task.pk}/")
    text = _text(page.content)
    assert "超时 3 天 2 小时 后上报" in text and "超时上报记录" in text
    assert "已超时 0" not in text


def test_the_time_panel_and_the_preferences_page_in_english(escalated, login):
    province, _deadline, at = escalated
    with time_machine.travel(at + timedelta(minutes=30), tick=False):
        client = login("reviewer.gd")
        client.cookies["django_language"] = "en"
        text = _text(client.get(f"/tasks/{province.pk}/").content)
        prefs = _text(client.get("/notifications/preferences/").content)
    assert "Original deadline" in text and "3 d 2 h overdue" in text
    assert "Escalations" in text and "Reminders" in text
    assert "Notification settings" in prefs and "One daily digest e-mail" in prefs


def test_the_inbox_shows_time_and_history_without_a_query_per_row(review_task, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.web.helpers import submit_opening

    client = login("reviewer.sz")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/inbox/").status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    for seq in (201, 202, 203):
        submit_opening(seq=seq, name=f"王测试{seq}")
    assert HumanTask.objects.filter(step="review", status="ready").count() == 4
    assert queries() == one

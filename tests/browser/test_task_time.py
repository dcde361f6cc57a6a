"""In real Chromium at 1366 px: an escalated task's page shows the original deadline, how long it
is overdue and the escalation and reminder history (issue 17, time you can see)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tasks.models import HumanTask
from tests.browser.test_customer_life import log_in
from tests.browser.test_review_flow import chromium, shot  # noqa: F401 (fixture)
from tests.web.helpers import submit_opening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_escalated_task_page_shows_original_deadline_overdue_and_history(
    live_server,
    transactional_db,
    chromium,  # noqa: F811
):
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    # Submitted three days ago: the 48-hour review deadline passed a day ago, and the sweep now
    # fires the reminder and the escalation.
    with time_machine.travel(timezone.now() - timedelta(days=3), tick=False):
        opening = submit_opening()
    review = HumanTask.objects.get(case_type="customers.accountopening", case_id=opening.pk, step="review")
    call_command("run_timers", stdout=io.StringIO())
    province = HumanTask.objects.get(instance=review.instance, step="province_review", status="ready")
    deadline = timezone.localtime(review.due_at).strftime("%Y-%m-%d %H:%M")

    context, page = log_in(chromium, live_server, "reviewer.gd")
    try:
        page.set_viewport_size({"width": 1366, "height": 900})
        row = page.locator(f"[data-testid=task-due-{province.pk}]")
        expect(row).to_contain_text(deadline)
        expect(row).to_contain_text("已超时 1 天")
        expect(page.locator("[data-testid=count-overdue]")).to_have_text("1")
        page.goto(f"{live_server.url}/tasks/{province.pk}/")
        time_panel = page.locator("[data-testid=task-time]")
        expect(time_panel.locator("[data-testid=task-deadline]")).to_contain_text(deadline)
        expect(time_panel.locator("[data-testid=task-deadline]")).to_contain_text("上报前的时限")
        expect(time_panel.locator("[data-testid=task-time-left]")).to_contain_text("已超时 1 天")
        expect(page.locator("[data-testid=escalation-history] li")).to_have_count(1)
        expect(page.locator("[data-testid=escalation-history]")).to_contain_text("深圳")
        expect(page.locator("[data-testid=reminder-history] li")).to_have_count(1)
        assert "已超时 0" not in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        shot(page, "escalated_task_1366")
    finally:
        context.close()

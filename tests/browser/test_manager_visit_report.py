"""In real Chromium at 1366 px: the monthly job opens a manager's visit-analysis reports (月度走访
分析报告); on his 走访报告 page he follows the open one to his step and submits it (first with more
customers than visits: the form comes back with the message at the field and nothing is saved);
the page then shows it submitted; the unit head's 走访报告 page lists the month he never sent in
逾期未交的走访分析报告."""

from __future__ import annotations

import io
import os
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.service.models import VisitReport
from backend.service.visit_reports import previous_month, visit_reports_open_due
from tests.browser.test_manager_qualification import _log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_submits_his_report_and_the_unit_head_sees_the_late_one(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    assert visit_reports_open_due(today=date(2026, 10, 1)) == 1  # September 2026: due 13 October, never sent
    assert visit_reports_open_due() == 1  # last month's
    current = VisitReport.objects.get(month=previous_month(timezone.localdate()))
    VisitReport.objects.filter(pk=current.pk).update(due_at=timezone.now() + timedelta(days=3))
    month = current.month.strftime("%Y-%m")

    context, page = _log_in(chromium, live_server, "manager.sz")
    try:
        page.click("[data-testid=nav-visit-reports]")
        mine = page.locator("[data-testid=my-visit-reports]")
        expect(mine).to_contain_text(month)
        expect(mine).to_contain_text("2026-09")
        expect(mine).to_contain_text("逾期未交")
        page.click(f"[data-testid=visit-report-task-{current.pk}]")
        page.wait_for_url(re.compile(r"/tasks/\d+/$"))
        expect(page.locator("[data-testid=case-generic]")).to_contain_text(month)
        page.fill("#f_visits", "5")
        page.fill("#f_customers_visited", "8")
        page.fill("#f_analysis", "客户普遍关注重疾险续保；两户反映理赔材料繁琐，建议简化。")
        page.click("[data-testid=task-submit]")
        expect(page.locator(".field.has-error")).to_contain_text("走访客户数不能多于走访次数")
        assert VisitReport.objects.get(pk=current.pk).status == "open"
        page.fill("#f_customers_visited", "4")
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已提交")
        page.click("[data-testid=nav-visit-reports]")
        expect(mine).to_contain_text("已提交")
        page.screenshot(path="/tmp/visit-reports-manager.png", full_page=True)
    finally:
        context.close()
    report = VisitReport.objects.get(pk=current.pk)
    assert (report.status, report.visits, report.customers_visited, report.late) == ("submitted", 5, 4, False)

    context, page = _log_in(chromium, live_server, "head.sz")
    try:
        page.click("[data-testid=nav-visit-reports]")
        late = page.locator("[data-testid=late-reports]")
        expect(late).to_contain_text("深圳客户经理")
        expect(late).to_contain_text("2026-09")
        expect(late).to_contain_text("逾期未交")
        expect(late).not_to_contain_text(month)
        expect(page.locator("[data-testid=unit-visit-reports]")).to_contain_text("客户普遍关注重疾险续保")
        page.screenshot(path="/tmp/visit-reports-head.png", full_page=True)
    finally:
        context.close()

"""In real Chromium: the 时限报表 opens on the latest month with figures, draws both charts and
lists the breaches; the URL carries every filter, so the same view opens from a shared link."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from tests.browser.test_customer_life import log_in
from tests.browser.test_review_flow import chromium, shot  # noqa: F401 (fixture)
from tests.reports.seed import seed_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_report_opens_with_figures_and_a_shareable_url(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    users = list(get_user_model().objects.filter(username__startswith="reviewer."))
    seed_tasks(count=300, now=timezone.now() - dt.timedelta(days=100), users=users)
    context, page = log_in(chromium, live_server, "compliance.ho")
    try:
        page.set_viewport_size({"width": 1366, "height": 900})
        page.click("[data-testid=nav-reports]")
        page.wait_for_url(re.compile(r"/reports/sla/\?.*from=\d{4}-\d{2}-01"))
        expect(page.locator("#sla-trend canvas")).to_have_count(1)
        expect(page.locator("#sla-breakdown canvas")).to_have_count(1)
        expect(page.locator("[data-testid=breach-row]").first).to_be_visible()
        shot(page, "sla-report-1366")
        breached = page.locator("[data-testid=total-breached]").inner_text()
        assert int(breached) > 0
        # Change a filter: it lands in the URL; a colleague opening that URL sees the same figures.
        page.select_option("select[name=group_by]", "step")
        page.click("[data-testid=report-filters] button[type=submit]")
        page.wait_for_url(re.compile(r"group_by=step"))
        shared = page.url
        figures = page.locator("[data-testid=report-table]").inner_text()
        other, other_page = log_in(chromium, live_server, "compliance.ho")
        try:
            other_page.goto(shared)
            assert other_page.locator("[data-testid=report-table]").inner_text() == figures
            assert other_page.locator("select[name=group_by]").input_value() == "step"
        finally:
            other.close()
    finally:
        context.close()

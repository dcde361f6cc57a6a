"""In real Chromium at 1366 px: compliance opens 客服报告 from the menu; the month's figures, the
section tables and both charts (contacts by channel, hotline hot topics) are drawn."""

from __future__ import annotations

import io
import os
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.hotline.models import HotlineCall
from backend.organisation.models import OrgUnit
from tests.browser.test_customer_life import log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_compliance_reads_the_month_with_its_charts(live_server, transactional_db, chromium):  # noqa: F811
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    agent = get_user_model().objects.get(username="hotline.gd")
    for category in ("claim", "claim", "product"):
        HotlineCall.objects.create(org_unit=OrgUnit.objects.get(code="GD"), agent=agent, caller_phone="+8613912340000", category=category, summary="来电")
    context, page = log_in(chromium, live_server, "compliance.ho")
    try:
        page.set_viewport_size({"width": 1366, "height": 900})
        page.click("[data-testid=nav-service-report]")
        page.wait_for_url(re.compile(r"/service-report/"))
        expect(page.locator("#f_month")).to_have_value(re.compile(r"^\d{4}-\d{2}$"))  # the last month by default
        page.select_option("#f_unit", "GD")
        page.fill("#f_month", f"{timezone.localdate():%Y-%m}")
        page.click("[data-testid=service-report-form] button[type=submit]")
        page.wait_for_url(re.compile(r"org_unit=GD"))
        expect(page.locator("[data-testid=service-section]").nth(1)).to_contain_text("理赔咨询")
        expect(page.locator("body")).to_have_attribute("data-charts-ready", "1")
        expect(page.locator("#service-contacts canvas")).to_have_count(1)
        expect(page.locator("#service-hotline canvas")).to_have_count(1)
        expect(page.locator("[data-testid=service-section]").first).to_be_visible()
        page.screenshot(path="/tmp/service-report.png", full_page=False)
    finally:
        context.close()

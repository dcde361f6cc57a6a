"""In real Chromium at 1366 px: the claims system has reported three claims on a customer's
policy; the officer sees 多次理赔 with its reason on the customer page and in 客户分群; he proposes
lowering the threshold — first out of range (the message sits next to the field, nothing is
proposed) — and the unit head approves on the task page; the branch's thresholds are version 1."""

from __future__ import annotations

import io
import os
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.segments.models import SegmentThresholds, ThresholdChange
from backend.segments.services import segments_assign_all
from tasks.models import HumanTask
from tests.browser.test_manager_qualification import _log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.customers.factories import customer_make
from tests.segments.factories import claim_make, policy_make

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_sees_the_alert_and_changes_the_threshold_through_the_head(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    customer = customer_make()
    policy = policy_make(customer, premium="3000", effective=date(2024, 1, 1))
    today = timezone.localdate()
    for days in (20, 90, 150):
        claim_make(policy, occurred=today - timedelta(days=days), paid="1500")
    segments_assign_all()

    context, page = _log_in(chromium, live_server, "officer.sz")
    try:
        page.goto(f"{live_server.url}/customers/{customer.pk}/")
        expect(page.locator("[data-testid=head-alert-multiple_claims]")).to_be_visible()
        expect(page.locator("[data-testid=alert-multiple_claims]")).to_contain_text("理赔 3 次")
        page.screenshot(path="/tmp/segment-customer.png", full_page=False)
        page.click("[data-testid=nav-segments]")
        page.wait_for_url(re.compile(r"/segments/"))
        expect(page.locator("[data-testid=segment-table]")).to_contain_text("多次理赔")
        expect(page.locator("[data-testid=threshold-version]")).to_contain_text("系统默认值")
        page.click("[data-testid=threshold-edit] summary")
        page.fill("#f_alert_claims_count", "1")
        page.fill("#f_reason", "本地区理赔频度偏高")
        page.click("[data-testid=threshold-submit]")
        expect(page.locator("#f_alert_claims_count ~ .field-errors")).to_contain_text("须在")
        assert ThresholdChange.objects.count() == 0
        page.screenshot(path="/tmp/segment-errors.png", full_page=True)
        page.fill("#f_alert_claims_count", "2")
        page.click("[data-testid=threshold-submit]")
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("待机构负责人审批")
        expect(page.locator("[data-testid=threshold-pending]")).to_be_visible()
    finally:
        context.close()

    case = ThresholdChange.objects.get()
    task = HumanTask.objects.get(case_type="segments.thresholdchange", case_id=case.pk, status="ready")
    context, page = _log_in(chromium, live_server, "head.sz")
    try:
        page.goto(f"{live_server.url}/processes/instances/{case.process_instance_id}/")
        expect(page.locator("body")).to_have_attribute("data-viewer-ready", "1")
        expect(page.locator('.djs-element[data-element-id="head_review"]')).to_have_class(re.compile(r"\bstate-current\b"))
        page.goto(f"{live_server.url}/tasks/{task.pk}/")
        expect(page.locator("[data-testid=case-generic]")).to_contain_text("3次 → 2次")
        page.locator("[data-testid=decision-approve]").check()
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        page.goto(f"{live_server.url}/segments/")
        expect(page.locator("[data-testid=threshold-version]")).to_contain_text("第 1 版")
        expect(page.locator("[data-testid=threshold-alert_claims_count]")).to_contain_text("2次")
        page.screenshot(path="/tmp/segment-done.png", full_page=True)
    finally:
        context.close()
    assert SegmentThresholds.objects.get(org_unit__code="GD-SZ").version == 1

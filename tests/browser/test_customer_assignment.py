"""In real Chromium at 1366 px: on the customer page a customer manager asks to serve a customer
(客户分配) — first without a reason (the message sits next to the field) — the unit head approves
it on the task page, the instance page draws it, and the customer page names the manager."""

from __future__ import annotations

import io
import os
import re

import pytest
from django.core.management import call_command

from backend.service.models import CustomerAssignment
from tasks.models import HumanTask
from tests.browser.test_manager_qualification import _log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.customers.factories import customer_make

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_asks_and_the_unit_head_approves(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    customer = customer_make(name="周一户")
    context, page = _log_in(chromium, live_server, "manager.sz")
    try:
        page.goto(f"{live_server.url}/customers/{customer.pk}/")
        expect(page.locator("[data-testid=customer-manager-none]")).to_be_visible()
        page.click("[data-testid=assignment-request] summary")
        page.select_option("#f_manager", "manager.sz")
        page.click("[data-testid=assignment-submit]")
        expect(page.locator("#f_reason ~ .field-errors")).to_contain_text("请填写分配或移交的理由")
        page.screenshot(path="/tmp/assignment-errors.png", full_page=True)
        assert CustomerAssignment.objects.count() == 0
        page.fill("#f_reason", "客户为本人开发的新客户，由本人负责一站式服务")
        page.click("[data-testid=assignment-submit]")
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("待机构负责人审批")
        expect(page.locator("[data-testid=assignment-table]")).to_contain_text("审批中")
    finally:
        context.close()

    case = CustomerAssignment.objects.get()
    task = HumanTask.objects.get(case_type="service.customerassignment", case_id=case.pk, status="ready")
    context, page = _log_in(chromium, live_server, "head.sz")
    try:
        page.goto(f"{live_server.url}/processes/instances/{case.process_instance_id}/")
        expect(page.locator("body")).to_have_attribute("data-viewer-ready", "1")
        expect(page.locator('.djs-element[data-element-id="head_review"]')).to_have_class(re.compile(r"\bstate-current\b"))
        page.screenshot(path="/tmp/assignment-instance.png", full_page=True)
        page.goto(f"{live_server.url}/tasks/{task.pk}/")
        expect(page.locator("[data-testid=case-generic]")).to_contain_text("周一户")
        page.locator("[data-testid=decision-approve]").check()
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已提交")
    finally:
        context.close()

    context, page = _log_in(chromium, live_server, "officer.sz")
    try:
        page.goto(f"{live_server.url}/customers/{customer.pk}/#customer-manager")
        expect(page.locator("[data-testid=customer-manager-name]")).to_contain_text("深圳客户经理")
        page.screenshot(path="/tmp/assignment-done.png", full_page=True)
    finally:
        context.close()
    assert CustomerAssignment.objects.get(pk=case.pk).status == "approved"

"""In real Chromium at 1366 px: a customer manager leaves; the officer opens 离岗移交, picks him
and the receiving manager — first without a reason (the message sits next to the field) — and
the unit head approves on the task page; every customer now has the new manager."""

from __future__ import annotations

import io
import os
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from backend.service.models import BulkTransfer, CustomerAssignment, CustomerManager, ManagedCustomer
from backend.service.services import customer_manager_ensure
from tasks.models import HumanTask
from tests.browser.test_manager_qualification import _log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.customers.factories import customer_make

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_moves_a_departing_managers_customers_and_the_head_approves(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    unit = OrgUnit.objects.get(code="GD-SZ")
    colleague = user_ensure(username="manager2.sz", password="demo-pass-2026", full_name="深圳客户经理二")
    role_assign(user=colleague, role=Role.CUSTOMER_MANAGER, org_unit=unit)
    customer_manager_ensure(user=colleague, org_unit=unit, grade="regular")
    source = CustomerManager.objects.get(user__username="manager.sz")
    customers = [customer_make() for _ in range(3)]
    for customer in customers:
        case = CustomerAssignment.objects.create(customer=customer, manager=source, reason="测试", requested_by=source.user, org_unit=unit, status="approved")
        ManagedCustomer.objects.create(customer=customer, manager=source, since=timezone.now(), assignment=case)

    context, page = _log_in(chromium, live_server, "officer.sz")
    try:
        page.click("[data-testid=nav-manager-transfers]")
        page.wait_for_url(re.compile(r"/manager-transfers/$"))
        expect(page.locator("[data-testid=manager-table]")).to_contain_text("深圳客户经理二")
        page.select_option("#f_manager", "manager.sz")
        page.select_option("#f_to_manager", "manager2.sz")
        page.click("[data-testid=transfer-submit]")
        expect(page.locator("#f_reason ~ .field-errors")).to_contain_text("请填写分配或移交的理由")
        page.screenshot(path="/tmp/transfer-errors.png", full_page=True)
        assert BulkTransfer.objects.count() == 0
        page.fill("#f_reason", "客户经理离职，名下客户整体移交")
        page.click("[data-testid=transfer-submit]")
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("3 户")
        expect(page.locator("[data-testid=transfer-table]")).to_contain_text("审批中")
    finally:
        context.close()

    case = BulkTransfer.objects.get()
    task = HumanTask.objects.get(case_type="service.bulktransfer", case_id=case.pk, status="ready")
    context, page = _log_in(chromium, live_server, "head.sz")
    try:
        page.goto(f"{live_server.url}/processes/instances/{case.process_instance_id}/")
        expect(page.locator("body")).to_have_attribute("data-viewer-ready", "1")
        expect(page.locator('.djs-element[data-element-id="head_review"]')).to_have_class(re.compile(r"\bstate-current\b"))
        page.goto(f"{live_server.url}/tasks/{task.pk}/")
        expect(page.locator("[data-testid=case-generic]")).to_contain_text("深圳客户经理二")
        page.locator("[data-testid=decision-approve]").check()
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        page.goto(f"{live_server.url}/manager-transfers/")
        expect(page.locator("[data-testid=transfer-table]")).to_contain_text("已生效")
        page.screenshot(path="/tmp/transfer-done.png", full_page=True)
    finally:
        context.close()
    assert set(ManagedCustomer.objects.filter(customer__in=customers).values_list("manager__user__username", flat=True)) == {"manager2.sz"}

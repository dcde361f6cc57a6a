"""In real Chromium at 1366 px: a customer manager applies for a grade (客户经理资格申请), first with
empty evidence (the messages sit next to the fields), then complete; the city reviewer approves
it on the task page and the manager's grade changes."""

from __future__ import annotations

import io
import os
import re

import pytest
from django.core.management import call_command

from backend.service.models import CustomerManager, ManagerQualification
from tasks.models import HumanTask
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.web.helpers import DEMO_PASSWORD

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORT = {"width": 1366, "height": 900}


def _log_in(chromium, live_server, username):  # noqa: F811
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/inbox/$"))
    return context, page


def test_manager_applies_and_city_reviewer_approves(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    context, page = _log_in(chromium, live_server, "manager.sz")
    try:
        page.click("[data-testid=nav-manager-qualification]")
        page.wait_for_url(re.compile(r"/manager-qualification/$"))
        expect(page.locator("[data-testid=manager-grade]")).to_have_text("初级客户经理")
        # Nothing filled in: every message next to its field, nothing written.
        page.click("[data-testid=qualification-form] button[type=submit]")
        expect(page.locator("#f_ability ~ .field-errors")).to_contain_text("请填写工作能力")
        expect(page.locator("[data-testid=customer-types] .field-errors")).to_contain_text("请选择至少一种所负责客户类型")
        expect(page.locator("#f_experience_years ~ .field-errors")).to_contain_text("专业工作经验")
        page.screenshot(path="/tmp/managers-apply-errors.png", full_page=True)
        assert ManagerQualification.objects.count() == 0

        page.select_option("#f_requested_grade", "regular")
        page.fill("#f_ability", "熟悉财产险产品，能独立完成企业客户保险方案")
        page.fill("#f_experience_years", "6")
        page.fill("#f_results", "上年度新增保费 320 万元，续保率 92%")
        page.get_by_label("个人客户").check()
        page.get_by_label("企业客户").check()
        page.click("[data-testid=qualification-form] button[type=submit]")
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("待市分公司审批")
        expect(page.locator("[data-testid=qualification-table]")).to_contain_text("审批中")
        expect(page.locator("[data-testid=qualification-pending]")).to_be_visible()
        page.screenshot(path="/tmp/managers-applied.png", full_page=True)
    finally:
        context.close()

    case = ManagerQualification.objects.get()
    task = HumanTask.objects.get(case_type="service.managerqualification", case_id=case.pk, status="ready")
    context, page = _log_in(chromium, live_server, "reviewer.sz")
    try:
        expect(page.locator(f"[data-testid=task-link-{task.pk}]")).to_be_visible()
        page.locator(f"[data-testid=task-link-{task.pk}]").click()
        page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))
        expect(page.locator("[data-testid=case-generic]")).to_contain_text("普通客户经理")
        expect(page.locator("[data-testid=case-generic]")).to_contain_text("上年度新增保费 320 万元")
        page.screenshot(path="/tmp/managers-task.png", full_page=True)
        # The instance page draws the diagram with the city review as the current step.
        page.goto(f"{live_server.url}/processes/instances/{case.process_instance_id}/")
        expect(page.locator("body")).to_have_attribute("data-viewer-ready", "1")
        expect(page.locator('.djs-element[data-element-id="city_review"]')).to_have_class(re.compile(r"\bstate-current\b"))
        expect(page.locator('.djs-element[data-element-id="start"]')).to_have_class(re.compile(r"\bstate-done\b"))
        expect(page.locator('.djs-element[data-element-id="province_review"]')).not_to_have_class(re.compile(r"\bstate-current\b"))
        page.screenshot(path="/tmp/managers-instance.png", full_page=True)
        page.goto(f"{live_server.url}/tasks/{task.pk}/")
        page.get_by_label("通过").check()
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已提交")
    finally:
        context.close()

    assert CustomerManager.objects.get(user__username="manager.sz").grade == "regular"
    assert ManagerQualification.objects.get(pk=case.pk).decided_by.username == "reviewer.sz"

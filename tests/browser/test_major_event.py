"""In real Chromium at 1366 px: a customer manager reports a customer's major event (重大事件) on
the customer page — first with the form empty (messages next to the fields), then complete; the
unit head and the customer-service centre each find it in their inbox and answer it on the task
page; the instance page draws the parallel diagram; the customer page shows the case closed."""

from __future__ import annotations

import io
import os
import re

import pytest
from django.core.management import call_command

from backend.service.models import MajorEvent
from tasks.models import HumanTask
from tests.browser.test_manager_qualification import _log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.customers.factories import customer_make

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _answer(chromium, live_server, username, task, field, text):  # noqa: F811
    from playwright.sync_api import expect

    context, page = _log_in(chromium, live_server, username)
    try:
        expect(page.locator(f"[data-testid=task-link-{task.pk}]")).to_be_visible()
        page.locator(f"[data-testid=task-link-{task.pk}]").click()
        page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))
        expect(page.locator("[data-testid=case-generic]")).to_contain_text("重大疾病或伤残")
        expect(page.locator("[data-testid=case-generic]")).to_contain_text("林重大")
        page.screenshot(path=f"/tmp/major-event-task-{username}.png", full_page=True)
        page.fill(f"#f_{field}", text)
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已提交")
    finally:
        context.close()


def test_manager_reports_and_head_and_centre_answer(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    customer = customer_make(name="林重大")
    context, page = _log_in(chromium, live_server, "manager.sz")
    try:
        page.goto(f"{live_server.url}/customers/{customer.pk}/")
        expect(page.locator("[data-testid=major-events-empty]")).to_be_visible()
        page.click("[data-testid=major-event-report] summary")
        page.click("[data-testid=major-event-submit]")
        # Nothing filled in: the form again, open, each message next to its field; nothing written.
        expect(page.locator("[data-testid=major-event-report]")).to_have_attribute("open", "")
        expect(page.locator("#f_kind ~ .field-errors")).to_contain_text("请选择事件类型")
        expect(page.locator("#f_occurred_on ~ .field-errors")).to_contain_text("请填写发生日期")
        expect(page.locator("#f_description ~ .field-errors")).to_contain_text("请填写事件经过")
        page.screenshot(path="/tmp/major-event-errors.png", full_page=True)
        assert MajorEvent.objects.count() == 0

        page.select_option("#f_kind", "illness")
        page.fill("#f_occurred_on", "2026-12-06")
        page.fill("#f_description", "客户确诊重大疾病住院治疗，家属来电告知，需协助理赔材料准备")
        page.click("[data-testid=major-event-submit]")
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已同时送达机构负责人和客户服务中心")
        expect(page.locator("[data-testid=major-event-table]")).to_contain_text("处理中")
        page.screenshot(path="/tmp/major-event-reported.png", full_page=True)
    finally:
        context.close()

    case = MajorEvent.objects.get()
    head_task = HumanTask.objects.get(case_type="service.majorevent", case_id=case.pk, step="head_ack", status="ready")
    centre_task = HumanTask.objects.get(case_type="service.majorevent", case_id=case.pk, step="centre_ack", status="ready")

    context, page = _log_in(chromium, live_server, "owner.ho")
    try:
        # Both branches wait at once: the diagram marks both acknowledgements as current.
        page.goto(f"{live_server.url}/processes/instances/{case.process_instance_id}/")
        expect(page.locator("body")).to_have_attribute("data-viewer-ready", "1")
        for element in ("head_ack", "centre_ack"):
            expect(page.locator(f'.djs-element[data-element-id="{element}"]')).to_have_class(re.compile(r"\bstate-current\b"))
        expect(page.locator('.djs-element[data-element-id="start"]')).to_have_class(re.compile(r"\bstate-done\b"))
        page.screenshot(path="/tmp/major-event-instance.png", full_page=True)
    finally:
        context.close()

    _answer(chromium, live_server, "head.sz", head_task, "instruction", "请客户经理今日上门慰问，协助准备理赔材料")
    _answer(chromium, live_server, "cs.ho", centre_task, "plan", "已登记，三日内电话回访并协调理赔绿色通道")

    context, page = _log_in(chromium, live_server, "manager.sz")
    try:
        page.goto(f"{live_server.url}/customers/{customer.pk}/#major-events")
        table = page.locator("[data-testid=major-event-table]")
        expect(table).to_contain_text("已办结")
        expect(table).to_contain_text("协助准备理赔材料")
        expect(table).to_contain_text("协调理赔绿色通道")
        page.screenshot(path="/tmp/major-event-closed.png", full_page=True)
    finally:
        context.close()
    assert MajorEvent.objects.get(pk=case.pk).status == "closed"

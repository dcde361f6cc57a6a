"""In real Chromium at 1366 px (issue 16 item 4, seed 003 §1.1.1): the collector submits an
advanced-level opening, the branch's customer-information officer confirms it from his inbox,
the reviewer approves; the customer page names the collector apart from the officer who opened."""

from __future__ import annotations

import io
import os
import re
import shutil
from datetime import date

import pytest
from django.core.management import call_command

from backend.customers.models import AccountOpening, Customer
from tasks.models import HumanTask
from tests.browser.test_review_flow import chromium, shot  # noqa: F401 - the fixture
from tests.factories import resident_id
from tests.web.helpers import DEMO_PASSWORD, png_scan

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORT = {"width": 1366, "height": 900}


def log_in(chromium, live_server, username: str):  # noqa: F811
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)  # a loaded CI machine is slow to answer
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/inbox/$"))
    return context, page


def test_collector_submits_officer_confirms_reviewer_approves(
    live_server,
    transactional_db,
    chromium,  # noqa: F811
    tmp_path,
):
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    scan = tmp_path / "id.png"
    scan.write_bytes(png_scan().read())
    number = resident_id(birth=date(1988, 8, 8))

    context, page = log_in(chromium, live_server, "collector.sz")
    try:
        page.click("[data-testid=nav-opening]")
        page.check("[data-testid=info-level-advanced]")
        page.fill("#f_name", "林采集")
        page.fill("#f_id_number", number)
        page.fill("#f_id_valid_until", "2041-06-30")  # required for a resident id at the advanced level
        page.fill("#f_phone", "13812348888")
        page.fill("#f_address", "深圳市福田区深南大道 1 号")
        page.set_input_files("#f_scan", str(scan))
        page.click("[data-testid=opening-submit]")
        page.wait_for_url(re.compile(r"/customers/\d+/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("待客户信息管理岗确认开户")
        expect(page.locator("[data-testid=customer-opened-by]")).to_have_text("待客户信息管理岗确认")
    finally:
        context.close()
    opening = AccountOpening.objects.get(customer__id_number=number)
    task = HumanTask.objects.get(case_type="customers.accountopening", case_id=opening.pk, status="ready")
    assert task.step == "officer_check"

    context, page = log_in(chromium, live_server, "officer.sz")
    try:
        link = page.locator(f"[data-testid=task-link-{task.pk}]")
        expect(link).to_have_text("客户信息管理岗确认开户")
        link.click()
        page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))
        # The officer sees what the collector gathered (in full: his role may) beside the form.
        body = page.locator("main")
        expect(body).to_contain_text("林采集")
        expect(body).to_contain_text(number)
        expect(page.locator("[data-testid=decision-confirm]")).to_be_visible()
        # Nothing of the page overflows the 1366 px screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]
        path = tmp_path / "officer-task-1366.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        if os.environ.get("CUSTFLOW_SCREENSHOTS"):
            shutil.copy(path, os.environ["CUSTFLOW_SCREENSHOTS"])
        page.check("[data-testid=decision-confirm]")
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_have_text("任务“客户信息管理岗确认开户”已提交")
    finally:
        context.close()
    review = HumanTask.objects.get(case_type="customers.accountopening", case_id=opening.pk, status="ready")
    assert review.step == "review"

    context, page = log_in(chromium, live_server, "reviewer.sz")
    try:
        page.locator(f"[data-testid=task-link-{review.pk}]").click()
        page.wait_for_url(re.compile(rf"/tasks/{review.pk}/$"))
        shot(page, "review-after-officer")
        page.get_by_label("通过").check()
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_have_text("任务“客户信息审核”已提交")
        page.goto(f"{live_server.url}/customers/{opening.customer_id}/")
        expect(page.locator("[data-testid=customer-status]")).to_have_text("已开户")
        expect(page.locator("[data-testid=customer-collector]")).to_have_text("深圳采集人")
        expect(page.locator("[data-testid=customer-opened-by]")).to_have_text("深圳客户信息管理岗")
    finally:
        context.close()
    opening.refresh_from_db()
    assert (opening.collector.username, opening.opened_by.username) == ("collector.sz", "officer.sz")
    assert Customer.objects.get(pk=opening.customer_id).status == "active"

    # The officer reads the collector's figures for the incentive (采集人统计).
    context, page = log_in(chromium, live_server, "officer.sz")
    try:
        page.click("[data-testid=nav-collector-stats]")
        page.wait_for_url(re.compile(r"/reports/collectors/$"))
        row = page.locator("[data-testid=collector-row][data-collector='collector.sz']")
        expect(row).to_contain_text("深圳采集人")
        expect(row.locator("td").nth(5)).to_have_text("1")  # opened
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]
        shot(page, "collector-stats-1366")
    finally:
        context.close()

"""In real Chromium: a reviewer approves an opening (login page → inbox → task → approve); a
reviewer transfers (转办) a review to a colleague, who sees the notification badge and approves."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections

from backend.customers.models import Customer
from tasks.models import HumanTask, Notification
from tests.web.helpers import DEMO_PASSWORD, second_reviewer, submit_opening

# Playwright's sync API runs an event loop in this thread; the ORM calls below are still sync.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    """Screenshots for a human look at the pages: set CUSTFLOW_SCREENSHOTS to a directory."""
    folder = os.environ.get("CUSTFLOW_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt package chromium); the browser test needs it")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # While Playwright's loop runs, Django keys its connections by context rather than
            # thread: close the ones the test opened here, or PostgreSQL cannot drop the test DB.
            connections.close_all()


def test_reviewer_approves_opening_in_browser(live_server, transactional_db, chromium):
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    opening = submit_opening()
    task = HumanTask.objects.get(case_type="customers.accountopening", case_id=opening.pk, step="review", status="ready")

    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/login/")
        expect(page.locator("h1")).to_have_text("登录")
        page.fill("#id_username", "reviewer.sz")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))

        link = page.locator(f"[data-testid=task-link-{task.pk}]")
        expect(link).to_have_text("客户信息审核")
        shot(page, "inbox")
        # Claim through htmx: the row is swapped in place, no page load.
        page.evaluate("window.__sameDocument = true")
        page.click(f"[data-testid=claim-{task.pk}]")
        expect(page.locator(f"#task-row-{task.pk} .note")).to_have_text("已认领任务")
        assert page.evaluate("window.__sameDocument") is True
        expect(page.locator(f"#task-row-{task.pk}")).to_contain_text("深圳审核岗")
        page.locator(f"[data-testid=task-link-{task.pk}]").click()
        page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))

        shot(page, "task")
        page.get_by_label("通过").check()
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_have_text("任务“客户信息审核”已提交")
        expect(page.locator(f"[data-testid=task-link-{task.pk}]")).to_have_count(0)
        shot(page, "inbox-after")
    finally:
        context.close()

    assert Customer.objects.get(pk=opening.customer_id).status == "active"
    assert HumanTask.objects.get(pk=task.pk).completed_by.username == "reviewer.sz"


def test_reviewer_transfers_to_colleague_who_approves_in_browser(live_server, transactional_db, chromium):
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    second_reviewer()  # reviewer2.sz, 深圳复核岗
    opening = submit_opening()
    Notification.objects.filter(kind="new_task").delete()  # this test watches the 转办 notice alone
    task = HumanTask.objects.get(case_type="customers.accountopening", case_id=opening.pk, step="review", status="ready")

    def log_in(username: str):
        context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        return context, page

    context, page = log_in("reviewer.sz")
    try:
        expect(page.locator("[data-testid=nav-notifications]")).to_have_text("通知")
        page.locator(f"[data-testid=task-link-{task.pk}]").click()
        page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))
        page.click("[data-testid=action-transfer]")  # the toolbar opens the 转办 dialog
        page.select_option("[data-testid=transfer-to]", "reviewer2.sz")
        page.fill("[data-testid=transfer-reason]", "本人休假,请代为审核")
        shot(page, "transfer")
        page.click("[data-testid=transfer-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_have_text("已转办给 深圳复核岗")
        expect(page.locator(f"[data-testid=task-link-{task.pk}]")).to_have_count(0)
    finally:
        context.close()

    assert HumanTask.objects.get(pk=task.pk).assignee.username == "reviewer2.sz"
    note = Notification.objects.get(kind="transfer")

    context, page = log_in("reviewer2.sz")
    try:
        expect(page.locator("[data-testid=unread-count]")).to_have_text("1")
        expect(page.locator(f"[data-testid=task-link-{task.pk}]")).to_have_text("客户信息审核")
        expect(page.locator("[data-testid=count-mine]")).to_have_text("1")
        page.click("[data-testid=nav-notifications]")
        page.wait_for_url(re.compile(r"/notifications/$"))
        expect(page.locator(f"[data-testid=notification-{note.pk}]")).to_contain_text("深圳审核岗 将任务“客户信息审核”转办给您:本人休假,请代为审核")
        shot(page, "notifications")
        page.click(f"[data-testid=notification-read-{note.pk}]")
        page.wait_for_url(re.compile(r"/notifications/$"))
        expect(page.locator("[data-testid=unread-count]")).to_have_count(0)
        page.click(f"[data-testid=notification-task-{note.pk}]")
        page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))
        page.get_by_label("通过").check()
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_have_text("任务“客户信息审核”已提交")
        expect(page.locator(f"[data-testid=task-link-{task.pk}]")).to_have_count(0)
    finally:
        context.close()

    assert Customer.objects.get(pk=opening.customer_id).status == "active"
    assert HumanTask.objects.get(pk=task.pk).completed_by.username == "reviewer2.sz"

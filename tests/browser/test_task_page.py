"""In real Chromium at 1280, 1366 and 768 px: the task page decides in one screen (issue 17
item 2). The case data and the decision form are in the first viewport at 1366×768, the page
never scrolls sideways, the toolbar's 转办 opens a dialog that Escape closes, `j` goes to the
next task of the inbox and `a` approves it after a confirmation."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.customers.models import Customer
from tasks.models import HumanTask
from tests.browser.test_customer_life import log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.web.helpers import DEMO_PASSWORD, second_reviewer, submit_opening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = "/tmp"

FIRST_SCREEN = """() => {
  const box = (sel) => { const e = document.querySelector(sel); if (!e) return null; const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  return {
    form: box('form.task-form'),
    submit: box('[data-testid=task-submit]'),
    caseHead: box('[data-testid=task-case] .panel h2'),
    caseFields: box('[data-testid=task-case] .panel dl'),
    toolbar: box('[data-testid=task-toolbar]'),
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    innerHeight: window.innerHeight,
  };
}"""


def _review_task(opening) -> HumanTask:
    return HumanTask.objects.get(case_type="customers.accountopening", case_id=opening.pk, step="review", status="ready")


def _shot(page, name: str) -> None:
    page.screenshot(path=os.path.join(SCREENSHOTS, f"taskpage-{name}.png"))


def test_task_page_decides_in_one_screen_in_browser(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    second_reviewer()  # a colleague to transfer to
    first = _review_task(submit_opening(seq=301, name="王一"))
    second = _review_task(submit_opening(seq=302, name="王二"))
    now = timezone.now()
    HumanTask.objects.filter(pk=first.pk).update(due_at=now + timedelta(hours=1))
    HumanTask.objects.filter(pk=second.pk).update(due_at=now + timedelta(hours=2))

    context, page = log_in(chromium, live_server, "reviewer.sz")
    try:
        for width in (1280, 1366, 768):
            page.set_viewport_size({"width": width, "height": 768})
            page.goto(f"{live_server.url}/tasks/{first.pk}/")
            expect(page.locator("[data-testid=task-toolbar]")).to_be_visible()
            m = page.evaluate(FIRST_SCREEN)
            assert m["scrollWidth"] <= m["innerWidth"], (width, m)
            if width in (1280, 1366):
                # The whole decision form, submit button included, and the case's data are in
                # the first screen, side by side.
                assert m["form"]["top"] >= m["toolbar"]["bottom"] and m["submit"]["bottom"] <= 768, (width, m)
                assert 0 < m["caseHead"]["top"] < m["caseFields"]["top"] < 768, (width, m)
                assert m["form"]["left"] > m["caseFields"]["right"], (width, m)
            # One column below 1100 px: the toolbar's 去办理 jumps to the decision.
            jump = page.locator("[data-testid=jump-decision]")
            if width == 768:
                expect(jump).to_be_visible()
            else:
                expect(jump).to_be_hidden()
            _shot(page, f"{width}")

        page.locator("[data-testid=jump-decision]").click()
        assert page.evaluate(FIRST_SCREEN)["submit"]["bottom"] <= 768
        _shot(page, "768-decision")

        page.set_viewport_size({"width": 1366, "height": 768})
        page.goto(f"{live_server.url}/tasks/{first.pk}/")
        # The toolbar's 转办 opens its dialog; Escape closes it.
        transfer = page.locator("[data-testid=dialog-transfer]")
        expect(transfer).to_be_hidden()
        page.click("[data-testid=action-transfer]")
        expect(transfer).to_be_visible()
        expect(page.locator("[data-testid=transfer-to]")).to_be_focused()
        _shot(page, "1366-transfer-dialog")
        page.keyboard.press("Escape")
        expect(transfer).to_be_hidden()
        # A refused 转办 (a blank reason) comes back with its dialog open and the field's message.
        page.click("[data-testid=action-transfer]")
        page.select_option("[data-testid=transfer-to]", "reviewer2.sz")
        page.fill("[data-testid=transfer-reason]", "   ")
        page.click("[data-testid=transfer-submit]")
        page.wait_for_load_state()
        expect(transfer).to_be_visible()
        expect(transfer.locator(".field-errors")).to_have_text("请填写原因")
        _shot(page, "1366-transfer-refused")
        page.keyboard.press("Escape")
        expect(transfer).to_be_hidden()
        assert HumanTask.objects.get(pk=first.pk).assignee_id is None
        page.goto(f"{live_server.url}/tasks/{first.pk}/")
        # The shortcut help.
        page.keyboard.press("?")
        expect(page.locator("[data-testid=dialog-keys]")).to_be_visible()
        page.keyboard.press("Escape")
        # Typing in a field does not navigate.
        page.fill("#f_comment", "jk")
        assert page.url.endswith(f"/tasks/{first.pk}/")
        page.locator("#f_comment").blur()
        page.fill("#f_comment", "")
        page.locator("h1").click()

        # `j`: the next task of the inbox (due next); `k` back, then `j` again.
        page.keyboard.press("j")
        page.wait_for_url(re.compile(rf"/tasks/{second.pk}/$"))
        page.keyboard.press("k")
        page.wait_for_url(re.compile(rf"/tasks/{first.pk}/$"))
        page.keyboard.press("j")
        page.wait_for_url(re.compile(rf"/tasks/{second.pk}/$"))

        # `a`: the approve confirmation; 取消 changes nothing, 确定通过 submits the decision.
        approve = page.locator("[data-testid=dialog-approve]")
        page.keyboard.press("a")
        expect(approve).to_be_visible()
        _shot(page, "1366-approve-confirm")
        page.keyboard.press("Escape")
        expect(approve).to_be_hidden()
        assert HumanTask.objects.get(pk=second.pk).status == "ready"
        page.keyboard.press("a")
        page.click("[data-testid=approve-confirm]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_have_text("任务“客户信息审核”已提交")
    finally:
        context.close()

    # Without JavaScript the forms show inline and the toolbar's buttons jump to them.
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "reviewer.sz")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        page.goto(f"{live_server.url}/tasks/{first.pk}/")
        expect(page.locator("[data-testid=transfer-form]")).to_be_visible()
        expect(page.locator("[data-testid=dialog-approve]")).to_be_hidden()
        page.click("[data-testid=action-transfer]")
        assert page.url.endswith("#dlg-transfer")
    finally:
        context.close()

    done = HumanTask.objects.get(pk=second.pk)
    assert (done.status, done.outcome, done.completed_by.username) == ("completed", "approve", "reviewer.sz")
    assert Customer.objects.get(pk=_customer_id(second)).status == "active"
    assert HumanTask.objects.get(pk=first.pk).status == "ready"


def _customer_id(task: HumanTask) -> int:
    from backend.customers.models import AccountOpening

    return AccountOpening.objects.get(pk=task.case_id).customer_id

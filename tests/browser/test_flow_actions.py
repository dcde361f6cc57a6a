"""In real Chromium: a reviewer returns a case to the collector's earlier step (退回), the
collector resubmits and then withdraws (撤回) the resubmission from 我发起的. Transfer (转办)
is covered in test_review_flow."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from backend.customers.models import Customer
from tasks.models import HumanTask
from tasks.services import task_complete
from tests.browser.test_customer_life import log_in
from tests.browser.test_review_flow import chromium, shot  # noqa: F401 (fixture)
from tests.web.helpers import submit_opening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_return_to_an_earlier_step_and_withdraw_in_browser(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    users = get_user_model().objects
    opening = submit_opening()
    review = HumanTask.objects.get(case_id=opening.pk, step="review", status="ready")
    task_complete(actor=users.get(username="reviewer.sz"), task_id=review.pk, data={"decision": "return", "comment": "请补充地址"})
    fix = HumanTask.objects.get(case_id=opening.pk, step="fix_submission", status="ready")
    task_complete(actor=users.get(username="collector.sz"), task_id=fix.pk, data={"address": "深圳市南山区 9 号", "comment": "已补充"})
    # The collector's fix passes the officer's step again before the review (issue 16 item 4).
    officer_check = HumanTask.objects.get(case_id=opening.pk, step="officer_check", status="ready")
    task_complete(actor=users.get(username="officer.sz"), task_id=officer_check.pk, data={"decision": "confirm"})
    review2 = HumanTask.objects.get(case_id=opening.pk, step="review", status="ready")

    context, page = log_in(chromium, live_server, "reviewer.sz")
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        page.goto(f"{live_server.url}/tasks/{review2.pk}/")
        page.click("[data-testid=action-return]")  # the toolbar opens the 退回 dialog
        expect(page.locator("[data-testid=return-target] option")).to_have_count(2)  # the collector's fix and the officer's step (issue 16 item 4)
        page.fill("[data-testid=return-reason]", "扫描件不清晰,请重新上传")
        shot(page, "return")
        page.click("[data-testid=return-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已退回到")
    finally:
        context.close()
    back = HumanTask.objects.get(case_id=opening.pk, step="fix_submission", status="ready")
    assert back.assignee.username == "collector.sz"
    assert Customer.objects.get(pk=opening.customer_id).status == "returned"

    context, page = log_in(chromium, live_server, "collector.sz")
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        page.locator(f"[data-testid=task-link-{back.pk}]").click()
        page.wait_for_url(re.compile(rf"/tasks/{back.pk}/$"))
        page.fill("#f_comment", "已重新上传")
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        page.click("[data-testid=nav-my-cases]")
        page.wait_for_url(re.compile(r"/my-cases/$"))
        page.click(f"[data-testid=withdraw-{back.instance_id}]")
        page.wait_for_url(re.compile(r"/tasks/\d+/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已撤回")
        shot(page, "withdrawn")
    finally:
        context.close()
    again = HumanTask.objects.get(case_id=opening.pk, status="ready")
    assert (again.step, again.assignee.username) == ("fix_submission", "collector.sz")
    assert not HumanTask.objects.filter(case_id=opening.pk, step="review", status="ready").exists()

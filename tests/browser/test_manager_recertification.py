"""In real Chromium at 1366 px: a manager's grade reaches its anniversary, the job opens his
年度认证; he finds it in his inbox and submits last year's assessment (first without one: the
form stays, the choice marked missing); the city reviewer confirms it; the instance page draws it; the
manager's page lists the result."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.service.models import CustomerManager, ManagerRecertification
from backend.service.recertification import recertifications_open_due
from tasks.models import HumanTask
from tests.browser.test_manager_qualification import _log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_submits_the_assessment_and_the_city_confirms(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    CustomerManager.objects.filter(user__username="manager.sz").update(grade="junior", since=timezone.now() - timedelta(days=380))
    assert recertifications_open_due() == 1
    case = ManagerRecertification.objects.get()
    task = HumanTask.objects.get(case_type="service.managerrecertification", case_id=case.pk, status="ready")

    context, page = _log_in(chromium, live_server, "manager.sz")
    try:
        page.locator(f"[data-testid=task-link-{task.pk}]").click()
        page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))
        expect(page.locator("[data-testid=case-generic]")).to_contain_text("初级客户经理")
        page.fill("#f_results", "全年服务客户 86 户，新增保费 210 万元，无有效投诉")
        page.click("[data-testid=task-submit]")
        # No assessment chosen: the form does not leave the page, and the choice says it is missing.
        assert page.locator("[data-testid=assessment-competent]").evaluate("el => el.validity.valueMissing")
        expect(page).to_have_url(re.compile(rf"/tasks/{task.pk}/$"))
        page.screenshot(path="/tmp/recert-errors.png", full_page=True)
        assert ManagerRecertification.objects.get(pk=case.pk).assessment == ""
        page.locator("[data-testid=assessment-competent]").check()
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已提交")
    finally:
        context.close()

    review = HumanTask.objects.get(case_type="service.managerrecertification", case_id=case.pk, status="ready")
    assert review.step == "city_review"
    context, page = _log_in(chromium, live_server, "reviewer.sz")
    try:
        page.goto(f"{live_server.url}/processes/instances/{case.process_instance_id}/")
        expect(page.locator("body")).to_have_attribute("data-viewer-ready", "1")
        expect(page.locator('.djs-element[data-element-id="city_review"]')).to_have_class(re.compile(r"\bstate-current\b"))
        expect(page.locator('.djs-element[data-element-id="submit_assessment"]')).to_have_class(re.compile(r"\bstate-done\b"))
        page.screenshot(path="/tmp/recert-instance.png", full_page=True)
        page.goto(f"{live_server.url}/tasks/{review.pk}/")
        expect(page.locator("[data-testid=case-generic]")).to_contain_text("新增保费 210 万元")
        page.locator("[data-testid=decision-confirm]").check()
        page.fill("#f_comment", "考核称职，维持初级")
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已提交")
    finally:
        context.close()

    context, page = _log_in(chromium, live_server, "manager.sz")
    try:
        page.click("[data-testid=nav-manager-qualification]")
        table = page.locator("[data-testid=recertification-table]")
        expect(table).to_contain_text("维持级别")
        expect(table).to_contain_text("考核称职，维持初级")
        page.screenshot(path="/tmp/recert-page.png", full_page=True)
    finally:
        context.close()
    assert ManagerRecertification.objects.get(pk=case.pk).status == "confirmed"

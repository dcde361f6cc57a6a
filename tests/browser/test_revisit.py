"""In real Chromium at 1366 px: the daily plan opens a key customer's quarterly visit for his
manager and a good customer's yearly call for the hotline (no manager); on his 回访 page the
manager follows the visit to his step and records it (first with a follow-up date in the past:
the form comes back with the message at the field and nothing is saved); the officer then sees the
visit as a contact in the customer's 客户动态; customer service at head office sees the hotline's
call on its 回访 page, and the overdue one first."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.segments.models import CustomerSegment
from backend.service.models import CustomerAssignment, CustomerManager, ManagedCustomer, Revisit
from backend.service.revisits import revisits_plan
from tests.browser.test_manager_qualification import _log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.customers.factories import corporate_make, customer_make

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _setup():
    call_command("seed_demo", stdout=io.StringIO())
    manager = CustomerManager.objects.get(user__username="manager.sz")
    key = corporate_make(name="深圳湾精密制造有限公司", id_number="91440300MA5FYYYY0U")
    CustomerSegment.objects.create(customer=key, org_unit=key.org_unit, key=True, computed_at=timezone.now())
    case = CustomerAssignment.objects.create(
        customer=key, manager=manager, reason="大客户", requested_by=manager.user, org_unit=manager.org_unit, status="approved"
    )
    ManagedCustomer.objects.create(customer=key, manager=manager, since=timezone.now(), assignment=case)
    for name in ("周优质", "吴优质"):
        good = customer_make(name=name)
        CustomerSegment.objects.create(customer=good, org_unit=good.org_unit, good=True, computed_at=timezone.now())
    revisits_plan()
    late = Revisit.objects.filter(kind="good_yearly_call", customer__name="吴优质").get()
    Revisit.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=1))
    return key, Revisit.objects.get(kind="key_quarterly_visit", customer=key), late


def test_the_manager_records_his_visit_and_the_hotline_sees_its_calls(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    key, visit, late = _setup()
    context, page = _log_in(chromium, live_server, "manager.sz")
    try:
        page.click("[data-testid=nav-revisits]")
        open_rows = page.locator("[data-testid=open-revisits]")
        expect(open_rows).to_contain_text("大客户季度拜访")
        expect(open_rows).not_to_contain_text("优质客户年度电话回访")  # the hotline's, not his
        page.screenshot(path="/tmp/revisits-manager.png", full_page=True)
        page.click(f"[data-testid=revisit-task-{visit.pk}]")
        page.wait_for_url(re.compile(r"/tasks/\d+/$"))
        expect(page.locator("[data-testid=case-generic]")).to_contain_text("大客户季度拜访")
        page.click("[data-testid=contacted-yes]")
        page.click("[data-testid=channel-visit]")
        page.fill("#f_summary", "拜访财务总监，了解明年扩产计划，拟增加财产险保额。")
        page.fill("#f_next_step_on", "2001-01-01")
        page.click("[data-testid=task-submit]")
        expect(page.locator(".field.has-error")).to_contain_text("下次跟进日期必须晚于今天")
        assert Revisit.objects.get(pk=visit.pk).status == "open"
        page.fill("#f_next_step_on", (timezone.localdate() + timedelta(days=30)).isoformat())
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        page.click("[data-testid=nav-revisits]")
        expect(page.locator("[data-testid=open-revisits]")).not_to_contain_text("大客户季度拜访")
    finally:
        context.close()
    done = Revisit.objects.get(pk=visit.pk)
    assert (done.status, done.contacted, done.channel, done.late) == ("done", True, "visit", False) and done.contact_id

    context, page = _log_in(chromium, live_server, "officer.sz")
    try:
        page.goto(f"{live_server.url}/customers/{key.pk}/")
        expect(page.locator("[data-testid=timeline]")).to_contain_text("拜访财务总监")
    finally:
        context.close()

    context, page = _log_in(chromium, live_server, "cs.ho")
    try:
        page.click("[data-testid=nav-revisits]")
        overdue = page.locator("[data-testid=overdue-revisits]")
        expect(overdue).to_contain_text("优质客户年度电话回访")
        expect(overdue).to_contain_text("已逾期")
        expect(page.locator("[data-testid=open-revisits]")).to_contain_text("客服热线")
        expect(page.locator(f"[data-testid=revisit-task-{late.pk}]")).to_be_visible()
        page.screenshot(path="/tmp/revisits-hotline.png", full_page=True)
    finally:
        context.close()

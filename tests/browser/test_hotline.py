"""In real Chromium at 1366 px: a customer calls the province hotline; the agent looks the number
up, picks the customer, sees his policies and alerts, first submits the call without its content
(the message sits next to the field), then logs it as a change of address — the amendment
process takes it for review, and the call is in the customer's contact log."""

from __future__ import annotations

import io
import os
import re
from datetime import date

import pytest
from django.core.management import call_command

from backend.customers.models import CustomerAmendment, CustomerContact
from backend.hotline.models import HotlineCall
from tests.browser.test_manager_qualification import _log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.customers.factories import customer_make
from tests.segments.factories import policy_make

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_agent_finds_the_caller_and_files_a_change_of_address(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    customer = customer_make(name="王大明")
    policy = policy_make(customer, effective=date(2020, 3, 1))

    context, page = _log_in(chromium, live_server, "hotline.gd")
    try:
        page.click("[data-testid=nav-hotline]")
        page.wait_for_url(re.compile(r"/hotline/$"))
        page.select_option("#f_field", "phone")
        page.fill("#f_value", customer.phone)
        page.click("[data-testid=hotline-search-submit]")
        page.click(f"[data-testid=hotline-pick-{customer.pk}]")
        expect(page.locator("[data-testid=hotline-policies]")).to_contain_text(policy.policy_number)
        expect(page.locator("#f_caller_phone")).to_have_value(customer.phone)
        page.select_option("#f_category", "change")
        page.locator("[data-testid=handoff-amendment]").check()
        page.click("[data-handoff=amendment] summary")
        page.fill("#f_new_address", "深圳市南山区科技园 9 号")
        page.click("[data-testid=hotline-call-submit]")
        expect(page.locator("#f_summary ~ .field-errors")).to_contain_text("请填写来电内容")
        assert HotlineCall.objects.count() == 0 and CustomerAmendment.objects.count() == 0
        page.screenshot(path="/tmp/hotline-errors.png", full_page=False)
        page.fill("#f_summary", "客户来电告知搬家，变更通讯地址")
        page.click("[data-testid=hotline-call-submit]")
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已发起资料变更")
        expect(page.locator("[data-testid=hotline-timeline]")).to_contain_text("客户来电告知搬家")
        page.screenshot(path="/tmp/hotline-done.png", full_page=False)
    finally:
        context.close()
    assert CustomerAmendment.objects.get().customer_id == customer.pk
    assert CustomerContact.objects.get(customer=customer).channel == "hotline"

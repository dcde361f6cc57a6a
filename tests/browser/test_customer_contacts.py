"""In real Chromium at 1366 px: an officer records a customer's call on the customer page; a
missing summary brings the form back with the message next to the field; the recorded call
heads the timeline (客户动态)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from backend.customers.models import CustomerContact
from tests.browser.test_review_flow import chromium, shot  # noqa: F401 (fixture)
from tests.customers.factories import customer_make
from tests.web.helpers import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_records_a_call_on_the_customer_page(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    customer = customer_make("GD-SZ", name="张伟", employer="深圳市福田区示例贸易有限公司", occupation="采购经理",
                             income_band="10_30", family_members="配偶李娜,儿子张小东", preferences="工作日晚上电话")
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "officer.sz")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        page.goto(f"{live_server.url}/customers/{customer.pk}/")
        expect(page.locator("[data-testid=profile-employer]")).to_have_text("深圳市福田区示例贸易有限公司")
        form = page.locator("[data-testid=contact-form]")
        form.locator("select[name=kind]").select_option("call")
        form.locator("select[name=channel]").select_option("hotline")
        form.locator("[data-testid=contact-submit]").click()
        expect(form.locator(".field.has-error")).to_contain_text("请填写联系要点")
        assert CustomerContact.objects.count() == 0
        page.locator("[data-testid=contacts]").screenshot(path="/tmp/contacts-error.png")
        form = page.locator("[data-testid=contact-form]")
        expect(form.locator("select[name=kind]")).to_have_value("call")  # what was chosen stays
        form.locator("textarea[name=summary]").fill("客户来电询问保单贷款的办理材料")
        form.locator("input[name=outcome]").fill("已告知所需材料,约定下周到柜面办理")
        form.locator("input[name=next_step_at]").fill("2099-01-05T10:00")
        # Further than three years ahead: refused, the rest stays typed.
        form.locator("[data-testid=contact-submit]").click()
        expect(page.locator("[data-testid=contact-form] .field.has-error")).to_contain_text("不能晚于三年以后")
        page.locator("[data-testid=contact-form] input[name=next_step_at]").fill("")
        page.locator("[data-testid=contact-form] [data-testid=contact-submit]").click()
        page.wait_for_url(re.compile(rf"/customers/{customer.pk}/#contacts$"))
        first = page.locator("[data-testid=timeline] li").first
        expect(first).to_contain_text("来电(客服热线)")
        expect(first).to_contain_text("客户来电询问保单贷款的办理材料")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, width  # no sideways scroll at 1366 px
        page.locator("[data-testid=contacts]").scroll_into_view_if_needed()
        page.screenshot(path="/tmp/contacts-customer-page.png", full_page=True)
        page.locator("[data-testid=contacts]").screenshot(path="/tmp/contacts-section.png")
        shot(page, "customer-contacts")
    finally:
        context.close()
    contact = CustomerContact.objects.get()
    assert (contact.kind, contact.channel, contact.recorded_by.username) == ("call", "hotline", "officer.sz")

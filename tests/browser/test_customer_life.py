"""In real Chromium: a collector opens a corporate customer (USCC, legal representative,
licence scan) and a province reviewer approves an identity amendment the collector requested."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from django.core.management import call_command

from backend.customers.models import Customer, CustomerAmendment, CustomerFieldChange
from tasks.models import HumanTask
from tests.browser.test_review_flow import chromium, shot  # noqa: F401 (fixture)
from tests.factories import png_bytes, resident_id, uscc
from tests.web.helpers import DEMO_PASSWORD, submit_opening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(browser, live_server, username: str):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/inbox/$"))
    return context, page


def test_collector_opens_corporate_customer_in_browser(live_server, transactional_db, chromium, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    licence = tmp_path / "licence.png"
    licence.write_bytes(png_bytes())
    code = uscc()
    context, page = log_in(chromium, live_server, "collector.sz")
    try:
        page.click("[data-testid=nav-opening]")
        page.click("[data-testid=corporate-link]")
        page.wait_for_url(re.compile(r"/openings/new/corporate/$"))
        page.fill("#f_name", "深圳市示例科技有限公司")
        page.fill("#f_id_number", code[:-1] + ("0" if code[-1] != "0" else "1"))  # a wrong check character first
        page.fill("#f_legal_rep_name", "李法人")
        page.fill("#f_legal_rep_id_number", resident_id(birth=date(1975, 2, 3)))
        page.fill("#f_address", "深圳市南山区科技园 2 号")
        page.fill("#f_contact_person", "赵联系")
        page.fill("#f_phone", "075512345678")
        page.set_input_files("#f_scan", str(licence))
        page.click("[data-testid=opening-submit]")
        expect(page.locator(".field.has-error")).to_contain_text("统一社会信用代码校验码不正确")
        assert Customer.objects.count() == 0
        shot(page, "corporate-error")

        page.fill("#f_id_number", code)
        page.set_input_files("#f_scan", str(licence))
        page.click("[data-testid=opening-submit]")
        page.wait_for_url(re.compile(r"/customers/\d+/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("待客户信息管理岗确认开户")
        expect(page.locator("[data-testid=customer-fields]")).to_contain_text("李法人")
        shot(page, "corporate-customer")
    finally:
        context.close()
    customer = Customer.objects.get()
    assert (customer.customer_type, customer.id_type, customer.id_number, customer.status) == ("corporate", "uscc", code, "pending_review")
    # A collector's opening waits for the branch's customer-information officer first (issue 16 item 4).
    assert HumanTask.objects.filter(process_key="corporate_account_opening", step="officer_check", status="ready").count() == 1


def test_identity_amendment_is_approved_at_province_in_browser(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    from backend.customers.services import opening_activate

    call_command("seed_demo", stdout=io.StringIO())
    opening = submit_opening()
    # Activate through the domain service (the review itself is covered by test_review_flow).
    from django.db import transaction

    with transaction.atomic():
        opening_activate(actor=None, case_id=opening.pk)
    customer = Customer.objects.get(pk=opening.customer_id)

    context, page = log_in(chromium, live_server, "collector.sz")
    try:
        page.goto(f"{live_server.url}/customers/{customer.pk}/")
        page.click("[data-testid=amend-link]")
        page.wait_for_url(re.compile(rf"/customers/{customer.pk}/amend/$"))
        page.click("[data-testid=amend-submit]")  # nothing changed: refused with a message
        expect(page.locator(".alert")).to_contain_text("没有任何修改")
        page.fill("#f_name", "王晓明")
        expect(page.locator("tr[data-field=name]")).to_have_class(re.compile("changed"))
        page.fill("#f_reason", "客户已更名,提供户口簿")
        page.click("[data-testid=amend-submit]")
        page.wait_for_url(re.compile(r"/amendments/\d+/$"))
        expect(page.locator("[data-testid=changes]")).to_contain_text("王晓明")
        expect(page.locator("[data-testid=amendment-case]")).to_contain_text("省级审核")
        shot(page, "amendment-submitted")
    finally:
        context.close()

    amendment = CustomerAmendment.objects.get()
    task = HumanTask.objects.get(instance_id=amendment.process_instance_id, status="ready")
    assert task.step == "province_review"

    context, page = log_in(chromium, live_server, "reviewer.sz")
    try:
        expect(page.locator(f"[data-testid=task-link-{task.pk}]")).to_have_count(0)  # not a city task
    finally:
        context.close()

    context, page = log_in(chromium, live_server, "reviewer.gd")
    try:
        page.locator(f"[data-testid=task-link-{task.pk}]").click()
        page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))
        expect(page.locator("[data-testid=changes]")).to_contain_text("王晓明")
        page.get_by_label("通过").check()
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已提交")
        shot(page, "amendment-approved")
    finally:
        context.close()

    assert Customer.objects.get(pk=customer.pk).name == "王晓明"
    [change] = CustomerFieldChange.objects.all()
    assert (change.field, change.old_value, change.new_value, change.approved_by.username) == ("name", customer.name, "王晓明", "reviewer.gd")

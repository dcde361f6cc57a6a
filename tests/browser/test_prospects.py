"""In real Chromium at 1366 px: a collector records a prospect from a third party — first without
the person's consent (the message sits next to the field) — sees it in the 准客户 list with the
phone masked; the branch's officer opens it and converts it into an opening, with the scan; the
opening keeps the collector."""

from __future__ import annotations

import io
import os
import re

import pytest
from django.core.management import call_command

from backend.customers.models import AccountOpening, Prospect
from tests.browser.test_manager_qualification import _log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.factories import png_bytes, resident_id

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_collector_records_a_prospect_and_the_officer_converts_it(live_server, transactional_db, chromium, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    scan = tmp_path / "id.png"
    scan.write_bytes(png_bytes())

    context, page = _log_in(chromium, live_server, "collector.sz")
    try:
        page.click("[data-testid=nav-prospects]")
        page.wait_for_url(re.compile(r"/prospects/$"))
        page.click("[data-testid=prospect-new] summary")
        page.fill("#f_name", "冯准客")
        page.fill("#f_phone", "13599990001")
        page.select_option("#f_source", "third_party")
        page.fill("#f_source_detail", "某汽车经销商")
        page.fill("#f_id_number", resident_id(serial=401))
        page.fill("#f_interest", "车险、意外险")
        page.click("[data-testid=prospect-submit]")
        expect(page.locator("[data-testid=input-consent] >> xpath=ancestor::div[contains(@class,'field')]//ul[contains(@class,'field-errors')]")).to_contain_text("须取得本人同意")
        assert Prospect.objects.count() == 0
        page.check("[data-testid=input-consent]")
        page.click("[data-testid=prospect-submit]")
        page.wait_for_url(re.compile(r"/prospects/\d+/$"))
        expect(page.locator("[data-testid=prospect-status]")).to_contain_text("跟进中")
        page.click("[data-testid=nav-prospects]")
        expect(page.locator("[data-testid=prospect-table]")).to_contain_text("135****0001")
        expect(page.locator("[data-testid=prospect-table]")).not_to_contain_text("13599990001")
        page.click("[data-testid=prospect-new] summary")
        page.screenshot(path=str(tmp_path / "prospects-1366.png"), full_page=True)
        page.screenshot(path="/tmp/prospects-1366.png", full_page=True)
    finally:
        context.close()

    prospect = Prospect.objects.get()
    context, page = _log_in(chromium, live_server, "officer.sz")
    try:
        page.click("[data-testid=nav-prospects]")
        page.click(f"[data-testid=prospect-convert-link-{prospect.pk}]")
        page.wait_for_url(re.compile(rf"/prospects/{prospect.pk}/#convert$"))
        expect(page.locator("[data-testid=prospect-phone]")).to_contain_text("+8613599990001")  # the officer sees it whole
        page.check("[data-testid=convert-long-term]")
        page.fill("[data-testid=convert-address]", "深圳市南山区科技园 9 号")
        page.set_input_files("[data-testid=convert-scan]", str(scan))
        page.screenshot(path="/tmp/prospect-convert-1366.png", full_page=True)
        page.click("[data-testid=convert-submit]")
        page.wait_for_url(re.compile(r"/customers/\d+/$"))
        expect(page.locator("[data-testid=flash-success]")).to_be_visible()
    finally:
        context.close()
    opening = AccountOpening.objects.get()
    assert opening.collector.username == "collector.sz" and opening.customer.name == "冯准客"
    prospect.refresh_from_db()
    assert prospect.status == "converted" and prospect.opening_id == opening.pk

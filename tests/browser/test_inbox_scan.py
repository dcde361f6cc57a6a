"""In real Chromium at 1366, 1280 and 768 px: the inbox with three openings of different
customers shows rows that differ (case number, masked customer), the search box finds one by
the customer's name and by its number, the tabs filter, and the page never scrolls sideways.
Screenshots go to /tmp/inbox-<width>-<step>.png for a human look."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from tasks.models import HumanTask
from tests.browser.test_customer_life import log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.web.helpers import submit_opening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = ("王测试", "李小龙", "欧阳娜娜")
MASKED = ("王*试", "李*龙", "欧**娜")
FITS = """() => ({scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth})"""


def _shot(page, name: str) -> None:
    page.screenshot(path=f"/tmp/inbox-{name}.png", full_page=True)


def test_inbox_rows_differ_search_finds_and_nothing_scrolls_sideways(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    openings = [submit_opening(seq=130 + i, name=name) for i, name in enumerate(NAMES)]
    tasks = [HumanTask.objects.get(case_type="customers.accountopening", case_id=o.pk, step="review", status="ready") for o in openings]
    context, page = log_in(chromium, live_server, "reviewer.sz")
    try:
        for width in (1366, 1280, 768):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{live_server.url}/inbox/")
            rows = page.locator("[data-testid^=inbox-row-]")
            expect(rows).to_have_count(3)
            seen = set()
            for opening, task, masked in zip(openings, tasks, MASKED, strict=True):
                number = page.locator(f"[data-testid=case-number-{task.pk}]")
                customer = page.locator(f"[data-testid=case-customer-{task.pk}]")
                expect(number).to_be_visible()
                expect(number).to_have_text(f"#{opening.pk}")
                expect(customer).to_have_text(masked)
                seen.add((number.inner_text(), customer.inner_text()))
            assert len(seen) == 3
            body = page.locator("main").inner_text()
            assert not any(name in body for name in NAMES), "a whole customer name on the inbox"
            _shot(page, f"{width}-rows")
            m = page.evaluate(FITS)
            assert m["scrollWidth"] <= m["clientWidth"], (width, m)

            # The search box: a name's beginning, then a case number.
            page.fill("[data-testid=inbox-q]", "李小")
            page.click("[data-testid=inbox-search-submit]")
            page.wait_for_url(re.compile(r"q=%E6%9D%8E%E5%B0%8F"))
            expect(rows).to_have_count(1)
            expect(page.locator(f"[data-testid=inbox-row-{tasks[1].pk}]")).to_be_visible()
            expect(page.locator("[data-testid=inbox-q]")).to_have_value("李小")
            _shot(page, f"{width}-search-name")
            page.fill("[data-testid=inbox-q]", f"#{openings[2].pk}")
            page.select_option("[data-testid=inbox-sort]", "received")
            page.click("[data-testid=inbox-search-submit]")
            page.wait_for_url(re.compile(r"sort=received"))
            expect(rows).to_have_count(1)
            expect(page.locator(f"[data-testid=case-customer-{tasks[2].pk}]")).to_have_text(MASKED[2])
            m = page.evaluate(FITS)
            assert m["scrollWidth"] <= m["clientWidth"], (width, "search", m)

        # The tabs filter: claim one, then 我的 lists only it; the counts fragment answers htmx.
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"{live_server.url}/inbox/")
        page.click(f"[data-testid=claim-{tasks[0].pk}]")
        expect(page.locator(f"[data-testid=inbox-row-{tasks[0].pk}] .who")).not_to_have_text("待认领")
        expect(page.locator("[data-testid=count-mine]")).to_have_text("1")  # no reload: htmx refreshed the tabs
        assert "tab=" not in page.url
        page.click("[data-testid=tab-mine]")
        page.wait_for_url(re.compile(r"tab=mine"))
        expect(page.locator("[data-testid^=inbox-row-]")).to_have_count(1)
        expect(page.locator("[data-testid=count-mine]")).to_have_text("1")
        expect(page.locator("[data-testid=tab-mine]")).to_have_attribute("aria-current", "page")
        # A new task arrives: the poll (htmx, every 30 s; triggered here at once) updates the counts.
        submit_opening(seq=140, name="赵新来")
        page.evaluate("() => htmx.ajax('GET', document.querySelector('#inbox-tabs').getAttribute('hx-get'), {target: '#inbox-tabs', swap: 'outerHTML'})")
        expect(page.locator("[data-testid=count-total]")).to_have_text("4")
        expect(page.locator("[data-testid=tab-mine]")).to_have_attribute("aria-current", "page")
        expect(page.locator("[data-testid=inbox-refresh]")).to_be_visible()
        _shot(page, "1366-tab-mine")
        page.click("[data-testid=tab-group]")
        page.wait_for_url(re.compile(r"tab=group"))
        expect(page.locator("[data-testid^=inbox-row-]")).to_have_count(3)
        expect(page.locator("[data-testid=inbox-refresh]")).to_have_count(0)
    finally:
        context.close()

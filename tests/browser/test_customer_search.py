"""In real Chromium: the exact customer search is a POST form (CSRF); the identifier never
appears in the address bar, each search is a recorded look-up, and past the hourly limit the
Chinese limit message stands next to the value field."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from backend.customers.models import RevealEvent
from tests.browser.test_customer_life import log_in
from tests.browser.test_review_flow import chromium, shot  # noqa: F401 (fixture)
from tests.customers.factories import customer_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_exact_search_posts_and_stops_at_the_limit(live_server, transactional_db, chromium, settings):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    settings.LOOKUP_LIMIT_PER_HOUR = 1
    customer = customer_make("GD-SZ", phone="+8613812340001")
    context, page = log_in(chromium, live_server, "reviewer.sz")
    try:
        page.goto(f"{live_server.url}/customers/")
        page.select_option("[data-testid=linkage-search-field]", "phone")
        page.fill("[data-testid=linkage-search-value]", "138 1234 0001")
        page.click("[data-testid=linkage-search-submit]")
        expect(page.locator(f"[data-testid=customer-link-{customer.pk}]")).to_be_visible()
        assert re.search(r"/customers/$", page.url), page.url
        assert "1381234" not in page.url
        page.fill("[data-testid=linkage-search-value]", "13812340001")
        page.click("[data-testid=linkage-search-submit]")
        errors = page.locator("[data-testid=linkage-search] .field-errors")
        expect(errors).to_contain_text("查询过于频繁:每小时最多查询 1 次")
        expect(page.locator(f"[data-testid=customer-link-{customer.pk}]")).to_have_count(0)
        assert "1381234" not in page.url
    finally:
        context.close()
    assert list(RevealEvent.objects.values_list("user__username", "kind", "field", "result_count")) == [
        ("reviewer.sz", "lookup", "phone", 1)
    ]

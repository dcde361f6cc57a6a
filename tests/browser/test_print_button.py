"""In real Chromium (control 13): the 打印采集卡 button is a POST form. It asks for a Chinese
confirmation; cancelling prints nothing, confirming prints the original; a GET of the print URL
(a link, a prefetch, a pasted address) only shows the print form."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from backend.customers.models import PrintedDocument
from tests.browser.test_customer_life import log_in
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.web.helpers import submit_opening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_print_button_confirms_then_posts(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    opening = submit_opening()
    context, page = log_in(chromium, live_server, "reviewer.sz")
    try:
        card_url = f"{live_server.url}/customers/{opening.customer_id}/collection-card.pdf"
        page.goto(card_url + "?reason=无理由重印")
        expect(page.locator("[data-testid=reprint-form]")).to_be_visible()
        assert PrintedDocument.objects.count() == 0

        page.goto(f"{live_server.url}/customers/{opening.customer_id}/")
        questions: list[str] = []

        def dismiss(dialog):
            questions.append(dialog.message)
            dialog.dismiss()

        page.once("dialog", dismiss)
        page.click("[data-testid=print-card] button")
        assert questions and "确认打印" in questions[0]
        assert PrintedDocument.objects.count() == 0

        page.once("dialog", lambda dialog: dialog.accept())
        with context.expect_event(
            "response", predicate=lambda r: r.url == card_url and r.request.method == "POST"
        ) as posted:
            page.click("[data-testid=print-card] button")
        response = posted.value
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        assert response.headers["x-copy-number"] == "0"
        assert PrintedDocument.objects.filter(subject=f"customer:{opening.customer_id}").count() == 1
    finally:
        context.close()

"""Control 13: printing writes (a numbered print record, an audit event), so it is a POST.

API: `GET <form>.pdf?reason=…` is 405 and changes nothing; `POST <form>.pdf` prints the original
(a later one is a copy that needs a reason); `POST <form>/reprint/` prints a copy and always
needs a reason. Web: the print button is a small POST form with the CSRF token; a GET of the
print URL shows that form and prints nothing; a POST without the token is refused.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from backend.common.models import AuditEvent
from backend.customers.models import Customer, PrintedDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(submit):
    return Customer.objects.get(pk=submit("primary").json()["customer_id"])


def _rows() -> tuple[int, int]:
    return PrintedDocument.objects.count(), AuditEvent.objects.count()


def test_api_get_with_a_reason_prints_nothing(api, customer):
    client = api("reviewer.sz")
    before = _rows()
    for url in (
        f"/api/customers/{customer.pk}/collection-card.pdf",
        f"/api/customers/{customer.pk}/collection-card/reprint/",
        f"/api/customers/{customer.pk}/collection-card.pdf/reprint/",
    ):
        assert client.get(url, {"reason": "无理由重印"}).status_code == 405, url
    assert _rows() == before


def test_api_post_prints_the_original_then_reprint_needs_a_reason(api, customer):
    client = api("reviewer.sz")
    url = f"/api/customers/{customer.pk}/collection-card.pdf"
    first = client.post(url, format="json")
    assert first.status_code == 200 and first["X-Copy-Number"] == "0"
    assert first["Content-Type"] == "application/pdf"

    reprint = f"/api/customers/{customer.pk}/collection-card/reprint/"
    refused = client.post(reprint, {}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()
    assert client.post(reprint, {"reason": "   "}, format="json").status_code == 400
    assert PrintedDocument.objects.filter(subject=f"customer:{customer.pk}").count() == 1

    copy = client.post(reprint, {"reason": "客户遗失原件"}, format="json")
    assert copy.status_code == 200 and copy["X-Copy-Number"] == "1"
    document = PrintedDocument.objects.get(pk=copy["X-Document-Id"])
    assert document.reprint_reason == "客户遗失原件"
    alias = client.post(f"{url}/reprint/", {"reason": "柜面存档再打一份"}, format="json")
    assert alias.status_code == 200 and alias["X-Copy-Number"] == "2"


def test_api_reprint_routes_exist_for_every_printed_form(api, submit):
    body = submit("advanced").json()
    client = api("reviewer.sz")
    url = f"/api/account-openings/{body['id']}/form"
    assert client.get(f"{url}.pdf").status_code == 405
    assert client.post(f"{url}.pdf", format="json").status_code == 200
    assert client.post(f"{url}/reprint/", {}, format="json").status_code == 400
    assert client.post(f"{url}/reprint/", {"reason": "客户要求补打"}, format="json")["X-Copy-Number"] == "1"
    # Out of scope: the reprint route answers like the print route.
    assert (
        api("reviewer.hz").post(f"{url}/reprint/", {"reason": "客户要求补打"}, format="json").status_code
        == 404
    )


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_web_print_button_is_a_post_form_with_csrf_and_get_prints_nothing(customer, users):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["reviewer.sz"])
    url = f"/customers/{customer.pk}/collection-card.pdf"
    detail = browser.get(f"/customers/{customer.pk}/").content.decode()
    form = re.search(
        r'<form method="post" action="([^"]+)"[^>]*data-testid="print-card"[^>]*>(.*?)</form>', detail, re.S
    )
    assert form and form.group(1) == url and "csrfmiddlewaretoken" in form.group(2)
    assert "data-confirm=" in form.group(0)  # a confirmation in Chinese before printing

    before = _rows()
    page = browser.get(url, {"reason": "无理由重印"})
    assert page.status_code == 200 and 'data-testid="reprint-form"' in page.content.decode()
    assert _rows() == before
    assert browser.post(url).status_code == 403  # no CSRF token: refused
    assert _rows() == before

    token = _csrf(page.content.decode())
    original = browser.post(url, {"csrfmiddlewaretoken": token})
    assert original.status_code == 200 and original["Content-Type"] == "application/pdf"
    assert original["X-Copy-Number"] == "0"
    ask = browser.post(url, {"csrfmiddlewaretoken": token})  # printed before: asks for a reason
    assert ask.status_code == 200 and 'data-testid="reprint-form"' in ask.content.decode()
    assert "副本" in ask.content.decode()
    copy = browser.post(
        f"/customers/{customer.pk}/collection-card/reprint/",
        {"csrfmiddlewaretoken": token, "reason": "客户遗失原件"},
    )
    assert copy.status_code == 200 and copy["X-Copy-Number"] == "1"
    refused = browser.post(
        f"/customers/{customer.pk}/collection-card/reprint/", {"csrfmiddlewaretoken": token}
    )
    assert refused.status_code == 400 and "请填写重印原因" in refused.content.decode()

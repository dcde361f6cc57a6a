"""Pages of the customer's life: corporate opening, change request, freeze, blacklist, PDF."""

from __future__ import annotations

import subprocess

import pytest
from django.db import transaction

from backend.customers.models import BlacklistEntry, Customer, CustomerAmendment
from backend.customers.services import opening_activate
from tests.factories import png_bytes, scan_upload, uscc
from tests.web.helpers import submit_opening

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_customer(seeded):
    opening = submit_opening()
    with transaction.atomic():
        opening_activate(actor=None, case_id=opening.pk)
    return Customer.objects.get(pk=opening.customer_id)


def test_corporate_form_renders_and_refuses_bad_code_with_field_message(login):
    client = login("collector.sz")
    page = client.get("/openings/new/corporate/")
    assert page.status_code == 200 and "统一社会信用代码" in page.content.decode()
    resp = client.post(
        "/openings/new/corporate/",
        {"info_level": "primary", "name": "某公司", "id_type": "uscc", "id_number": "91440300MA5DC0QX01", "scan": scan_upload("l.png", png_bytes())},
    )
    assert resp.status_code == 400
    assert "统一社会信用代码校验码不正确" in resp.content.decode()
    assert Customer.objects.count() == 0


def test_corporate_primary_opening_from_the_page(login):
    # An officer's own primary-level opening is active at once (a collector's waits for him).
    resp = login("officer.sz").post(
        "/openings/new/corporate/", {"info_level": "primary", "name": "某公司", "id_type": "uscc", "id_number": uscc(), "scan": scan_upload("l.png")}
    )
    assert resp.status_code == 302
    assert Customer.objects.get().status == "active"


def test_amend_page_shows_current_values_and_refuses_no_change(login, active_customer):
    client = login("officer.sz")
    page = client.get(f"/customers/{active_customer.pk}/amend/")
    assert page.status_code == 200
    assert active_customer.name in page.content.decode()
    resp = client.post(f"/customers/{active_customer.pk}/amend/", {"reason": "无"})
    assert resp.status_code == 400 and "没有任何修改" in resp.content.decode()
    resp = client.post(f"/customers/{active_customer.pk}/amend/", {"phone": "abc", "reason": "x"})
    assert resp.status_code == 400 and CustomerAmendment.objects.count() == 0


def test_amendment_detail_and_change_request_pdf(login, active_customer):
    client = login("officer.sz")
    resp = client.post(f"/customers/{active_customer.pk}/amend/", {"email": "new@example.com", "reason": "客户要求"})
    assert resp.status_code == 302
    amendment = CustomerAmendment.objects.get()
    detail = client.get(f"/amendments/{amendment.pk}/")
    assert detail.status_code == 200 and "new@example.com" in detail.content.decode()
    assert 'data-testid="print-change-request"' in detail.content.decode()
    pdf = client.post(f"/amendments/{amendment.pk}/change-request.pdf")  # printing is a POST
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    body = b"".join(pdf.streaming_content) if pdf.streaming else pdf.content
    text = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True).stdout.decode()
    assert "客户信息变更申请表" in text and "客户要求" in text
    assert login("reviewer.gz").get(f"/amendments/{amendment.pk}/").status_code == 404


def test_customer_page_offers_amend_and_freeze_and_freezing_needs_a_reason(login, active_customer):
    client = login("officer.sz")
    page = client.get(f"/customers/{active_customer.pk}/").content.decode()
    assert 'data-testid="amend-link"' in page and 'data-testid="freeze-toggle"' in page
    client.post(f"/customers/{active_customer.pk}/freeze/", {"action": "freeze", "reason": ""})
    assert Customer.objects.get(pk=active_customer.pk).status == "active"
    client.post(f"/customers/{active_customer.pk}/freeze/", {"action": "freeze", "reason": "司法冻结"})
    assert Customer.objects.get(pk=active_customer.pk).status == "frozen"
    page = client.get(f"/customers/{active_customer.pk}/").content.decode()
    assert 'data-testid="amend-link"' not in page and "解冻" in page


def test_blacklist_page(login):
    client = login("officer.sz")
    assert client.get("/blacklist/").status_code == 200
    resp = client.post("/blacklist/", {"id_type": "resident_id", "id_number": "123", "reason": "x", "source": "y"})
    assert resp.status_code == 400 and BlacklistEntry.objects.count() == 0
    resp = client.post("/blacklist/", {"id_type": "uscc", "id_number": uscc(), "reason": "虚假材料", "source": "承保"})
    assert resp.status_code == 302
    assert BlacklistEntry.objects.get().status == "pending"
    assert login("collector.sz").get("/blacklist/").status_code == 403

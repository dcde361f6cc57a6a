"""The QR code on a printed form opens /verify/<id>: public, no personal data."""

from __future__ import annotations

import pytest

from backend.customers.models import PrintedDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def printed(submit, api):
    body = submit("primary").json()
    resp = api("reviewer.sz").post(f"/api/customers/{body['customer_id']}/collection-card.pdf", format="json")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    return PrintedDocument.objects.get(pk=resp["X-Document-Id"])


def test_genuine_link_verifies_without_login(client, printed):
    page = client.get(f"/verify/{printed.pk}?sha256={printed.data_sha256}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "验证通过" in html and printed.data_sha256 in html
    assert printed.customer.name not in html and printed.customer.id_number not in html


def test_wrong_hash_is_reported(client, printed):
    html = client.get(f"/verify/{printed.pk}?sha256={'0' * 64}").content.decode()
    assert "摘要不一致" in html


@pytest.mark.parametrize("document_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_unknown_document_is_404(client, demo, document_id):
    resp = client.get(f"/verify/{document_id}")
    assert resp.status_code == 404
    assert "未找到该单证" in resp.content.decode()

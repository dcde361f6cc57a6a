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
    assert "已被改动" in html and 'data-answer="altered"' in html


@pytest.mark.parametrize("document_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_unknown_document_is_404(client, demo, document_id):
    resp = client.get(f"/verify/{document_id}")
    assert resp.status_code == 404
    assert "未找到该单证" in resp.content.decode()


def test_verify_without_a_number_is_a_page_to_check_a_form(client, demo):
    """Before: /verify/ was a debug 404. Now a public page with the number field and an upload."""
    page = client.get("/verify/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="document"' in html and 'type="file"' in html and 'name="pdf"' in html
    assert "Page not found" not in html


def test_verify_by_typed_number(client, printed):
    page = client.get("/verify/", {"document": f"  {printed.pk} "})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-answer="issued"' in html and str(printed.pk) in html
    assert printed.customer.name not in html


@pytest.mark.parametrize(
    "number", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "a/b?c", "<script>x</script>"]
)
def test_verify_unknown_typed_number_says_unknown(client, demo, number):
    page = client.get("/verify/", {"document": number})
    assert page.status_code == 404
    html = page.content.decode()
    assert 'data-answer="unknown"' in html and "无法确认" in html and "<script>x" not in html


def test_verify_empty_submission_and_overlong_number_are_400(client, demo):
    page = client.post("/verify/", {"document": ""})
    assert page.status_code == 400 and "请输入单证编号" in page.content.decode()
    page = client.get("/verify/", {"document": "9" * 5000})
    assert page.status_code == 400 and "单证编号过长" in page.content.decode()


def test_verify_upload_without_number_answers_in_words(client, submit, api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.documents.test_signed_forms import flip_byte_in_page_content

    customer_id = submit("primary").json()["customer_id"]
    pdf = api("reviewer.sz").post(f"/api/customers/{customer_id}/collection-card.pdf", format="json")
    assert pdf.status_code == 200
    body = pdf.content
    printed = PrintedDocument.objects.get(pk=pdf["X-Document-Id"])
    page = client.post("/verify/", {"pdf": SimpleUploadedFile("a.pdf", body, "application/pdf")})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-answer="genuine"' in html and "真实" in html
    altered = SimpleUploadedFile("a.pdf", flip_byte_in_page_content(body), "application/pdf")
    html = client.post("/verify/", {"pdf": altered}).content.decode()
    assert 'data-answer="altered"' in html and "已被改动" in html
    html = client.post(
        "/verify/", {"pdf": SimpleUploadedFile("a.pdf", b"%PDF-1.4 x", "application/pdf")}
    ).content.decode()
    assert 'data-answer="unknown"' in html and "无法确认" in html
    # with its own number: genuine; with another number: not that document
    html = client.post(
        "/verify/", {"document": str(printed.pk), "pdf": SimpleUploadedFile("a.pdf", body, "application/pdf")}
    ).content.decode()
    assert 'data-answer="genuine"' in html
    html = client.post(
        "/verify/",
        {
            "document": "00000000-0000-0000-0000-000000000000",
            "pdf": SimpleUploadedFile("a.pdf", body, "application/pdf"),
        },
    ).content.decode()
    assert 'data-answer="unknown"' in html


def test_result_pages_link_back_to_the_form(client, printed):
    html = client.get(f"/verify/{printed.pk}").content.decode()
    assert 'href="/verify/"' in html

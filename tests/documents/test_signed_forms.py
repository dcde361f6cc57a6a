"""Printed forms are PAdES-signed by the issuing org unit; uploads are verified as genuine,
reprint, superseded or tampered; pdfsig (poppler) agrees with our verifier."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from backend.common.models import AuditEvent
from backend.customers.models import Customer, PrintedDocument

pytestmark = pytest.mark.django_db


def needs(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return path


def pdfsig(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / f"sig-{len(list(tmp_path.iterdir()))}.pdf"
    source.write_bytes(pdf)
    out = subprocess.run(
        [needs("pdfsig"), "-nocert", str(source)], capture_output=True, text=True, timeout=60
    )
    return out.stdout + out.stderr


def flip_byte_in_page_content(pdf: bytes) -> bytes:
    """Change one byte inside the first content stream (signed bytes, the file still parses)."""
    start = pdf.index(b"stream\n") + len(b"stream\n") + 20
    return pdf[:start] + bytes([pdf[start] ^ 0x01]) + pdf[start + 1 :]


@pytest.fixture
def customer(submit):
    body = submit("primary").json()
    return Customer.objects.get(pk=body["customer_id"])


def card(api, customer, reason=None, user="reviewer.sz"):
    url = f"/api/customers/{customer.pk}/collection-card.pdf"
    # Printing is a POST (control 13): a GET prints nothing.
    return api(user).post(url, {"reason": reason} if reason is not None else {}, format="json")


def upload(client, pdf: bytes):
    return client.post("/api/documents/verify/", {"pdf": SimpleUploadedFile("x.pdf", pdf, "application/pdf")})


def test_a_printed_card_is_signed_by_its_org_unit(api, client, customer, tmp_path):
    resp = card(api, customer)
    assert resp.status_code == 200 and resp["X-Copy-Number"] == "0"
    pdf = resp.content
    document = PrintedDocument.objects.get(pk=resp["X-Document-Id"])
    assert document.copy_number == 0 and document.signed_by == customer.org_unit.code
    assert document.subject == f"customer:{customer.pk}"

    body = upload(client, pdf).json()
    assert body["verdict"] == "genuine"
    assert body["document"]["document_id"] == str(document.pk)
    assert body["document"]["org_unit"] == customer.org_unit.name
    assert body["signer"] == f"{customer.org_unit.name} 电子签章"

    report = pdfsig(pdf, tmp_path)
    assert "Signature Validation: Signature is Valid." in report, report
    assert f"Signer Certificate Common Name: {customer.org_unit.name} 电子签章" in report
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Total document signed" in report


def test_a_tampered_byte_is_reported_as_tampered_by_us_and_by_pdfsig(api, client, customer, tmp_path):
    pdf = card(api, customer).content
    tampered = flip_byte_in_page_content(pdf)
    assert len(tampered) == len(pdf) and tampered != pdf

    body = upload(client, tampered).json()
    assert body["verdict"] == "tampered"
    report = pdfsig(tampered, tmp_path)
    assert "Signature Validation: Digest Mismatch." in report, report
    assert "Signature is Valid" not in report


def test_bytes_appended_after_signing_are_tampering(api, client, customer, tmp_path):
    pdf = card(api, customer).content
    appended = pdf + b"\n% appended\n"
    assert upload(client, appended).json()["verdict"] == "tampered"
    assert "Total document signed" not in pdfsig(appended, tmp_path)


def test_a_reprint_needs_a_reason_and_is_marked_as_a_numbered_copy(api, client, customer, users, tmp_path):
    original = card(api, customer)
    refused = card(api, customer)
    assert refused.status_code == 400
    assert refused.json()["code"] == "reprint_reason_required"
    assert refused.json()["copy_number"] == 1 and "reason" in refused.json()
    assert card(api, customer, reason="丢").status_code == 400  # too short
    assert PrintedDocument.objects.filter(subject=f"customer:{customer.pk}").count() == 1

    reprint = card(api, customer, reason="客户遗失原件")
    assert reprint.status_code == 200 and reprint["X-Copy-Number"] == "1"
    second = card(api, customer, reason="柜面存档再打一份")
    assert second["X-Copy-Number"] == "2"
    document = PrintedDocument.objects.get(pk=reprint["X-Document-Id"])
    assert (document.copy_number, document.reprint_reason, document.printed_by) == (
        1,
        "客户遗失原件",
        users["reviewer.sz"],
    )
    event = AuditEvent.objects.get(action="document.reprinted", data__document=str(document.pk))
    assert event.actor == users["reviewer.sz"] and event.data["reason"] == "客户遗失原件"
    assert event.data["copy_number"] == 1

    text = subprocess.run(
        [needs("pdftotext"), "-", "-"], input=reprint.content, capture_output=True, check=True
    ).stdout.decode()
    assert "副本第1份" in re.sub(r"\s+", "", text)
    original_text = subprocess.run(
        [needs("pdftotext"), "-", "-"], input=original.content, capture_output=True, check=True
    ).stdout.decode()
    assert "副本" not in original_text

    body = upload(client, reprint.content).json()
    assert body["verdict"] == "reprint" and body["document"]["copy_number"] == 1
    # Same content printed again: the original is not superseded, only reprinted.
    assert upload(client, original.content).json()["verdict"] == "genuine"
    assert "Signature is Valid." in pdfsig(reprint.content, tmp_path)


def test_a_print_after_the_data_changed_supersedes_the_earlier_one(api, client, customer):
    first = card(api, customer)
    Customer.objects.filter(pk=customer.pk).update(name="张三改")
    newer = card(api, customer, reason="客户更名后重打")
    body = upload(client, first.content).json()
    assert body["verdict"] == "superseded"
    assert body["document"]["superseded_by"] == newer["X-Document-Id"]
    assert upload(client, newer.content).json()["verdict"] == "reprint"

    page = client.get(f"/verify/{first['X-Document-Id']}")
    assert "该单证已有更新版本" in page.content.decode()


def test_verify_page_accepts_an_upload(api, client, customer):
    pdf = card(api, customer).content
    document_id = PrintedDocument.objects.get().pk
    page = client.post(f"/verify/{document_id}", {"pdf": SimpleUploadedFile("a.pdf", pdf, "application/pdf")})
    assert page.status_code == 200
    assert 'data-verdict="genuine"' in page.content.decode()
    page = client.post(
        f"/verify/{document_id}",
        {"pdf": SimpleUploadedFile("a.pdf", flip_byte_in_page_content(pdf), "application/pdf")},
    )
    assert 'data-verdict="tampered"' in page.content.decode()
    assert client.post(f"/verify/{document_id}", {}).status_code == 400


def test_uploads_that_are_not_our_signed_pdfs(client, demo):
    from pdfs.rendering import html_to_pdf

    assert upload(client, html_to_pdf("<p>无签章</p>")).json()["verdict"] == "unsigned"
    assert upload(client, b"not a pdf at all").json()["verdict"] == "unreadable"
    resp = client.post("/api/documents/verify/", {})
    assert resp.status_code == 400 and resp.json()["code"] == "pdf_required" and "pdf" in resp.json()


def test_verify_by_id_api(api, client, customer):
    resp = card(api, customer)
    document = PrintedDocument.objects.get(pk=resp["X-Document-Id"])
    body = client.get(f"/api/documents/{document.pk}/verify/", {"sha256": document.data_sha256}).json()
    assert body["hash_matches"] is True and body["copy_number"] == 0 and body["superseded"] is False
    assert client.get("/api/documents/00000000-0000-0000-0000-000000000000/verify/").status_code == 404


def test_the_opening_form_prints_signed_with_its_checks_and_reprints_need_a_reason(api, client, submit, tmp_path):
    body = submit("advanced").json()
    url = f"/api/account-openings/{body['id']}/form.pdf"
    resp = api("reviewer.sz").post(url, format="json")
    assert resp.status_code == 200, resp.content
    document = PrintedDocument.objects.get(pk=resp["X-Document-Id"])
    assert document.subject == f"opening:{body['id']}" and document.kind == "opening_form"
    assert upload(client, resp.content).json()["verdict"] == "genuine"
    text = subprocess.run(["pdftotext", "-", "-"], input=resp.content, capture_output=True, check=True).stdout.decode()
    assert "个人客户开户申请表" in text and "A 证件未重复开户" in text and "通过" in text
    assert api("reviewer.sz").post(url, format="json").status_code == 400  # a reprint without a reason
    again = api("reviewer.sz").post(url, {"reason": "客户要求补打"}, format="json")
    assert again.status_code == 200 and again["X-Copy-Number"] == "1"
    # Out of scope: Hangzhou cannot print Shenzhen's opening.
    assert api("reviewer.hz").post(url, format="json").status_code == 404

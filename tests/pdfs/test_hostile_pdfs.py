"""Control 1, hostile PDFs: anyone may post a PDF to the public verification. Every file is read
in a killable child after structural limits; a hostile file gets 400 (`pdf_too_complex`) or the
verdict "unreadable", never a 5xx; other requests are served while one is being read; uploads
are rate limited per client address (429 with Retry-After). The files are generated here."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from backend.common.models import AuditEvent
from backend.customers.models import Customer, PrintedDocument
from pdfs.reading import PdfRefused, pdf_structure_check
from tests.pdfs import hostile

pytestmark = pytest.mark.django_db

REFUSED = {
    # a 2 KB file whose /Kids nodes list their child twice: 2**24 paths (minutes before the fix)
    "deep_kids_dag": (lambda: hostile.deep_kids(24), "pdf_bad_tree"),
    # the same with /Kids as references to array objects
    "indirect_kids_dag": (lambda: hostile.kids_via_indirect_array(24), "pdf_bad_tree"),
    # a plain chain, each node one child, far deeper than any real page or field tree
    "deep_kids_chain": (lambda: hostile.deep_kids(200, fan=1), "pdf_bad_tree"),
    # [[[[...]]]]: a RecursionError (500) in the parser before the fix
    "deep_nesting": (lambda: hostile.deep_nesting(5000), "pdf_too_deeply_nested"),
    "many_objects": (lambda: hostile.many_objects(150_000), "pdf_too_many_objects"),
    # ~70 KB that inflates to 100 MB
    "deflate_bomb": (lambda: hostile.deflate_bomb(100), "pdf_inflates_too_much"),
}


def post(client: Client, pdf: bytes, **extra):
    return client.post(
        "/api/documents/verify/", {"pdf": SimpleUploadedFile("x.pdf", pdf, "application/pdf")}, **extra
    )


def counts() -> tuple[int, int, int]:
    return AuditEvent.objects.count(), PrintedDocument.objects.count(), Customer.objects.count()


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_hostile_pdf_is_refused_with_a_clear_message_and_changes_nothing(client, demo, name):
    make, reason = REFUSED[name]
    pdf = make()
    with pytest.raises(PdfRefused) as refused:
        pdf_structure_check(pdf)
    assert refused.value.code == reason
    before = counts()
    resp = post(client, pdf)
    assert resp.status_code == 400, resp.content[:300]
    body = resp.json()
    assert body["code"] == "pdf_too_complex"
    assert "无法核验" in " ".join(body["pdf"])
    assert counts() == before


@pytest.mark.parametrize("name", ["deep_kids_dag", "deep_nesting"])
def test_the_verify_page_shows_the_refusal_as_a_form_error(client, api, submit, name):
    body = submit("primary").json()
    document_id = api("reviewer.sz").post(f"/api/customers/{body['customer_id']}/collection-card.pdf")[
        "X-Document-Id"
    ]
    page = client.post(
        f"/verify/{document_id}", {"pdf": SimpleUploadedFile("x.pdf", REFUSED[name][0](), "application/pdf")}
    )
    assert page.status_code == 400
    assert "无法核验" in page.content.decode()


def test_what_the_prechecks_cannot_see_is_killed_and_unreadable(client, demo):
    """The /Kids graph inside a compressed object stream passes the byte scan; pyHanko would
    walk 2**40 paths. The child is killed at PDF_LIMITS["SECONDS"]: verdict unreadable."""
    pdf = hostile.deep_kids_in_object_stream(40)
    pdf_structure_check(pdf)  # passes: only the kill bounds it
    before = counts()
    resp = post(client, pdf)
    assert resp.status_code == 200
    assert resp.json()["verdict"] == "unreadable"
    assert counts() == before


def test_a_child_that_runs_out_of_memory_is_unreadable(client, demo, settings):
    # The pre-check lets 400 MB of inflated content through here; the child's bound (the parent's
    # address space plus 16 MB) stops it — far beyond what a long test process may hold as free
    # heap the child could reuse.
    settings.CUSTFLOW = {
        **settings.CUSTFLOW,
        "PDF_LIMITS": {**settings.CUSTFLOW["PDF_LIMITS"], "MEMORY_MB": 16, "MAX_INFLATED_BYTES": 512 * 1024 * 1024},
    }
    resp = post(client, hostile.deflate_bomb(400))
    assert resp.status_code == 200
    assert resp.json()["verdict"] == "unreadable"


def _children() -> set[int]:
    found: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as handle:
                found |= {int(pid) for pid in handle.read().split()}
        except OSError:
            continue
    return found


def test_other_requests_are_served_while_a_hostile_pdf_is_read(client, demo):
    before = _children()
    outcome: dict = {}

    def hostile_upload():
        outcome["response"] = post(Client(), hostile.deep_kids_in_object_stream(40))

    worker = threading.Thread(target=hostile_upload)
    worker.start()
    try:
        for _ in range(1000):  # until the hostile upload's reading child exists
            reading = _children() - before
            if reading or not worker.is_alive():
                break
            time.sleep(0.01)
        assert reading, "the hostile upload was not read in a child process"
        served = client.get(f"/api/documents/{uuid.uuid4()}/verify/")
        assert served.status_code == 404
        served = client.get("/login/")
        assert served.status_code == 200
        # both answered while the hostile file was still being read
        assert worker.is_alive() and reading <= _children()
    finally:
        worker.join()
    assert outcome["response"].status_code == 200
    assert outcome["response"].json()["verdict"] == "unreadable"


def test_uploads_are_rate_limited_per_address_with_retry_after(client, demo, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"document_verify": "3/min"},
    }
    for _ in range(3):
        assert post(client, b"not a pdf").json()["verdict"] == "unreadable"
    limited = post(client, b"not a pdf")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    # a forged X-Forwarded-For does not buy a new budget (no proxy is trusted by default)
    forged = post(client, b"not a pdf", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forged.status_code == 429 and int(forged["Retry-After"]) > 0
    # another address has its own budget
    assert post(client, b"not a pdf", REMOTE_ADDR="198.51.100.7").status_code == 200


def test_the_verify_page_shares_the_budget_and_answers_429(client, api, submit, settings):
    body = submit("primary").json()
    document_id = api("reviewer.sz").post(f"/api/customers/{body['customer_id']}/collection-card.pdf")[
        "X-Document-Id"
    ]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"document_verify": "2/min"},
    }
    assert post(client, b"not a pdf").status_code == 200
    page = client.post(
        f"/verify/{document_id}", {"pdf": SimpleUploadedFile("a.pdf", b"x", "application/pdf")}
    )
    assert page.status_code == 200
    page = client.post(
        f"/verify/{document_id}", {"pdf": SimpleUploadedFile("a.pdf", b"x", "application/pdf")}
    )
    assert page.status_code == 429
    assert int(page["Retry-After"]) > 0
    assert "核验过于频繁" in page.content.decode()
    assert post(client, b"not a pdf").status_code == 429
    # looking a document up by its QR code is not an upload and stays open
    assert client.get(f"/verify/{document_id}").status_code == 200


def test_the_default_limit_is_ten_uploads_a_minute(client, demo):
    statuses = [post(client, b"not a pdf").status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]

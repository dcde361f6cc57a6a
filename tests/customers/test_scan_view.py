"""Issue 16 item 3: the reviewer sees the scan he approves.

`GET /api/account-openings/{id}/` names `scan_url`; the scan itself is served only to users
who may see the case (others 404, as for a missing id); every view is a reveal event of kind
`scan` (user, customer, when) and an audit event; compliance lists them at
`GET /api/reveal-events/?kind=scan`, nobody else (403).
"""

from __future__ import annotations

import hashlib

import pytest

from backend.common.models import AuditEvent
from backend.customers.models import RevealEvent, ScanDocument
from tests.factories import png_bytes, scan_upload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _opened(submit, **overrides) -> dict:
    resp = submit("advanced", **overrides)
    assert resp.status_code == 201, resp.content
    return resp.json()


def test_opening_detail_names_the_scan_and_the_reviewer_gets_the_bytes(api, submit):
    opening = _opened(submit)
    detail = api("reviewer.sz").get(f"/api/account-openings/{opening['id']}/")
    assert detail.status_code == 200
    url = detail.json()["scan_url"]
    assert url == f"/api/account-openings/{opening['id']}/scan/"
    assert RevealEvent.objects.filter(kind="scan").count() == 0  # naming the URL is not a view

    resp = api("reviewer.sz").get(url)
    assert resp.status_code == 200
    body = b"".join(resp.streaming_content)
    assert body == png_bytes()
    assert resp["Content-Type"] == "image/png"
    assert resp["Content-Disposition"].startswith("inline")
    assert resp["Cache-Control"] == "private, no-store"
    assert resp["X-Content-Type-Options"] == "nosniff"

    [event] = RevealEvent.objects.filter(kind="scan")
    assert (event.user.username, event.customer_id, event.field, event.org_unit.code) == (
        "reviewer.sz",
        opening["customer_id"],
        "scan",
        "GD-SZ",
    )
    audit = AuditEvent.objects.get(action="customer.scan_viewed")
    assert audit.actor.username == "reviewer.sz"
    assert audit.object_id == str(opening["customer_id"])
    assert audit.data["opening"] == opening["id"]
    assert audit.data["sha256"] == hashlib.sha256(png_bytes()).hexdigest()
    assert audit.data["reveal_event"] == event.pk


def test_every_view_is_recorded(api, submit):
    opening = _opened(submit)
    for _ in range(3):
        assert api("reviewer.sz").get(f"/api/account-openings/{opening['id']}/scan/").status_code == 200
    assert RevealEvent.objects.filter(kind="scan", user__username="reviewer.sz").count() == 3
    assert AuditEvent.objects.filter(action="customer.scan_viewed").count() == 3


def test_a_pdf_scan_is_served_as_pdf(api, submit):
    opening = _opened(submit, scan=scan_upload("id.pdf", PDF, "application/pdf"))
    resp = api("reviewer.sz").get(f"/api/account-openings/{opening['id']}/scan/")
    assert resp.status_code == 200
    assert resp["Content-Type"] == "application/pdf"
    assert resp["X-Frame-Options"] == "SAMEORIGIN"  # the task page frames it
    assert b"".join(resp.streaming_content) == PDF


@pytest.mark.parametrize("username", ["reviewer.gz", "collector.gz", "officer.gz", "reviewer.hz"])
def test_outsiders_get_404_like_a_missing_id_and_nothing_is_recorded(api, submit, username):
    opening = _opened(submit)
    resp = api(username).get(f"/api/account-openings/{opening['id']}/scan/")
    missing = api(username).get("/api/account-openings/987654321/scan/")
    assert resp.status_code == missing.status_code == 404
    assert resp.json()["code"] == missing.json()["code"]
    assert api(username).get(f"/api/account-openings/{opening['id']}/").status_code == 404
    assert not RevealEvent.objects.filter(kind="scan").exists()
    assert not AuditEvent.objects.filter(action="customer.scan_viewed").exists()


def test_the_owning_province_and_the_collector_may_see_the_case_and_its_scan(api, submit):
    opening = _opened(submit)
    for username in ("reviewer.gd", "collector.sz"):
        assert api(username).get(f"/api/account-openings/{opening['id']}/scan/").status_code == 200
    assert sorted(RevealEvent.objects.filter(kind="scan").values_list("user__username", flat=True)) == [
        "collector.sz",
        "reviewer.gd",
    ]


def test_an_opening_without_a_scan_has_no_scan_url_and_the_scan_is_404(api, submit):
    opening = _opened(submit)
    ScanDocument.objects.filter(opening_id=opening["id"]).delete()
    assert api("reviewer.sz").get(f"/api/account-openings/{opening['id']}/").json()["scan_url"] is None
    resp = api("reviewer.sz").get(f"/api/account-openings/{opening['id']}/scan/")
    assert resp.status_code == 404
    assert resp.json()["code"] == "scan_not_found"
    assert not RevealEvent.objects.filter(kind="scan").exists()


def test_compliance_lists_scan_views_and_others_are_refused(api, submit):
    opening = _opened(submit)
    api("reviewer.sz").get(f"/api/account-openings/{opening['id']}/scan/")
    resp = api("compliance.gd").get("/api/reveal-events/", {"kind": "scan"})
    assert resp.status_code == 200, resp.content
    [row] = resp.json()["results"]
    assert (row["kind"], row["user"], row["customer_id"], row["field"]) == (
        "scan",
        "reviewer.sz",
        opening["customer_id"],
        "scan",
    )
    assert row["created_at"]
    # The default listing (reveals) does not mix scan views in.
    assert api("compliance.gd").get("/api/reveal-events/").json()["results"] == []
    # Head office compliance sees every province's views.
    assert api("compliance.ho").get("/api/reveal-events/", {"kind": "scan"}).json()["count"] == 1
    for username in ("reviewer.sz", "officer.sz", "collector.sz"):
        assert api(username).get("/api/reveal-events/", {"kind": "scan"}).status_code == 403
    assert (
        api("compliance.gd").get("/api/reveal-events/", {"kind": "scan", "field": "phone"}).status_code == 400
    )


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("id.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/png"),  # a GIF named as PNG
        ("id.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
        ("id.jpg", b"MZ\x90\x00" + b"\x00" * 64, "image/jpeg"),  # an executable
        ("id.txt", "张三 440305198506151234".encode(), "text/plain"),
    ],
)
def test_a_scan_that_is_not_an_image_or_pdf_is_400_on_scan(api, submit, name, content, content_type):
    resp = submit("advanced", scan=scan_upload(name, content, content_type))
    assert resp.status_code == 400, resp.content
    assert resp.json()["scan"][0]
    assert not ScanDocument.objects.exists()


def test_the_review_task_page_shows_the_scan_beside_the_data(client, users, submit):
    from tasks.models import HumanTask

    image = _opened(submit)
    pdf = _opened(
        submit,
        id_number=resident_id_other(),
        phone="13911112222",
        scan=scan_upload("id.pdf", PDF, "application/pdf"),
    )
    client.force_login(users["reviewer.sz"])
    for opening, marker in ((image, 'data-testid="scan-image"'), (pdf, 'data-testid="scan-pdf"')):
        task = HumanTask.objects.get(case_id=opening["id"], step="review", status="ready")
        page = client.get(f"/tasks/{task.pk}/").content.decode()
        assert 'data-testid="review-split"' in page and marker in page
        assert f'src="/api/account-openings/{opening["id"]}/scan/"' in page
    # Rendering the page is not a view of the scan (the browser's fetch of the file is).
    assert not RevealEvent.objects.filter(kind="scan").exists()


def resident_id_other() -> str:
    from datetime import date

    from tests.factories import resident_id

    return resident_id(birth=date(1960, 1, 2))

"""Nothing typed into the analysis, drill-down, export, corrective-action and form endpoints
produces a 5xx (run on PostgreSQL too: NUL characters and huge numbers reach the database)."""

from __future__ import annotations

import pytest

from backend.complaints.models import CorrectiveAction
from tests.complaints.factories import complaint_make, complaint_users

JUNK = [
    "",
    " ",
    "null",
    "0",
    "-1",
    "9" * 40,
    "²",
    "💥" * 50,
    "<script>alert(1)</script>",
    "'; DROP TABLE x; --",
    "\x00",
    "a\x00b",
    "a" * 5000,
]
JUNK_JSON = [
    None,
    [],
    [1, 2],
    "text",
    12,
    {"root_cause": None},
    {"root_cause": ["process"]},
    {"note": {"x": 1}},
    {"due_date": 20991231},
]


@pytest.fixture
def case(users):
    complaint_users()
    complaint = complaint_make(org="GD-SZ")
    action = CorrectiveAction.objects.create(
        complaint=complaint,
        root_cause="process",
        description="x",
        owner_org_unit=complaint.org_unit,
        due_date="2099-01-01",
        created_by=users["admin"],
    )
    return complaint, action


@pytest.mark.parametrize("user", ["handler.sz", "compliance.ho", "reviewer.sz", "collector.sz"])
def test_complaint_report_endpoints_never_500(api, case, user):
    complaint, action = case
    client = api(user)
    for value in JUNK:
        for params in (
            {"month": value},
            {"month": "2026-10", "dimension": value, "value": value},
            {"month": "2026-10", "dimension": "product", "value": value, "metric": "repeat"},
            {"month": "2026-10", "dimension": "org_unit", "value": value},
            {"month": "2026-10", "metric": value, "page": value},
        ):
            assert client.get("/api/complaints/analysis/", params).status_code < 500, params
            assert client.get("/api/complaints/analysis/cases/", params).status_code < 500, params
        for fmt in ("xlsx", "pdf", value):
            assert (
                client.get(
                    "/api/complaints/analysis/export/", {"month": value, "format": fmt, "reason": value}
                ).status_code
                < 500
            )
            assert (
                client.post(
                    "/api/complaints/analysis/export/",
                    {"month": value, "format": fmt, "reason": value},
                    format="json",
                ).status_code
                < 500
            )
        for field in ("root_cause", "note"):
            resp = client.post(
                f"/api/complaints/{complaint.pk}/root-cause/",
                {"root_cause": "other", field: value},
                format="json",
            )
            assert resp.status_code < 500, (field, value, resp.content[:300])
        for field in ("owner_org_unit", "due_date", "description", "root_cause"):
            body = {
                "owner_org_unit": complaint.org_unit_id,
                "due_date": "2099-01-01",
                "description": "x",
                field: value,
            }
            resp = client.post(f"/api/complaints/{complaint.pk}/corrective-actions/", body, format="json")
            assert resp.status_code < 500, (field, value, resp.content[:300])
        assert (
            client.post(
                f"/api/corrective-actions/{action.pk}/close/", {"note": value}, format="json"
            ).status_code
            < 500
        )
        assert (
            client.get(f"/api/complaints/{complaint.pk}/forms/handle.pdf", {"reason": value}).status_code
            < 500
        )
        for url in (
            f"/api/complaints/{complaint.pk}/forms/handle.pdf",
            f"/api/complaints/{complaint.pk}/forms/handle/reprint/",
            "/api/complaints/analysis/reprint/",
        ):
            assert client.post(url, {"reason": value, "month": value}, format="json").status_code < 500
    for body in JUNK_JSON:
        assert (
            client.post(f"/api/complaints/{complaint.pk}/root-cause/", body, format="json").status_code < 500
        )
        assert (
            client.post(
                f"/api/complaints/{complaint.pk}/corrective-actions/", body, format="json"
            ).status_code
            < 500
        )
        assert (
            client.post(f"/api/corrective-actions/{action.pk}/close/", body, format="json").status_code < 500
        )
    assert (
        client.post(f"/api/corrective-actions/{'9' * 30}/close/", {"note": "x"}, format="json").status_code
        < 500
    )
    assert client.get(f"/api/complaints/{'9' * 30}/forms/register.pdf").status_code < 500
    assert client.post(f"/api/complaints/{'9' * 30}/forms/register.pdf", format="json").status_code < 500


def test_complaint_report_pages_never_500(users, case):
    from django.test import Client

    complaint, action = case
    client = Client()
    assert client.login(username="handler.sz", password="demo-pass-2026")
    for value in JUNK:
        assert client.get("/complaints/analysis/", {"month": value}).status_code < 500
        assert (
            client.get(
                "/complaints/analysis/cases/",
                {"month": "2026-10", "dimension": "product", "value": value, "metric": value},
            ).status_code
            < 500
        )
        assert client.get("/complaints/analysis/export.xlsx", {"month": value}).status_code < 500
        assert (
            client.post(
                f"/complaints/{complaint.pk}/corrective/root-cause/", {"root_cause": value, "note": value}
            ).status_code
            < 500
        )
        body = {"owner_org_unit": value, "due_date": value, "description": value, "root_cause": value}
        assert client.post(f"/complaints/{complaint.pk}/corrective/actions/", body).status_code < 500
        assert (
            client.post(
                f"/corrective-actions/{action.pk}/close/", {"note": value, "complaint": value}
            ).status_code
            < 500
        )

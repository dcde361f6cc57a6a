"""The analysis over HTTP: JSON figures with drill-down links whose lists add up to the figure,
masked case rows, XLSX and signed PDF exports carrying the totals, 400 / 403 / 404."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from backend.complaints.analysis import METRICS
from tests.complaints.factories import complaint_users, seed_month
from tests.complaints.test_analysis import MONTH, TODAY


@pytest.fixture
def seeded(users):
    complaint_users()
    seed_month(month=MONTH, count=300, today=TODAY, seed=11)


def all_pages(client, url):
    rows, figure = [], None
    while url:
        body = client.get(url).json()
        rows += body["results"]
        figure = body["figure"]
        url = body["next"]
    return rows, figure


def test_every_figure_links_to_cases_that_add_up_to_it(api, seeded):
    client = api("compliance.gd")
    report = client.get("/api/complaints/analysis/", {"month": "2026-10"}).json()
    assert report["month"] == "2026-10" and report["totals"]["total"] > 50
    checked = 0
    for m in METRICS:
        rows, figure = all_pages(client, report["cases"][m])
        weights = sum(r["weight"] for r in rows)
        assert figure == weights == report["totals"][m], m
        checked += 1
    for row in report["dimensions"]["org_unit"]:
        rows, figure = all_pages(client, row["cases"]["total"])
        assert len(rows) == row["total"] == figure
        assert {r["org_unit"] for r in rows} == {row["label"]}
        checked += 1
    assert checked > len(METRICS)
    sample = rows[0]
    assert "*" in sample["complainant_phone"] and len(sample["complainant_phone"]) == 11


def test_bad_parameters_are_400_and_non_readers_403(api, seeded):
    client = api("compliance.ho")
    bad = client.get("/api/complaints/analysis/cases/", {"month": "2026-1", "metric": "nope"})
    assert bad.status_code == 400 and set(bad.json()) >= {"month", "metric"}
    assert client.get("/api/complaints/analysis/", {"month": "2026/10"}).status_code == 400
    assert api("reviewer.sz").get("/api/complaints/analysis/", {"month": "2026-10"}).status_code == 403
    assert api("collector.sz").get("/api/complaints/analysis/cases/", {"month": "2026-10"}).status_code == 403
    assert (
        client.get("/api/complaints/analysis/export/", {"month": "2026-10", "format": "doc"}).status_code
        == 404
    )


def pdftotext(pdf: bytes) -> str:
    """Whitespace removed: pdftotext may letter-space CJK text."""
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return re.sub(r"\s+", "", out)


def test_the_exports_carry_the_totals_and_the_pdf_is_signed(api, client, seeded):
    api_client = api("compliance.gd")
    report = api_client.get("/api/complaints/analysis/", {"month": "2026-10"}).json()
    totals = report["totals"]

    resp = api_client.get("/api/complaints/analysis/export/", {"month": "2026-10", "format": "xlsx"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(resp.content))
    assert book.sheetnames == ["合计", "投诉类别", "投诉渠道", "责任机构", "险种", "根本原因"]
    summary = {row[0]: row[1] for row in book["合计"].iter_rows(min_row=3, values_only=True)}
    assert summary["投诉总量"] == totals["total"] and summary["重复投诉"] == totals["repeat"]
    assert summary["整改逾期"] == totals["actions_overdue"]
    units = book["责任机构"]
    assert units.cell(row=units.max_row, column=1).value == "合计"
    assert units.cell(row=units.max_row, column=2).value == totals["total"]
    assert units.max_row == len(report["dimensions"]["org_unit"]) + 3
    assert book["合计"].cell(row=1, column=1).value == "广东省分公司 客户投诉分析表"

    # The signed PDF is a print (a record, an audit event): a POST; a GET prints nothing (control 13).
    assert (
        api_client.get("/api/complaints/analysis/export/", {"month": "2026-10", "format": "pdf"}).status_code
        == 405
    )
    pdf = api_client.post(
        "/api/complaints/analysis/export/", {"month": "2026-10", "format": "pdf"}, format="json"
    )
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdftotext(pdf.content)
    assert "客户投诉分析表" in text and "广东省分公司" in text and "2026-10" in text
    assert f"投诉总量{totals['total']}" in text and f"重复投诉{totals['repeat']}" in text
    assert "合计" in text and "深圳市分公司" in text
    verdict = client.post(
        "/api/documents/verify/", {"pdf": SimpleUploadedFile("a.pdf", pdf.content, "application/pdf")}
    )
    assert verdict.json()["verdict"] == "genuine"
    assert verdict.json()["document"]["kind_label"] == "客户投诉分析表"
    again = api_client.post(
        "/api/complaints/analysis/export/", {"month": "2026-10", "format": "pdf"}, format="json"
    )
    assert again.status_code == 400 and again.json()["code"] == "reprint_reason_required"
    copy = api_client.post(
        "/api/complaints/analysis/export/",
        {"month": "2026-10", "format": "pdf", "reason": "报送监管"},
        format="json",
    )
    assert copy.status_code == 200 and copy["X-Copy-Number"] == "1"
    refused = api_client.post("/api/complaints/analysis/reprint/", {"month": "2026-10"}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()
    second = api_client.post(
        "/api/complaints/analysis/reprint/", {"month": "2026-10", "reason": "报送监管部门"}, format="json"
    )
    assert second.status_code == 200 and second["X-Copy-Number"] == "2"

"""客户投诉分析表 and 溯源整改 pages: figures with drill-down links whose pages match, chart data,
exports (XLSX, signed PDF with the reprint-reason page), the corrective-actions section with
field errors that change nothing, scope."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import io
import json
import re

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from backend.complaints.models import CorrectiveAction
from backend.organisation.models import OrgUnit
from tests.complaints.factories import complaint_make, complaint_users, seed_month
from tests.complaints.test_analysis import MONTH, TODAY


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="demo-pass-2026")
    return client


@pytest.fixture
def seeded(users):
    complaint_users()
    seed_month(month=MONTH, count=200, today=TODAY, seed=3)


def test_the_analysis_page_shows_figures_charts_and_drill_downs_that_match(seeded):
    client = login("compliance.gd")
    page = client.get("/complaints/analysis/?month=2026-10")
    assert page.status_code == 200
    html = page.content.decode()
    assert "echarts.min.js" in html and "complaint_charts.js" in html
    assert 'data-testid="nav-complaint-analysis"' in html
    charts = json.loads(
        re.search(
            r'<script id="complaint-chart-data" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    total = int(re.search(r'data-testid="total-total">(\d+)<', html).group(1))
    assert sum(item["value"] for item in charts["category"]) == total
    assert len(charts["org_unit"]["labels"]) == len(charts["org_unit"]["on_time"])
    for metric in ("total", "repeat", "actions_open"):
        link = htmllib.unescape(
            re.search(rf'<a href="([^"]+)" data-testid="total-{metric}">(\d+)<', html).group(1)
        )
        figure = int(re.search(rf'data-testid="total-{metric}">(\d+)<', html).group(1))
        drill = client.get(link)
        assert drill.status_code == 200
        count = re.search(r"合计 (\d+)", drill.content.decode()).group(1)
        assert int(count) == figure, metric
    assert "analysis-section-org_unit" in html and "深圳市分公司" in html
    # 整改跟踪: the open corrective actions, overdue ones marked (the seed has some)
    open_rows = html.count('data-testid="open-action"')
    assert open_rows == min(20, int(re.search(r'data-testid="total-actions_open">(\d+)<', html).group(1)))
    assert "逾期" in html.split('data-testid="analysis-actions"')[1]
    # every figure cell of the tables is a drill-down link
    assert html.count("/complaints/analysis/cases/?") > 17 * 5


def test_the_drill_down_page_masks_phones(users):
    complaint_users()
    complaint_make(
        org="GD-SZ", complainant_phone="13912345678", received_at=dt.datetime(2026, 10, 3, 10, tzinfo=dt.UTC)
    )
    page = login("handler.sz").get("/complaints/analysis/cases/?month=2026-10&metric=total")
    text = page.content.decode()
    assert page.status_code == 200 and "139****5678" in text and "13912345678" not in text


def test_bad_month_is_400_and_non_readers_403(seeded):
    bad = login("compliance.gd").get("/complaints/analysis/?month=2026-99")
    assert bad.status_code == 400 and "YYYY-MM" in bad.content.decode()
    assert login("reviewer.sz").get("/complaints/analysis/?month=2026-10").status_code == 403
    assert 'data-testid="nav-complaint-analysis"' not in login("reviewer.sz").get("/inbox/").content.decode()
    assert login("compliance.gd").get("/complaints/analysis/cases/?month=2026-10&metric=x").status_code == 400


def test_exports_from_the_page(seeded):
    client = login("compliance.ho")
    xlsx = client.get("/complaints/analysis/export.xlsx?month=2026-10")
    assert xlsx.status_code == 200
    assert (
        load_workbook(io.BytesIO(xlsx.content))["合计"].cell(row=1, column=1).value == "总公司 客户投诉分析表"
    )
    # The signed PDF is printed by a POST (control 13); a GET only shows the print form.
    page = client.get("/complaints/analysis/export.pdf?month=2026-10")
    assert page.status_code == 200 and 'data-testid="reprint-form"' in page.content.decode()
    assert 'method="post"' in page.content.decode()
    pdf = client.post("/complaints/analysis/export.pdf?month=2026-10")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    ask = client.post("/complaints/analysis/export.pdf?month=2026-10")
    assert ask.status_code == 200 and 'data-testid="reprint-form"' in ask.content.decode()
    copy = client.post("/complaints/analysis/export.pdf?month=2026-10", {"reason": "报送监管部门"})
    assert copy["X-Copy-Number"] == "1"
    again = client.post("/complaints/analysis/reprint/", {"month": "2026-10", "reason": "报送监管部门存档"})
    assert again["X-Copy-Number"] == "2"
    assert client.get("/complaints/analysis/export.csv?month=2026-10").status_code == 404


def test_the_corrective_section(users):
    complaint_users()
    complaint = complaint_make(org="GD-SZ")
    client = login("handler.sz")
    page = client.get(f"/complaints/{complaint.pk}/corrective/actions/")
    assert page.status_code == 200 and 'data-testid="root-cause-form"' in page.content.decode()
    assert f"/complaints/{complaint.pk}/forms/handle.pdf" in page.content.decode()

    bad = client.post(
        f"/complaints/{complaint.pk}/corrective/root-cause/", {"root_cause": "other", "note": ""}
    )
    assert bad.status_code == 400 and "须填写原因说明" in bad.content.decode()
    complaint.refresh_from_db()
    assert complaint.root_cause == ""

    ok = client.post(
        f"/complaints/{complaint.pk}/corrective/root-cause/", {"root_cause": "system", "note": "核心系统宕机"}
    )
    assert ok.status_code == 302
    complaint.refresh_from_db()
    assert complaint.root_cause == "system"

    sz = OrgUnit.objects.get(code="GD-SZ").pk
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    bad = client.post(
        f"/complaints/{complaint.pk}/corrective/actions/",
        {"owner_org_unit": sz, "due_date": past, "description": "升级系统"},
    )
    assert bad.status_code == 400 and "整改期限不能早于今天" in bad.content.decode()
    assert not CorrectiveAction.objects.exists()
    due = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    ok = client.post(
        f"/complaints/{complaint.pk}/corrective/actions/",
        {"owner_org_unit": sz, "due_date": due, "description": "升级系统"},
    )
    assert ok.status_code == 302
    action = CorrectiveAction.objects.get()
    assert action.root_cause == "system" and action.status == "open"

    client.post(f"/corrective-actions/{action.pk}/close/", {"note": "", "complaint": complaint.pk})
    action.refresh_from_db()
    assert action.status == "open"
    done = client.post(
        f"/corrective-actions/{action.pk}/close/", {"note": "系统已升级", "complaint": complaint.pk}
    )
    assert done.status_code == 302
    action.refresh_from_db()
    assert action.status == "closed" and action.closing_note == "系统已升级"

    form = client.post(f"/complaints/{complaint.pk}/forms/handle.pdf")
    assert form.status_code == 200 and form["Content-Type"] == "application/pdf"
    assert login("handler.hz").get(f"/complaints/{complaint.pk}/corrective/actions/").status_code == 404
    assert login("reviewer.sz").get(f"/complaints/{complaint.pk}/corrective/actions/").status_code == 200
    assert (
        'data-testid="root-cause-form"'
        not in login("reviewer.sz").get(f"/complaints/{complaint.pk}/corrective/actions/").content.decode()
    )

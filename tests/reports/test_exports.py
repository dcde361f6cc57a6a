from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tests.reports.seed import seed_tasks

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
PARAMS = {
    "group_by": "org_unit",
    "period": "month",
    "from": (TODAY - dt.timedelta(days=200)).isoformat(),
    "to": (TODAY + dt.timedelta(days=30)).isoformat(),
}


@pytest.fixture
def seeded(users):
    seed_tasks(count=400, now=timezone.now(), users=[users["reviewer.sz"], users["reviewer.gd"]])


def test_csv_xlsx_and_pdf_carry_the_report_figures(api, seeded):
    client = api("compliance.ho")
    report = client.get("/api/reports/sla/", PARAMS).json()
    totals = report["totals"]

    resp = client.get("/api/reports/sla/export/csv/", PARAMS)
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["分组", "周期", "任务数", "按时完成"]
    assert len(rows) == len(report["rows"]) + 2
    assert rows[-1][0] == "合计" and [int(x) for x in rows[-1][2:5]] == [
        totals["total"],
        totals["on_time"],
        totals["breached"],
    ]
    assert [int(x) for x in rows[1][2:5]] == [report["rows"][0][m] for m in ("total", "on_time", "breached")]

    sheet = load_workbook(io.BytesIO(client.get("/api/reports/sla/export/xlsx/", PARAMS).content)).active
    assert sheet.cell(row=sheet.max_row, column=3).value == totals["total"]
    assert sheet.max_row == len(report["rows"]) + 3

    pdf = client.get("/api/reports/sla/export/pdf/", PARAMS)
    assert pdf["Content-Type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    assert "合计" in text and str(totals["total"]) in text and "深圳市分公司" in text

    assert client.get("/api/reports/sla/export/doc/", PARAMS).status_code == 404
    assert api("reviewer.sz").get("/api/reports/sla/export/csv/", PARAMS).status_code == 403

"""Control 8: every XLSX and CSV the system writes is inert.

Three layers, each generated so that a new export cannot slip past:
- the rule itself (`inert`): text starting with = + - @ tab CR is quoted, numbers stay numbers;
- the source walk: no module but backend/common/spreadsheets.py may write CSV or XLSX directly;
- the URL walk: every download URL of the URL conf that serves a spreadsheet is listed in
  EXERCISES, and each exercise plants hostile text where users type it and checks the file.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from openpyxl import load_workbook

from backend.common.spreadsheets import FORMULA_TRIGGERS, csv_bytes, inert
from backend.organisation.models import OrgUnit

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("backend", "processes", "tasks", "pdfs", "forms")
HELPER = ROOT / "backend" / "common" / "spreadsheets.py"

HOSTILE = [
    '=HYPERLINK("http://127.0.0.1:9/x","点我")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_starts_like_a_formula_is_quoted(text):
    assert inert(text) == "'" + text


@pytest.mark.parametrize("value", [-12, -3.5, Decimal("-7.25"), 0, True, None, dt.date(2026, 10, 1)])
def test_numbers_and_other_typed_values_stay_as_they_are(value):
    assert inert(value) is value


@pytest.mark.parametrize("text", ["投诉事项", "95.0%", "a=b", "", " =1"])
def test_ordinary_text_is_unchanged(text):
    assert inert(text) == text


def test_csv_bytes_quotes_hostile_text_and_keeps_numbers():
    rows = list(csv.reader(io.StringIO(csv_bytes([[HOSTILE[0], -5, 3]]).decode("utf-8-sig"))))
    assert rows == [["'" + HOSTILE[0], "-5", "3"]]


# --- the source walk ----------------------------------------------------------------------------

RAW_WRITERS = {("csv", "writer"), ("csv", "DictWriter"), ("openpyxl", "Workbook")}
RAW_MODULES = ("openpyxl.cell", "openpyxl.writer", "openpyxl.worksheet", "xlsxwriter")


def _raw_writer_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            for alias in node.names:
                if (top, alias.name) in RAW_WRITERS or node.module.startswith(RAW_MODULES):
                    hits.append(
                        f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import {alias.name}"
                    )
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(RAW_MODULES):
                    hits.append(f"{path.relative_to(ROOT)}:{node.lineno} import {alias.name}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in RAW_WRITERS:
                hits.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    return hits


def test_no_module_writes_csv_or_xlsx_except_through_the_inert_helper():
    offenders = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == HELPER or "migrations" in path.parts:
                continue
            offenders += _raw_writer_uses(path)
    assert offenders == [], "write spreadsheets through backend.common.spreadsheets:\n" + "\n".join(offenders)


def test_the_source_walk_sees_a_raw_writer():
    # The walk is not vacuous: the helper itself uses the raw writers it bans elsewhere.
    assert _raw_writer_uses(HELPER)


# --- the URL walk -------------------------------------------------------------------------------

SPREADSHEET_ROUTE = re.compile(r"export|\.xlsx|\.csv|archives/<|result")


def _routes(resolver=None, prefix: str = "") -> list[tuple[str, str]]:
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += _routes(entry, route)
        elif isinstance(entry, URLPattern):
            found.append((entry.name or "", route))
    return found


def _assert_inert_xlsx(content: bytes, planted: list[str]) -> None:
    workbook = load_workbook(io.BytesIO(content))
    texts = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_TRIGGERS), (
                        sheet.title,
                        cell.coordinate,
                        cell.value,
                    )
                    texts.append(cell.value)
    blob = "\n".join(texts)
    for text in planted:
        assert "'" + text in blob, f"hostile text {text!r} did not reach the export"


def _assert_inert_csv(content: bytes, planted: list[str]) -> None:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    values = [value for row in rows for value in row]
    for value in values:
        assert not value.startswith(FORMULA_TRIGGERS), value
    blob = "\n".join(values)
    for text in planted:
        assert "'" + text in blob, f"hostile text {text!r} did not reach the export"


def _assert_inert(content: bytes, fmt: str, planted: list[str]) -> None:
    (_assert_inert_xlsx if fmt == "xlsx" else _assert_inert_csv)(content, planted)


def _plant_org_unit_name(text: str) -> OrgUnit:
    unit = OrgUnit.objects.get(code="GD-SZ")
    unit.name = text
    unit.save(update_fields=["name"])
    return unit


TODAY = timezone.localdate()
SLA_PARAMS = {
    "group_by": "org_unit",
    "period": "month",
    "from": (TODAY - dt.timedelta(days=200)).isoformat(),
    "to": (TODAY + dt.timedelta(days=30)).isoformat(),
}


def _sla_seeded(users) -> str:
    from tests.reports.seed import seed_tasks

    seed_tasks(count=60, now=timezone.now(), users=[users["reviewer.sz"], users["reviewer.gd"]])
    _plant_org_unit_name(HOSTILE[0])
    return HOSTILE[0]


def exercise_sla_export_api(*, api, client, users):
    planted = _sla_seeded(users)
    for fmt in ("xlsx", "csv"):
        resp = api("compliance.ho").get(f"/api/reports/sla/export/{fmt}/", SLA_PARAMS)
        assert resp.status_code == 200, resp.content
        _assert_inert(resp.content, fmt, [planted])


def exercise_sla_export_web(*, api, client, users):
    planted = _sla_seeded(users)
    client.force_login(users["compliance.ho"])
    for fmt in ("xlsx", "csv"):
        resp = client.get(f"/reports/sla/export.{fmt}", SLA_PARAMS)
        assert resp.status_code == 200, resp.content[:300]
        _assert_inert(resp.content, fmt, [planted])


def _archive(users):
    from backend.reports.services import sla_report_archive
    from tests.reports.seed import seed_tasks

    seed_tasks(count=60, now=timezone.now(), users=[users["reviewer.sz"], users["reviewer.gd"]])
    _plant_org_unit_name(HOSTILE[1])
    month = (TODAY.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    archives = sla_report_archive(month=month)
    return next(a for a in archives if a.org_unit.code == "GD"), HOSTILE[1]


def exercise_archive_api(*, api, client, users):
    archive, planted = _archive(users)
    resp = api("compliance.ho").get(f"/api/reports/archives/{archive.pk}/xlsx/")
    assert resp.status_code == 200, resp.content
    _assert_inert(resp.content, "xlsx", [planted])


def exercise_archive_web(*, api, client, users):
    archive, planted = _archive(users)
    client.force_login(users["compliance.ho"])
    resp = client.get(f"/reports/archives/{archive.pk}.xlsx")
    assert resp.status_code == 200, resp.content[:300]
    _assert_inert(resp.content, "xlsx", [planted])


def _complaints_seeded() -> list[str]:
    from tests.complaints.factories import complaint_make, complaint_users

    complaint_users()
    planted = [HOSTILE[0], HOSTILE[3], HOSTILE[4]]
    for text in planted:
        complaint_make(org="GD-SZ", product=text, received_at=dt.datetime(2026, 10, 10, 10, tzinfo=dt.UTC))
    return planted


def exercise_complaint_analysis_api(*, api, client, users):
    planted = _complaints_seeded()
    resp = api("compliance.ho").get(
        "/api/complaints/analysis/export/", {"month": "2026-10", "format": "xlsx"}
    )
    assert resp.status_code == 200, resp.content
    _assert_inert(resp.content, "xlsx", planted)


def exercise_complaint_analysis_web(*, api, client, users):
    planted = _complaints_seeded()
    client.force_login(users["compliance.ho"])
    resp = client.get("/complaints/analysis/export.xlsx", {"month": "2026-10"})
    assert resp.status_code == 200, resp.content[:300]
    _assert_inert(resp.content, "xlsx", planted)


def exercise_import_result(*, api, client, users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from backend.integrations import imports
    from backend.integrations.models import ImportBatch, ImportRow

    upload = SimpleUploadedFile("legacy.csv", "姓名,证件类型,证件号码,联系电话,通讯地址\n".encode())
    resp = api("officer.sz").post("/api/integrations/imports/", {"file": upload}, format="multipart")
    assert resp.status_code in (200, 202), resp.content
    batch = ImportBatch.objects.get(pk=resp.json()["id"])
    for n, text in enumerate(HOSTILE, start=1):
        ImportRow.objects.update_or_create(
            batch=batch, row_number=n, defaults={"outcome": "invalid", "message": text}
        )
    imports._result_file(batch)  # the job's own writer of the result file
    batch.save(update_fields=["result_file"])
    resp = api("officer.sz").get(f"/api/integrations/imports/{batch.pk}/result.xlsx")
    assert resp.status_code == 200
    _assert_inert(b"".join(resp.streaming_content) if resp.streaming else resp.content, "xlsx", HOSTILE)


# Every spreadsheet download of the URL conf → the exercise that feeds it hostile text.
EXERCISES = {
    "api-report-sla-export": exercise_sla_export_api,
    "sla-report-export": exercise_sla_export_web,
    "api-report-archive-file": exercise_archive_api,
    "report-archive-download": exercise_archive_web,
    "api-complaint-analysis-export": exercise_complaint_analysis_api,
    "complaint-analysis-export": exercise_complaint_analysis_web,
    "api-import-result": exercise_import_result,
}
# Routes the pattern matches that serve no spreadsheet (lists, pages, PDFs only).
NOT_SPREADSHEETS = {"report-archives", "api-report-archives"}


def test_every_spreadsheet_download_of_the_url_conf_has_an_exercise():
    candidates = {name for name, route in _routes() if SPREADSHEET_ROUTE.search(route)}
    missing = sorted(candidates - set(EXERCISES) - NOT_SPREADSHEETS)
    assert missing == [], f"new export URLs need an exercise with hostile text here: {missing}"
    assert set(EXERCISES) <= candidates, "an exercised route left the URL conf"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_each_export_writes_hostile_text_as_inert_text(name, api, client, users):
    EXERCISES[name](api=api, client=client, users=users)

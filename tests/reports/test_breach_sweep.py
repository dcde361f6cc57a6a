"""The SLA sweep writes one breach record per late task (idempotently) with its escalation
chain; the monthly archive stores the report once as PDF and XLSX."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit
from backend.reports.jobs import archive_monthly_sla, sweep_sla_breaches
from backend.reports.models import ReportArchive, SlaBreach
from backend.reports.services import sla_breaches_sweep
from processes.sweep import timers_sweep
from tasks.models import HumanTask

pytestmark = pytest.mark.django_db


def test_an_escalated_task_gets_one_breach_record_with_its_chain(submit, api, users):
    submit("advanced")
    task = HumanTask.objects.get(step="review", status="ready")
    due = task.due_at
    timers_sweep(now=due + dt.timedelta(minutes=1))  # the escalation timer takes it to the province
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("cancelled", "escalated")

    first = sweep_sla_breaches()  # the beat job, run here in-process
    again = sla_breaches_sweep()
    assert first["created"] >= 1 and again == {"created": 0, "resolved": 0}
    breach = SlaBreach.objects.get(task=task)
    assert breach.resolution == "escalated" and breach.due_at == due
    assert breach.org_unit.code == "GD-SZ"
    events = [entry["event"] for entry in breach.chain]
    assert events[0] == "created" and "escalated" in events and events[-1] == "escalated_to"
    assert breach.chain[0]["org_unit"] == "深圳市分公司" and breach.chain[-1]["org_unit"] == "广东省分公司"
    assert AuditEvent.objects.filter(action="task.sla_breached", task_id=task.pk).count() == 1

    detail = api("compliance.gd").get(f"/api/tasks/{task.pk}/sla/").json()
    assert detail["sla_state"] == "escalated" and detail["breach"]["chain"][-1]["event"] == "escalated_to"
    assert api("reviewer.hz").get(f"/api/tasks/{task.pk}/sla/").status_code == 404


def test_an_overdue_task_is_recorded_then_resolved_when_done(submit, users):
    submit("advanced")
    task = HumanTask.objects.get(step="review", status="ready")
    HumanTask.objects.filter(pk=task.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    assert sla_breaches_sweep()["created"] == 1
    breach = SlaBreach.objects.get(task=task)
    assert breach.resolved_at is None and breach.resolution == ""
    done_at = timezone.now()
    HumanTask.objects.filter(pk=task.pk).update(
        status="completed", completed_at=done_at, completed_by=users["reviewer.sz"]
    )
    assert sla_breaches_sweep() == {"created": 0, "resolved": 1}
    breach.refresh_from_db()
    assert (breach.resolution, breach.resolved_at, breach.assignee) == (
        "completed",
        done_at,
        users["reviewer.sz"],
    )


def test_monthly_archive_is_written_once_per_unit(demo):
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert archive_monthly_sla() == 3  # head office + two provinces (the beat job, in-process)
    assert archive_monthly_sla() == 3
    archives = ReportArchive.objects.filter(month=month)
    assert sorted(a.org_unit.code for a in archives) == ["GD", "HO", "ZJ"]
    archive = archives.get(org_unit=OrgUnit.objects.get(code="GD"))
    assert bytes(archive.pdf).startswith(b"%PDF")
    sheet = load_workbook(io.BytesIO(bytes(archive.xlsx))).active
    assert sheet["A1"].value == f"广东省分公司 {month:%Y-%m} 时限报表"
    assert sheet["A2"].value == "分组" and sheet.cell(row=sheet.max_row, column=1).value == "合计"


def test_archives_are_listed_and_downloaded_within_the_report_scope(demo, api, client):
    archive_monthly_sla()
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    # Guangdong's compliance sees Guangdong's archive only; head office sees all three.
    rows = api("compliance.gd").get("/api/reports/archives/").json()["results"]
    assert [(r["org_unit"], r["month"]) for r in rows] == [("GD", f"{month:%Y-%m}")]
    assert len(api("compliance.ho").get("/api/reports/archives/").json()["results"]) == 3
    gd = rows[0]["id"]
    pdf = api("compliance.gd").get(f"/api/reports/archives/{gd}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf["Content-Type"] == "application/pdf"
    xlsx = api("compliance.gd").get(f"/api/reports/archives/{gd}/xlsx/")
    assert load_workbook(io.BytesIO(xlsx.content)).active["A1"].value == f"广东省分公司 {month:%Y-%m} 时限报表"
    zj = ReportArchive.objects.get(month=month, org_unit__code="ZJ").pk
    assert api("compliance.gd").get(f"/api/reports/archives/{zj}/pdf/").status_code == 404
    assert api("compliance.gd").get(f"/api/reports/archives/{gd}/docx/").status_code == 404
    assert api("collector.sz").get("/api/reports/archives/").status_code == 403
    # The page lists them with download links.
    client.login(username="compliance.gd", password="demo-pass-2026")
    page = client.get("/reports/archives/")
    assert page.status_code == 200 and f"/reports/archives/{gd}.pdf" in page.content.decode()
    assert client.get(f"/reports/archives/{gd}.xlsx").status_code == 200
    assert client.get(f"/reports/archives/{zj}.pdf").status_code == 404

"""客服信息分析报告 (seed 001 §三: 客服中心每月提交客服信息分析报告): the month's customer-service
figures of one org unit's subtree — contacts by channel and kind, the hotline's hot topics, the
complaints (from the complaint analysis), segments and alerts, revisits done and late, the
customer managers' visit reports, and data quality. On (or after) the first working day of a month the previous month's
report of head office and of every province is archived once as XLSX and signed PDF, and the
decision makers named for that unit (report recipients of kind `service_monthly`) are notified."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.exceptions import NotFound
from backend.common.spreadsheets import xlsx_bytes
from backend.common.workdays import first_workday_of_month
from backend.complaints.analysis import Month, complaint_analysis_of_unit, metric_labels
from backend.customers.models import (
    ContactChannel,
    ContactKind,
    Customer,
    CustomerContact,
    CustomerStatus,
    InfoLevel,
)
from backend.hotline.models import CallCategory, Handoff, HotlineCall
from backend.hotline.printing import service_report_archive_print
from backend.organisation.models import OrgLevel, OrgUnit
from backend.reports.models import ReportArchive
from backend.reports.selectors import report_scope_paths
from backend.reports.services import archive_units, report_archive_once
from backend.segments.models import CustomerSegment
from backend.segments.rules import ALERT_LABELS
from backend.service.models import Revisit, RevisitKind, RevisitStatus, VisitReport, VisitReportStatus

REPORT_KIND = "service_monthly"
COMPLAINT_TOTALS = ("total", "closed", "on_time", "late", "open", "major")


def _pct(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def _contacts(unit: OrgUnit, month: Month) -> dict[str, Any]:
    start, end = month.bounds()
    rows = (
        CustomerContact.objects.filter(customer__org_unit__path__startswith=unit.path, created_at__gte=start, created_at__lt=end)
        .values("channel", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    table: dict[str, Counter] = {c: Counter() for c in ContactChannel.values}
    for r in rows:
        table.setdefault(r["channel"], Counter())[r["kind"]] += r["n"]
    kinds = ContactKind.values
    labels = dict(ContactChannel.choices)
    out_rows = [[str(labels.get(ch, ch)), *[c[k] for k in kinds], sum(c.values())] for ch, c in table.items() if sum(c.values())]
    total = [_("合计"), *[sum(table[ch][k] for ch in table) for k in kinds], sum(sum(c.values()) for c in table.values())]
    return {
        "title": _("联系记录（按渠道与类型）"),
        "headers": [_("渠道"), *[str(label) for _value, label in ContactKind.choices], _("合计")],
        "rows": [*out_rows, total],
        "total": total[-1],
        "chart": [{"name": r[0], "value": r[-1]} for r in out_rows],
    }


def _hotline(unit: OrgUnit, month: Month) -> dict[str, Any]:
    start, end = month.bounds()
    calls = HotlineCall.objects.filter(org_unit__path__startswith=unit.path, created_at__gte=start, created_at__lt=end)
    per = {
        r["category"]: r
        for r in calls.values("category").annotate(
            n=Count("id"),
            complaints=Count("id", filter=Q(handoff=Handoff.COMPLAINT)),
            changes=Count("id", filter=Q(handoff=Handoff.AMENDMENT)),
            claims=Count("id", filter=Q(handoff=Handoff.CLAIM_REPORT)),
            unknown=Count("id", filter=Q(customer__isnull=True)),
        )
    }
    total = sum(r["n"] for r in per.values())
    ordered = sorted(per.values(), key=lambda r: -r["n"])
    labels = dict(CallCategory.choices)
    rows = [
        [str(labels.get(r["category"], r["category"])), r["n"], _pct(r["n"], total), r["complaints"], r["changes"], r["claims"], r["unknown"]]
        for r in ordered
    ]
    sums = [sum(r[i] for r in per.values()) for i in ("complaints", "changes", "claims", "unknown")]
    rows.append([_("合计"), total, _pct(total, total), *sums])
    return {
        "title": _("热线咨询热点（按咨询类别，从多到少）"),
        "headers": [_("咨询类别"), _("来电数"), _("占比"), _("转投诉"), _("转资料变更"), _("转理赔报案"), _("未知来电")],
        "rows": rows,
        "total": total,
        "top": str(labels.get(ordered[0]["category"], "")) if ordered else "",
        "chart": [{"name": r[0], "value": r[1]} for r in rows[:-1]],
    }


def _complaints(unit: OrgUnit, month: Month, today: dt.date) -> dict[str, Any]:
    totals = complaint_analysis_of_unit(unit=unit, month=month, today=today)["totals"]
    labels = metric_labels()
    rows = [[labels.get(m, m), totals.get(m, 0)] for m in COMPLAINT_TOTALS]
    rate = totals.get("on_time_rate")
    rows.append([_("按时办结率"), "—" if rate is None else f"{rate * 100:.1f}%"])  # a fraction (complaints.analysis._rate)
    return {"title": _("客户投诉（详见客户投诉分析表）"), "headers": [_("指标"), _("数量")], "rows": rows, "total": totals.get("total", 0)}


def _segments(unit: OrgUnit) -> dict[str, Any]:
    rows_qs = CustomerSegment.objects.filter(org_unit__path__startswith=unit.path)
    counts = rows_qs.aggregate(good=Count("id", filter=Q(good=True)), key=Count("id", filter=Q(key=True)), alerted=Count("id", filter=Q(alerted=True)))
    alert_counts: Counter = Counter()
    for alerts in rows_qs.filter(alerted=True).values_list("alerts", flat=True).iterator(chunk_size=2000):
        for item in alerts or []:
            alert_counts[item.get("code")] += 1
    rows = [
        [_("优质客户"), counts["good"]],
        [_("大客户"), counts["key"]],
        *[[str(label), alert_counts.get(code, 0)] for code, label in ALERT_LABELS.items()],
        [_("有预警的客户"), counts["alerted"]],
    ]
    return {"title": _("客户分群与预警（月末）"), "headers": [_("分群/预警"), _("客户数")], "rows": rows, "alerted": counts["alerted"]}


def _visit_reports(unit: OrgUnit, month: Month) -> dict[str, Any]:
    """The visit reports due in the month (those of the month before it)."""
    start, end = month.bounds()
    reports = VisitReport.objects.filter(org_unit__path__startswith=unit.path, due_at__gte=start, due_at__lt=end)
    figures = reports.aggregate(
        due=Count("id"),
        on_time=Count("id", filter=Q(status=VisitReportStatus.SUBMITTED, late=False)),
        late=Count("id", filter=Q(status=VisitReportStatus.SUBMITTED, late=True)),
        missing=Count("id", filter=~Q(status=VisitReportStatus.SUBMITTED)),
    )
    rows = [[_("应交"), figures["due"]], [_("按时提交"), figures["on_time"]], [_("逾期提交"), figures["late"]], [_("未提交"), figures["missing"]]]
    return {"title": _("客户经理月度走访分析报告（本月应交）"), "headers": [_("状态"), _("份数")], "rows": rows, "late": figures["late"] + figures["missing"]}


def _revisits(unit: OrgUnit, month: Month) -> dict[str, Any]:
    """Revisits due in the month, by kind: done on time, done late, still open (overdue at the
    month's end)."""
    start, end = month.bounds()
    due = Revisit.objects.filter(org_unit__path__startswith=unit.path, due_at__gte=start, due_at__lt=end)
    per = {
        r["kind"]: r
        for r in due.values("kind").annotate(
            n=Count("id"),
            on_time=Count("id", filter=Q(status=RevisitStatus.DONE, late=False)),
            late=Count("id", filter=Q(status=RevisitStatus.DONE, late=True)),
            open=Count("id", filter=Q(status=RevisitStatus.OPEN)),
        )
    }
    labels = dict(RevisitKind.choices)
    rows = [[str(labels.get(k, k)), r["n"], r["on_time"], r["late"], r["open"]] for k, r in per.items()]
    sums = [sum(r[key] for r in per.values()) for key in ("n", "on_time", "late", "open")]
    rows.append([_("合计"), *sums])
    return {
        "title": _("回访（本月到期）"),
        "headers": [_("回访类型"), _("到期"), _("按时完成"), _("逾期完成"), _("未完成")],
        "rows": rows,
        "late": sums[2] + sums[3],
    }


def _quality(unit: OrgUnit, month: Month) -> dict[str, Any]:
    _start, end = month.bounds()
    customers = Customer.objects.filter(org_unit__path__startswith=unit.path, status=CustomerStatus.ACTIVE)
    figures = customers.aggregate(
        total=Count("id"),
        advanced=Count("id", filter=Q(info_level=InfoLevel.ADVANCED)),
        never=Count("id", filter=Q(last_verified_at__isnull=True)),
        # "Not verified for a year": the revisit plan's own threshold for a record-update task.
        stale=Count("id", filter=Q(last_verified_at__lt=end - dt.timedelta(days=settings.CUSTFLOW["REVISITS"]["STALE_DAYS"]))),
    )
    rows = [
        [_("有效客户"), figures["total"]],
        [_("高级程度占比"), _pct(figures["advanced"], figures["total"])],
        [_("从未核实"), figures["never"]],
        [_("一年以上未核实"), figures["stale"]],
    ]
    return {"title": _("客户信息质量（月末）"), "headers": [_("指标"), _("数值")], "rows": rows}


def service_report_of_unit(*, unit: OrgUnit, month: Month, today: dt.date | None = None) -> dict[str, Any]:
    """The month's report of `unit`'s subtree, as the system reads it (no user scope: the page
    checks who may read which unit)."""
    today = today or timezone.localdate()
    contacts = _contacts(unit, month)
    hotline = _hotline(unit, month)
    complaints = _complaints(unit, month, today)
    segments = _segments(unit)
    visits = _visit_reports(unit, month)
    revisits = _revisits(unit, month)
    quality = _quality(unit, month)
    return {
        "title": _("客服信息分析报告"),
        "month": month.label,
        "scope": unit.name,
        "org_unit": unit.code,
        "generated_at": timezone.now(),
        "totals": [
            {"label": _("联系记录"), "value": contacts["total"]},
            {"label": _("热线来电"), "value": hotline["total"]},
            {"label": _("咨询热点"), "value": hotline["top"] or "—"},
            {"label": _("客户投诉"), "value": complaints["total"]},
            {"label": _("有预警的客户"), "value": segments["alerted"]},
            {"label": _("逾期或未完成的回访"), "value": revisits["late"]},
            {"label": _("逾期或未交的走访报告"), "value": visits["late"]},
        ],
        "sections": [contacts, hotline, complaints, segments, revisits, visits, quality],
        "charts": {"contacts": contacts["chart"], "hotline": hotline["chart"]},
    }


def service_report_xlsx(report: dict[str, Any]) -> bytes:
    title = [f"{report['title']} {report['scope']} {report['month']}"]
    sheets = [
        {"name": _("合计"), "title": title, "headers": [_("指标"), _("数值")], "rows": [[t["label"], t["value"]] for t in report["totals"]]},
        *[
            {"name": f"{i + 1}", "title": [section["title"]], "headers": section["headers"], "rows": section["rows"], "first_width": 24}
            for i, section in enumerate(report["sections"])
        ],
    ]
    return xlsx_bytes(sheets)


# ---- the monthly archive -----------------------------------------------------------------------


def _previous(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


def service_report_archive_month(*, unit: OrgUnit, month: Month, now: dt.datetime) -> ReportArchive | None:
    """Archive one unit's report for one month and notify its decision makers; None when it was
    archived before."""

    def build() -> dict:
        report = service_report_of_unit(unit=unit, month=month, today=timezone.localdate(now))
        pdf, document = service_report_archive_print(unit=unit, month=month, report=report)
        return {
            "pdf": pdf,
            "xlsx": service_report_xlsx(report),
            "figures": {"totals": {str(t["label"]): t["value"] for t in report["totals"]}, "document_id": str(document.id)},
            "document_id": str(document.id),
        }

    message = _("%(unit)s %(month)s 客服信息分析报告已归档，请在报表归档中查阅。") % {"unit": unit.name, "month": month.label}
    return report_archive_once(kind=REPORT_KIND, unit=unit, month=month.first, now=now, build=build, message=message)


def service_report_archive(*, today: dt.date | None = None, now: dt.datetime | None = None) -> list[ReportArchive]:
    """The daily job: once the month's first working day has come, archive the previous month's
    report of head office and every province (a re-run changes nothing)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    if today < first_workday_of_month(today):
        return []
    month = Month(_previous(today.replace(day=1)))
    created = []
    for unit in archive_units():
        archive = service_report_archive_month(unit=unit, month=month, now=now)
        if archive is not None:
            created.append(archive)
    return created


# ---- who reads it --------------------------------------------------------------------------------


def service_report_units(user) -> list[OrgUnit]:
    """The units whose report the user may read: those inside his report scope (report roles,
    403 without one), head office and provinces first."""
    paths = report_scope_paths(user)
    units = [u for u in OrgUnit.objects.order_by("path") if any(u.path.startswith(p) for p in paths)]
    return sorted(units, key=lambda u: (u.level not in (OrgLevel.HEAD_OFFICE, OrgLevel.PROVINCE), u.path))


def service_report_unit_get(*, user, code: Any) -> OrgUnit:
    units = service_report_units(user)
    text = code.strip() if isinstance(code, str) else ""
    if not text:
        return units[0]
    unit = next((u for u in units if u.code == text[:32]), None)
    if unit is None:
        raise NotFound(_("机构不存在"), code="org_unit_not_found")
    return unit

"""月度走访分析报告 (seed 001 §二): every month a customer manager reports how many visits he made
and to how many customers, and what he found (the customers' needs, opinions and problems, and
his suggestions). No one approves it: it is his own report, and his unit head reads it.

The month's end is the timer: the daily job `service.visit_reports_open_due` opens, on or after
the first day of a month, one case per active manager for the month before (idempotent: a unique
constraint), started in the manager's name so that the step is his own. The report on month M is
due `CUSTFLOW["DEADLINES"]["visit_report"]` into month M+1 (P5WD: the end of its fifth working
day); one submitted after that is late, and the unit's page lists the late ones.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, Forbidden, ValidationFailed
from backend.common.workdays import add_working_days
from backend.service.models import CustomerManager, VisitReport, VisitReportStatus
from forms.validation import control_character_fields
from processes.runtime import deadline_value, parse_duration
from processes.services import process_instance_start

VISIT_REPORT_PROCESS = "customer_manager_visit_report"
VISIT_REPORT_CASE = "service.visitreport"
VISITS_MAX = 1000  # visits in a month: more is a typing slip, not a month's work
ANALYSIS_MAX = 5000
FIELDS = ("visits", "customers_visited", "analysis")
_WORKING_DAYS = re.compile(r"^P(\d+)WD$")


def month_of(day: date) -> date:
    return day.replace(day=1)


def previous_month(today: date) -> date:
    """The first day of the month before `today`'s."""
    return month_of(month_of(today) - timedelta(days=1))


def visit_report_due_at(month: date) -> datetime:
    """When the report on `month` is due: the deadline counted from the end of the month (P5WD:
    the end of the fifth working day of the next month, holidays and 调休 included)."""
    value = deadline_value("visit_report", "P5WD")
    next_month = month_of(month + timedelta(days=31))
    tz = timezone.get_current_timezone()
    match = _WORKING_DAYS.match(value)
    if match:
        month_end = timezone.make_aware(datetime.combine(next_month - timedelta(days=1), time(23, 59, 59)), tz)
        return add_working_days(month_end, int(match.group(1)))
    return timezone.make_aware(datetime.combine(next_month, time.min), tz) + parse_duration(value)


def visit_reports_open_due(*, today: date | None = None) -> int:
    """Open last month's report of every active customer manager who has none for it yet.
    Returns how many were opened; a second run the same month opens nothing."""
    today = today or timezone.localdate()
    month = previous_month(today)
    opened = 0
    managers = (
        CustomerManager.objects.filter(user__is_active=True)
        .exclude(visit_reports__month=month)
        .select_related("user", "org_unit")
        .order_by("pk")
    )
    for manager in managers:
        try:
            visit_report_open(manager=manager, month=month)
        except IntegrityError:
            continue  # another run opened it first
        opened += 1
    return opened


def visit_report_open(*, manager: CustomerManager, month: date) -> VisitReport:
    month = month_of(month)
    with transaction.atomic(), audit_batch():
        case = VisitReport.objects.create(manager=manager, month=month, due_at=visit_report_due_at(month), org_unit=manager.org_unit)
        audit_event_record(
            actor=None,
            action="visit_report.opened",
            obj=case,
            org_unit=manager.org_unit,
            data={"manager": manager.pk, "month": month.isoformat(), "due_at": case.due_at.isoformat()},
        )
        instance = process_instance_start(
            actor=manager.user,  # his report: the step is his own
            key=VISIT_REPORT_PROCESS,
            org_unit=manager.org_unit,
            data={"case_id": case.pk, "month": month.strftime("%Y-%m")},
            subject_type=VISIT_REPORT_CASE,
            subject_id=case.pk,
        )
        case.process_instance = instance
        case.save(update_fields=["process_instance"])
    return case


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def visit_report_values_clean(data: dict) -> dict[str, Any]:
    """The report's values, or a ValidationFailed naming every bad field at once."""
    errors: dict[str, list[str]] = {}
    visits, customers = _count(data.get("visits")), _count(data.get("customers_visited"))
    if visits is None:
        errors["visits"] = [_("请填写走访次数（整数）")]
    elif not 0 <= visits <= VISITS_MAX:
        errors["visits"] = [_("走访次数应在 0 至 %(n)s 之间") % {"n": VISITS_MAX}]
    if customers is None:
        errors["customers_visited"] = [_("请填写走访客户数（整数）")]
    elif customers < 0:
        errors["customers_visited"] = [_("走访客户数不能为负数")]
    elif visits is not None and "visits" not in errors and customers > visits:
        errors["customers_visited"] = [_("走访客户数不能多于走访次数")]
    analysis = data.get("analysis")
    text = analysis.strip() if isinstance(analysis, str) else ""
    if not text:
        errors["analysis"] = [_("请填写走访分析：客户的需求、意见、发现的问题和建议")]
    elif len(text) > ANALYSIS_MAX:
        errors["analysis"] = [_("走访分析不能超过 %(n)s 个字符") % {"n": ANALYSIS_MAX}]
    elif control_character_fields(text):
        errors["analysis"] = [_("不能包含控制字符")]
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_visit_report")
    return {"visits": visits, "customers_visited": customers, "analysis": text}


def visit_report_clean(data: dict, context: Any) -> dict:
    """The form's domain validator (`service.visit_report`): the same rules as the submission,
    before the task completes, so a bad report leaves the step open and writes nothing."""
    return {**data, **visit_report_values_clean(data)}


def _locked(case_id: Any) -> VisitReport:
    return VisitReport.objects.select_for_update(of=("self",)).select_related("org_unit", "manager").get(pk=int(case_id))


def visit_report_submit(*, actor, case_id: Any, data: dict) -> dict:
    """The manager's own step: the month's visits and his analysis. Late when after `due_at`."""
    case = _locked(case_id)
    if case.status != VisitReportStatus.OPEN:
        raise Conflict(_("该月度走访分析报告已办结"), code="visit_report_closed")
    if actor is None or actor.pk != case.manager.user_id:
        raise Forbidden(_("月度走访分析报告由客户经理本人提交"), code="not_the_manager")
    values = visit_report_values_clean(data)
    now = timezone.now()
    case.visits, case.customers_visited, case.analysis = values["visits"], values["customers_visited"], values["analysis"]
    case.status, case.submitted_at, case.late, case.closed_at = VisitReportStatus.SUBMITTED, now, now > case.due_at, now
    case.save(update_fields=["visits", "customers_visited", "analysis", "status", "submitted_at", "late", "closed_at"])
    audit_event_record(
        actor=actor,
        action="visit_report.submitted",
        obj=case,
        org_unit=case.org_unit,
        data={"month": case.month.isoformat(), "visits": case.visits, "customers_visited": case.customers_visited, "late": case.late},
    )
    return {"visits": case.visits, "customers_visited": case.customers_visited, "late": case.late}


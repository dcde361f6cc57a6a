"""SLA reports: figures by org level / unit, process, step, assignee and period, and the task
rows behind any figure. Level-scoped: a reader sees the subtrees of the org units where they
hold a report role; an org unit outside them is not found (404)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.exceptions import Forbidden, NotFound, ValidationFailed
from backend.organisation.models import OrgLevel, OrgUnit
from backend.organisation.selectors import user_role_assignments
from backend.reports.error_codes import ReportErrorCode
from backend.reports.models import ReportArchive, ReportRecipient
from processes.types import process_type_label
from tasks.models import HumanTask
from tasks.selectors import task_get_visible
from tasks.sla import METRICS, metric_q, task_sla_state

DIMENSIONS = {
    # name → (group-by column, label column)
    "org_level": ("org_unit__level", None),
    "org_unit": ("org_unit_id", None),
    "process": ("process_key", "process_name"),
    "step": ("step", "name"),
    "assignee": ("person", "person_name"),
}
PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
MAX_RANGE_DAYS = 800


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def report_scope_paths(user) -> list[str]:
    """Org subtrees whose SLA figures the user may read (403 without a report role)."""
    if getattr(user, "is_superuser", False):
        return [""]
    roles = set(settings.CUSTFLOW["REPORT_ROLES"])
    paths = sorted({ra.org_unit.path for ra in user_role_assignments(user) if ra.role in roles})
    if not paths:
        raise Forbidden(_("您没有查看时限报表的权限"), code=ReportErrorCode.NOT_ALLOWED)
    return [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]


@dataclass
class ReportQuery:
    """Validated report parameters (all optional except the date range)."""

    start: dt.date
    end: dt.date  # inclusive
    group_by: list[str] = field(default_factory=list)
    period: str = ""
    within: OrgUnit | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    period_start: dt.date | None = None
    metric: str = "total"

    def as_params(self) -> dict[str, str]:
        """The query string that reproduces this query (links, exports)."""
        params = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.group_by:
            params["group_by"] = ",".join(self.group_by)
        if self.period:
            params["period"] = self.period
        if self.within is not None:
            params["within"] = str(self.within.pk)
        params.update({k: str(v) for k, v in self.filters.items()})
        return params


def _date(params, name: str, default: dt.date | None, errors: dict) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = [_("日期格式应为 YYYY-MM-DD")]
        return default


def report_query_clean(*, user, params) -> ReportQuery:
    """Parse report parameters: from, to, group_by (comma list of org_level, org_unit, process,
    step, assignee), period (day/week/month), within (an org unit id: its subtree), exact
    filters org_level, org_unit, process, step, assignee ("none": unassigned), and for
    drill-down period_start and metric."""
    paths = report_scope_paths(user)
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    end = _date(params, "to", today, errors)
    start = _date(params, "from", end.replace(day=1) if end else today.replace(day=1), errors)
    if start and end and (end < start or (end - start).days > MAX_RANGE_DAYS):
        errors["to"] = [_("日期范围无效(最长 %(days)d 天)") % {"days": MAX_RANGE_DAYS}]
    group_by = [g for g in (params.get("group_by") or "").split(",") if g.strip()]
    if any(g not in DIMENSIONS for g in group_by) or len(set(group_by)) != len(group_by) or len(group_by) > 3:
        errors["group_by"] = [_("不支持的分组方式")]
    period = (params.get("period") or "").strip()
    if period and period not in PERIODS:
        errors["period"] = [_("周期应为 day、week 或 month")]
    metric = (params.get("metric") or "total").strip()
    if metric not in METRICS:
        errors["metric"] = [_("不支持的指标")]
    filters: dict[str, Any] = {}
    for name in ("org_level", "process", "step"):
        value = (params.get(name) or "").strip()
        if value:
            filters[name] = value
    if filters.get("org_level") and filters["org_level"] not in OrgLevel.values:
        errors["org_level"] = [_("不支持的机构层级")]
    for name in ("org_unit", "assignee"):
        value = (params.get(name) or "").strip()
        if value:
            if name == "assignee" and value == "none":
                filters[name] = value
            elif value.isdigit():
                filters[name] = int(value)
            else:
                errors[name] = [_("应为编号")]
    period_start = _date(params, "period_start", None, errors)
    if period_start and not period:
        errors["period"] = [_("按周期下钻时须指定周期")]
    within = None
    raw_within = (params.get("within") or "").strip()
    if raw_within:
        within = OrgUnit.objects.filter(pk=int(raw_within)).first() if raw_within.isdigit() else None
        if within is None or not any(within.path.startswith(p) for p in paths):
            raise NotFound(_("机构不存在"), code=ReportErrorCode.ORG_UNIT_NOT_FOUND)
    if errors:
        raise ValidationFailed("", field_errors=errors, code=ReportErrorCode.INVALID_FILTER)
    return ReportQuery(
        start=start,
        end=end,
        group_by=group_by,
        period=period,
        within=within,
        filters=filters,
        period_start=period_start,
        metric=metric,
    )


def sla_report_latest_period(*, user, now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The calendar month (local time) a report opens on: the latest month in the reader's scope
    with a task whose deadline has come (figures: on time, breached); else the latest month with
    any deadline; else the current month."""
    now = now or timezone.now()
    paths = report_scope_paths(user)
    qs = HumanTask.objects.filter(due_at__isnull=False)
    if paths != [""]:
        qs = qs.filter(org_unit_id__in=_unit_ids(reduce(or_, (Q(path__startswith=p) for p in paths))))
    latest = qs.filter(due_at__lte=now).order_by("-due_at").values_list("due_at", flat=True).first()
    if latest is None:
        latest = qs.order_by("-due_at").values_list("due_at", flat=True).first()
    day = timezone.localtime(latest, _tz()).date() if latest is not None else timezone.localdate(now, _tz())
    start = day.replace(day=1)
    return start, _period_end(start, "month") - dt.timedelta(days=1)


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=_tz())


def _period_end(start: dt.date, period: str) -> dt.date:
    if period == "day":
        return start + dt.timedelta(days=1)
    if period == "week":
        return start + dt.timedelta(days=7)
    return (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _scoped_tasks(user, query: ReportQuery) -> QuerySet[HumanTask]:
    """Tasks with a deadline inside the date range (local days), in the reader's scope."""
    paths = report_scope_paths(user)
    qs = HumanTask.objects.filter(
        due_at__gte=_local_midnight(query.start), due_at__lt=_local_midnight(query.end + dt.timedelta(days=1))
    )
    # Scope as org-unit id lists (the org tree is small): no join on the task table.
    if paths != [""]:
        qs = qs.filter(org_unit_id__in=_unit_ids(reduce(or_, (Q(path__startswith=p) for p in paths))))
    if query.within is not None:
        qs = qs.filter(org_unit_id__in=_unit_ids(Q(path__startswith=query.within.path)))
    f = query.filters
    if "org_level" in f:
        qs = qs.filter(org_unit__level=f["org_level"])
    if "org_unit" in f:
        qs = qs.filter(org_unit_id=f["org_unit"])
    if "process" in f:
        qs = qs.filter(process_key=f["process"])
    if "step" in f:
        qs = qs.filter(step=f["step"])
    if "assignee" in f:
        person = Coalesce("completed_by_id", "assignee_id")
        qs = qs.alias(person=person)
        qs = qs.filter(person__isnull=True) if f["assignee"] == "none" else qs.filter(person=f["assignee"])
    if query.period_start is not None:
        qs = qs.filter(
            due_at__gte=_local_midnight(query.period_start),
            due_at__lt=_local_midnight(_period_end(query.period_start, query.period)),
        )
    return qs


def _unit_ids(q: Q) -> list[int]:
    return list(OrgUnit.objects.filter(q).values_list("pk", flat=True))


def _rate(on_time: int, breached: int) -> float | None:
    return round(on_time / (on_time + breached), 4) if on_time + breached else None


COUNTED = ("total", "on_time", "breached_done", "escalated", "overdue", "open", "due_soon")


def _labels(group_by: list[str], raw_rows: list[dict[str, Any]]) -> dict[str, dict[Any, str]]:
    """Display names per dimension: org units and users by id, process and step names from
    each group's sample task."""
    labels: dict[str, dict[Any, str]] = {}
    if "org_unit" in group_by:
        labels["org_unit"] = dict(OrgUnit.objects.values_list("pk", "name"))
    if "assignee" in group_by:
        people = {r["person"] for r in raw_rows if r["person"] is not None}
        labels["assignee"] = {
            u.pk: u.get_full_name() or u.username for u in get_user_model().objects.filter(pk__in=people)
        }
    if "process" in group_by or "step" in group_by:
        samples = HumanTask.objects.filter(pk__in=[r["sample"] for r in raw_rows]).values_list(
            "pk", "process_key", "process_name", "name"
        )
        # A process's name as its type declares it (processes/types.py), else the diagram's.
        labels["process"] = {pk: process_type_label(key, process) for pk, key, process, _name in samples}
        labels["step"] = {pk: name for pk, _key, _process, name in samples}
    return labels


def sla_report(*, user, query: ReportQuery, now: dt.datetime | None = None) -> dict[str, Any]:
    """Figures per group (and period): every metric of tasks/sla.py plus the on-time rate."""
    now = now or timezone.now()
    qs = _scoped_tasks(user, query)
    columns: list[str] = []
    if "assignee" in query.group_by:
        qs = qs.annotate(person=Coalesce("completed_by_id", "assignee_id"))
    for dim in query.group_by:
        columns.append(DIMENSIONS[dim][0])
    if query.period:
        qs = qs.annotate(bucket=PERIODS[query.period]("due_at", tzinfo=_tz()))
        columns.append("bucket")
    # Counted in SQL (the date range keeps only rows with a deadline); "breached" is the sum
    # of its three parts. Labels come from one sample row per group (an integer MIN), not
    # from text aggregates over every row.
    counts = {m: Count("id", filter=metric_q(m, now, due_known=True)) for m in COUNTED}
    if columns:
        # One scan: the totals are the sums of the groups (every metric counts a subset of
        # "total", and only groups with no task at all are left out).
        raw_rows = list(qs.values(*columns).annotate(**counts, sample=Min("id")).order_by(*columns))
        totals = {m: sum(r[m] for r in raw_rows) for m in COUNTED}
    else:
        raw_rows, totals = [], qs.aggregate(**counts)
    for figures in [totals, *raw_rows]:
        figures["breached"] = figures["breached_done"] + figures["escalated"] + figures["overdue"]
    labels = _labels(query.group_by, raw_rows)
    rows = []
    for raw in raw_rows:
        if not raw["total"]:
            continue
        key: dict[str, Any] = {}
        label_parts: list[str] = []
        for dim in query.group_by:
            column, label = DIMENSIONS[dim]
            value = raw[column]
            key[dim] = "none" if (dim == "assignee" and value is None) else value
            if dim == "org_level":
                label_parts.append(str(OrgLevel(value).label) if value in OrgLevel.values else str(value))
            elif dim == "assignee":
                label_parts.append(labels["assignee"].get(value) or _("未分配"))
            elif dim == "org_unit":
                label_parts.append(labels["org_unit"].get(value, str(value)))
            else:
                label_parts.append(labels[dim].get(raw["sample"], str(value)))
        if query.period:
            bucket = raw["bucket"]
            day = timezone.localtime(bucket, _tz()).date() if isinstance(bucket, dt.datetime) else bucket
            key["period_start"] = day.isoformat()
        rows.append(
            {
                "key": key,
                "label": " / ".join(label_parts),
                **{m: raw[m] for m in METRICS},
                "on_time_rate": _rate(raw["on_time"], raw["breached"]),
            }
        )
    return {
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "group_by": query.group_by,
        "period": query.period,
        "rows": rows,
        "totals": {**totals, "on_time_rate": _rate(totals["on_time"], totals["breached"])},
        "generated_at": now,
    }


def sla_report_tasks(*, user, query: ReportQuery, now: dt.datetime | None = None) -> QuerySet[HumanTask]:
    """The task rows behind one figure: the report's filters + a row's key + the metric."""
    now = now or timezone.now()
    return (
        _scoped_tasks(user, query)
        .filter(metric_q(query.metric, now))
        .select_related("org_unit", "assignee", "completed_by")
        .order_by("due_at", "id")
    )


def drill_params(query: ReportQuery, row_key: dict[str, Any], metric: str) -> dict[str, str]:
    """The drill-down query string for one figure of a report row."""
    params = {k: v for k, v in query.as_params().items() if k != "group_by"}
    for dim, value in row_key.items():
        params[dim] = str(value)
    params["metric"] = metric
    return params


def sla_breach_detail(*, user, task_id) -> dict[str, Any]:
    """A task's SLA state and, if it breached, its breach record with the escalation chain."""

    task = task_get_visible(user=user, task_id=task_id)
    breach = getattr(task, "sla_breach", None) if hasattr(task, "sla_breach") else None
    return {
        "task_id": task.pk,
        "sla_state": task_sla_state(task),
        "due_at": task.due_at,
        "completed_at": task.completed_at,
        "breach": None
        if breach is None
        else {
            "detected_at": breach.detected_at,
            "resolved_at": breach.resolved_at,
            "resolution": breach.resolution,
            "chain": breach.chain,
        },
    }


ARCHIVE_FORMATS = {
    "pdf": ("application/pdf", "pdf"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


def report_archives(*, user) -> QuerySet:
    """The monthly archives of org units inside the user's report scope, newest first (the
    binary files are left out until one is downloaded)."""

    # Decision makers named for an org unit read its archives of that kind, report role or not.
    named = list(ReportRecipient.objects.filter(user_id=user.pk).values_list("kind", "org_unit_id")) if user.pk else []
    try:
        paths = report_scope_paths(user)
    except Forbidden:
        if not named:
            raise
        paths = []
    scope = reduce(or_, (Q(org_unit__path__startswith=p) for p in paths), Q(pk__in=[]))
    for kind, unit_id in named:
        scope |= Q(kind=kind, org_unit_id=unit_id)
    return ReportArchive.objects.filter(scope).select_related("org_unit").defer("pdf", "xlsx").order_by("-month", "org_unit__path")


def report_archive_file(*, user, archive_id, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, filename) of one archived report in the user's scope."""

    if fmt not in ARCHIVE_FORMATS:
        raise NotFound(_("不支持的格式"), code="unknown_format")
    try:
        pk = int(archive_id)
    except (TypeError, ValueError):
        raise NotFound(_("归档不存在"), code="archive_not_found") from None
    archive = report_archives(user=user).filter(pk=pk).defer(None).first()
    if archive is None:
        raise NotFound(_("归档不存在"), code="archive_not_found")
    content_type, ext = ARCHIVE_FORMATS[fmt]
    return bytes(getattr(archive, fmt)), content_type, f"{archive.kind}-{archive.org_unit.code}-{archive.month:%Y-%m}.{ext}"

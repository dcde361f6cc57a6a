"""客户投诉分析表: the monthly complaint analysis (docs/DOMAIN.md, complaints), level-scoped, with the cases
behind every figure.

A month is the complaints *received* in that calendar month, Asia/Shanghai. A reader holds a
report role (`CUSTFLOW["REPORT_ROLES"]`) or `complaint_handler` and sees the complaints of
`complaint_scope_q` (responsible now or accepted, in their subtrees).

Figures (every one a count of complaints, except `merges` and the `actions_*` ones):

* total, open, closed, withdrawn, major (群体投诉), breached (the clock escalated once)
* on_time / late: closed with `on_time` True / False; the on-time rate is on_time / (on_time +
  late) — a closed case whose on_time is unknown is in neither
* extended (limit beyond BASE_DAYS), extended_30 (up to COMPLEX_DAYS), extended_60 (beyond)
* repeat: the complainant (same phone, or same non-empty id number) lodged an earlier complaint
  within DUPLICATE_WINDOW_DAYS before this one's receipt (any org unit: it is a fact about the
  complainant, not about the reader); "earlier" is an earlier receipt, or the same receipt and a
  smaller id
* merged: complaints that absorbed duplicate intakes; merges: the number of those intakes
  (ComplaintMerge rows)
* actions_open / actions_closed / actions_overdue: corrective actions of the month's complaints
  (overdue: open with a due date before today)

Every figure is in `totals` and in one row per value of each dimension (category, channel,
org_unit — the responsible unit —, product, root_cause). The figures take three queries: the
complaints grouped by all five dimensions at once, their merged intakes and their corrective
actions grouped by the same columns of their complaint; each dimension's rows are roll-ups of
those groups in Python.

`analysis_cases` is the drill-down: the complaints behind one figure. For complaint figures the
number of cases equals the figure; for `merges` and `actions_*` each case carries `weight`
(its merges / matching actions), and the weights add up to the figure.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Lag
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.exceptions import Forbidden, ValidationFailed
from backend.complaints.models import (
    OPEN_STATUSES,
    ActionStatus,
    Category,
    Channel,
    Complaint,
    ComplaintMerge,
    ComplaintStatus,
    CorrectiveAction,
    RootCause,
)
from backend.complaints.selectors import complaint_scope_q
from backend.organisation.models import OrgUnit
from backend.organisation.selectors import user_role_assignments, user_scope_paths


class AnalysisErrorCode(StrEnum):
    NOT_ALLOWED = "complaint_analysis_not_allowed"
    INVALID_FILTER = "complaint_analysis_invalid_filter"


DIMENSIONS = ("category", "channel", "org_unit", "product", "root_cause")
# Column of each dimension on Complaint.
DIMENSION_COLUMNS = {
    "category": "category",
    "channel": "channel",
    "org_unit": "org_unit_id",
    "product": "product",
    "root_cause": "root_cause",
}
BLANK = "__none__"  # drill-down value of an empty product / root cause

COMPLAINT_METRICS = (
    "total",
    "open",
    "closed",
    "on_time",
    "late",
    "withdrawn",
    "breached",
    "major",
    "extended",
    "extended_30",
    "extended_60",
    "repeat",
    "merged",
)
WEIGHTED_METRICS = ("merges", "actions_open", "actions_closed", "actions_overdue")
METRICS = COMPLAINT_METRICS + WEIGHTED_METRICS


def metric_labels() -> dict[str, str]:
    return {
        "total": _("投诉总量"),
        "open": _("未办结"),
        "closed": _("已办结"),
        "on_time": _("按时办结"),
        "late": _("超时办结"),
        "withdrawn": _("撤诉"),
        "breached": _("超时上报"),
        "major": _("群体投诉"),
        "extended": _("延期"),
        "extended_30": _("延长至30日"),
        "extended_60": _("延长至60日"),
        "repeat": _("重复投诉"),
        "merged": _("合并受理的投诉"),
        "merges": _("合并的重复来件"),
        "actions_open": _("整改中"),
        "actions_closed": _("已整改"),
        "actions_overdue": _("整改逾期"),
    }


def dimension_labels() -> dict[str, str]:
    return {
        "category": _("投诉类别"),
        "channel": _("投诉渠道"),
        "org_unit": _("责任机构"),
        "product": _("险种"),
        "root_cause": _("根本原因"),
    }


# ---- who reads, which month ----------------------------------------------------------------


def analysis_reader_check(user) -> None:
    """403 unless the user holds a report role or complaint_handler somewhere."""
    if getattr(user, "is_superuser", False):
        return
    roles = set(settings.CUSTFLOW["REPORT_ROLES"]) | {"complaint_handler"}
    if not any(ra.role in roles for ra in user_role_assignments(user)):
        raise Forbidden(_("您没有查看投诉分析表的权限"), code=AnalysisErrorCode.NOT_ALLOWED)


@dataclass(frozen=True)
class Month:
    first: dt.date

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}"

    @property
    def next_first(self) -> dt.date:
        return (self.first + dt.timedelta(days=32)).replace(day=1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        tz = ZoneInfo(settings.TIME_ZONE)
        return (
            dt.datetime.combine(self.first, dt.time.min, tzinfo=tz),
            dt.datetime.combine(self.next_first, dt.time.min, tzinfo=tz),
        )


def month_parse(raw: Any, *, field: str = "month") -> Month:
    """ "YYYY-MM" (empty: the current month) or a 400 on `field`."""
    text = str(raw or "").strip()
    if not text:
        return Month(timezone.localdate().replace(day=1))
    if not text.isascii():
        raise ValidationFailed.field(field, _("月份格式应为 YYYY-MM"), code=AnalysisErrorCode.INVALID_FILTER)
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        first = dt.date(int(year), int(month), 1)
    except ValueError:
        raise ValidationFailed.field(
            field, _("月份格式应为 YYYY-MM"), code=AnalysisErrorCode.INVALID_FILTER
        ) from None
    if first.year < 2000:
        raise ValidationFailed.field(field, _("月份格式应为 YYYY-MM"), code=AnalysisErrorCode.INVALID_FILTER)
    return Month(first)


@dataclass(frozen=True)
class Drill:
    """One figure: its month, the dimension value (or all) and the metric."""

    month: Month
    dimension: str = ""
    value: str = ""
    metric: str = "total"

    def as_params(self) -> dict[str, str]:
        params = {"month": self.month.label, "metric": self.metric}
        if self.dimension:
            params.update(dimension=self.dimension, value=self.value)
        return params


def drill_clean(*, params) -> Drill:
    """Parse month, dimension, value and metric of a drill-down (400 with field errors)."""
    errors: dict[str, list[str]] = {}
    try:
        month = month_parse(params.get("month"))
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
        month = Month(timezone.localdate().replace(day=1))
    dimension = str(params.get("dimension") or "").strip()
    value = str(params.get("value") or "").strip()
    metric = str(params.get("metric") or "total").strip()
    if "\x00" in value or len(value) > 200:
        errors["value"] = [_("不支持的取值")]
    elif dimension and dimension not in DIMENSIONS:
        errors["dimension"] = [_("不支持的分析维度")]
    elif dimension and not value:
        errors["value"] = [_("请指定维度取值")]
    elif dimension == "org_unit" and not (value.isascii() and value.isdigit() and len(value) <= 18):
        errors["value"] = [_("应为编号")]
    elif dimension in ("category", "channel", "root_cause") and value != BLANK:
        choices = {"category": Category, "channel": Channel, "root_cause": RootCause}[dimension]
        if value not in choices.values:
            errors["value"] = [_("不支持的取值")]
    if metric not in METRICS:
        errors["metric"] = [_("不支持的指标")]
    if errors:
        raise ValidationFailed("", field_errors=errors, code=AnalysisErrorCode.INVALID_FILTER)
    return Drill(month=month, dimension=dimension, value=value, metric=metric)


def analysis_scope(user) -> tuple[OrgUnit, str]:
    """Who issues (and signs) the reader's analysis table, and what its scope reads: the unit
    of the reader's subtree, or for subtrees under several units their nearest common
    ancestor and the units' names."""
    paths = [p for p in user_scope_paths(user) if p]
    if not paths:  # a superuser, or nobody: the whole tree
        root = OrgUnit.objects.filter(parent__isnull=True).order_by("path").first()
        return root, root.name if root else ""
    units = list(OrgUnit.objects.filter(path__in=paths).order_by("path"))
    if len(units) == 1:
        return units[0], units[0].name
    common = [seg for seg in paths[0].split("/") if seg]
    for p in paths[1:]:
        segs = [seg for seg in p.split("/") if seg]
        n = 0
        while n < min(len(common), len(segs)) and common[n] == segs[n]:
            n += 1
        common = common[:n]
    issuer = OrgUnit.objects.filter(path="".join(f"{seg}/" for seg in common)).first() if common else None
    issuer = issuer or OrgUnit.objects.filter(parent__isnull=True).order_by("path").first()
    return issuer, "、".join(u.name for u in units)


# ---- the queries ---------------------------------------------------------------------------


def _month_complaints(user, month: Month) -> QuerySet[Complaint]:
    analysis_reader_check(user)
    start, end = month.bounds()
    return Complaint.objects.filter(complaint_scope_q(user), received_at__gte=start, received_at__lt=end)


def _repeat_q(month: Month) -> Q:
    """An earlier complaint by the same complainant within the window (see the module doc).

    One uncorrelated subquery instead of an EXISTS per row: over the complaints received from
    the window before the month to its end, LAG gives each complaint its complainant's
    previous one (by phone; by id number) in (received_at, id) order; the latest earlier
    complaint is within the window exactly when any earlier one is."""
    window = dt.timedelta(days=settings.CUSTFLOW["COMPLAINTS"]["DUPLICATE_WINDOW_DAYS"])
    start, end = month.bounds()
    order = [F("received_at").asc(), F("id").asc()]
    previous = Complaint.objects.filter(received_at__gte=start - window, received_at__lt=end).annotate(
        prev_by_phone=Window(Lag("received_at"), partition_by=[F("complainant_phone")], order_by=order),
        prev_by_id=Window(Lag("received_at"), partition_by=[F("complainant_id_number")], order_by=order),
    )
    repeats = previous.filter(
        Q(prev_by_phone__gte=F("received_at") - window)
        | (Q(prev_by_id__gte=F("received_at") - window) & ~Q(complainant_id_number=""))
    ).values("pk")
    return Q(pk__in=repeats)


def _complaint_metric_qs(month: Month) -> dict[str, Q]:
    cfg = settings.CUSTFLOW["COMPLAINTS"]
    closed = Q(status=ComplaintStatus.CLOSED)
    return {
        "total": Q(),
        "open": Q(status__in=OPEN_STATUSES),
        "closed": closed,
        "on_time": closed & Q(on_time=True),
        "late": closed & Q(on_time=False),
        "withdrawn": Q(status=ComplaintStatus.WITHDRAWN),
        "breached": Q(breached_at__isnull=False),
        "major": Q(major=True),
        "extended": Q(limit_days__gt=cfg["BASE_DAYS"]),
        "extended_30": Q(limit_days__gt=cfg["BASE_DAYS"], limit_days__lte=cfg["COMPLEX_DAYS"]),
        "extended_60": Q(limit_days__gt=cfg["COMPLEX_DAYS"]),
        "repeat": _repeat_q(month),
        "merged": Q(has_merges=True),
    }


def _action_metric_qs(today: dt.date) -> dict[str, Q]:
    return {
        "actions_open": Q(status=ActionStatus.OPEN),
        "actions_closed": Q(status=ActionStatus.CLOSED),
        "actions_overdue": Q(status=ActionStatus.OPEN, due_date__lt=today),
    }


def _has_merges() -> Exists:
    return Exists(ComplaintMerge.objects.filter(complaint=OuterRef("pk")))


def _with_flags(qs: QuerySet[Complaint]) -> QuerySet[Complaint]:
    return qs.alias(has_merges=_has_merges())


def _rate(on_time: int, late: int) -> float | None:
    return round(on_time / (on_time + late), 4) if on_time + late else None


def _empty_figures() -> dict[str, int]:
    return dict.fromkeys(METRICS, 0)


def _key(raw: Any) -> str:
    if raw in (None, ""):
        return BLANK
    return str(raw)


def complaint_analysis(*, user, month: Month, today: dt.date | None = None) -> dict[str, Any]:
    """The month's figures: totals and one row per value of each dimension."""
    return _analysis(_month_complaints(user, month), month, today)


def complaint_analysis_of_unit(
    *, unit: OrgUnit, month: Month, today: dt.date | None = None
) -> dict[str, Any]:
    """The month's figures of one org unit's subtree as the system reads them (the monthly
    archive): complaints owned or received inside the subtree, as a reader there sees them."""
    start, end = month.bounds()
    inside = Q(org_unit__path__startswith=unit.path) | Q(received_org_unit__path__startswith=unit.path)
    return _analysis(
        Complaint.objects.filter(inside, received_at__gte=start, received_at__lt=end), month, today
    )


def _analysis(month_complaints: QuerySet[Complaint], month: Month, today: dt.date | None) -> dict[str, Any]:
    today = today or timezone.localdate()
    complaints = _with_flags(month_complaints)
    columns = [DIMENSION_COLUMNS[d] for d in DIMENSIONS]
    # Annotation names carry a prefix: "on_time" or "major" would shadow the model's fields.
    counts: dict[str, Any] = {f"n_{m}": Count("id", filter=q) for m, q in _complaint_metric_qs(month).items()}
    groups = list(complaints.values(*columns).annotate(**counts).order_by())
    # Merged intakes and corrective actions: counted on their own tables, grouped by the
    # complaint's dimensions (a join would multiply the complaint counts).
    month_ids = complaints.values("pk")
    related_columns = [f"complaint__{c}" for c in columns]
    merge_groups = list(
        ComplaintMerge.objects.filter(complaint__in=month_ids)
        .values(*related_columns)
        .annotate(n_merges=Count("id"))
        .order_by()
    )
    action_counts = {f"n_{m}": Count("id", filter=q) for m, q in _action_metric_qs(today).items()}
    action_groups = list(
        CorrectiveAction.objects.filter(complaint__in=month_ids)
        .values(*related_columns)
        .annotate(**action_counts)
        .order_by()
    )
    totals = _empty_figures()
    rows: dict[str, dict[str, dict[str, int]]] = {d: defaultdict(_empty_figures) for d in DIMENSIONS}
    for group_rows, metrics, cols in (
        (groups, COMPLAINT_METRICS, columns),
        (merge_groups, ("merges",), related_columns),
        (action_groups, tuple(_action_metric_qs(today)), related_columns),
    ):
        names = [(m, f"n_{m}") for m in metrics]
        pairs = list(zip(DIMENSIONS, cols, strict=True))
        for group in group_rows:
            figures = [(m, group[name] or 0) for m, name in names]
            for m, n in figures:
                totals[m] += n
            for dim, col in pairs:
                acc = rows[dim][_key(group[col])]
                for m, n in figures:
                    acc[m] += n
    labels = _value_labels(rows)
    dimensions: dict[str, list[dict[str, Any]]] = {}
    for dim in DIMENSIONS:
        ordered = sorted(rows[dim].items(), key=lambda kv: (-kv[1]["total"], labels[dim].get(kv[0], kv[0])))
        dimensions[dim] = [
            {
                "value": value,
                "label": labels[dim].get(value, value),
                **figures,
                "on_time_rate": _rate(figures["on_time"], figures["late"]),
            }
            for value, figures in ordered
        ]
    return {
        "month": month.label,
        "totals": {**totals, "on_time_rate": _rate(totals["on_time"], totals["late"])},
        "dimensions": dimensions,
        "generated_at": timezone.now(),
    }


def _value_labels(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    none = _("未填写")
    labels: dict[str, dict[str, str]] = {
        "category": {str(k): str(v) for k, v in Category.choices},
        "channel": {str(k): str(v) for k, v in Channel.choices},
        "root_cause": {str(k): str(v) for k, v in RootCause.choices},
        "product": {v: v for v in rows["product"]},
    }
    unit_ids = [int(v) for v in rows["org_unit"] if v != BLANK]
    labels["org_unit"] = {
        str(pk): name for pk, name in OrgUnit.objects.filter(pk__in=unit_ids).values_list("pk", "name")
    }
    for dim in DIMENSIONS:
        labels[dim][BLANK] = none
    return labels


def analysis_cases(
    *,
    user,
    month: Month,
    dimension: str = "",
    value: str = "",
    metric: str = "total",
    today: dt.date | None = None,
) -> QuerySet[Complaint]:
    """The complaints behind one figure, annotated with `weight` (1, or the merges / matching
    corrective actions each carries for the weighted metrics)."""
    today = today or timezone.localdate()
    qs = _with_flags(_month_complaints(user, month))
    if dimension:
        column = DIMENSION_COLUMNS[dimension]
        if value == BLANK:
            qs = qs.filter(**{column: ""}) if dimension != "org_unit" else qs.none()
        else:
            qs = qs.filter(**{column: value})
    if metric in COMPLAINT_METRICS:
        qs = qs.filter(_complaint_metric_qs(month)[metric]).annotate(
            weight=Value(1, output_field=IntegerField())
        )
    elif metric == "merges":
        qs = qs.filter(has_merges=True).annotate(weight=Count("merges", distinct=True))
    else:
        q = _action_metric_qs(today)[metric]
        matching = CorrectiveAction.objects.filter(q, complaint=OuterRef("pk"))
        prefixed = Q(*[(f"corrective_actions__{k}", v) for k, v in q.children])
        qs = qs.filter(Exists(matching)).annotate(
            weight=Count("corrective_actions", filter=prefixed, distinct=True)
        )
    return qs.select_related("org_unit", "received_org_unit").order_by("received_at", "id")


def analysis_open_actions(*, user, month: Month, today: dt.date | None = None) -> QuerySet[CorrectiveAction]:
    """The open corrective actions of the month's complaints in scope, overdue first (the
    analysis page's 整改跟踪 section)."""
    today = today or timezone.localdate()
    return (
        CorrectiveAction.objects.filter(
            complaint__in=_month_complaints(user, month).values("pk"), status=ActionStatus.OPEN
        )
        .select_related("complaint", "owner_org_unit")
        .order_by("due_date", "id")
    )


def analysis_cases_weight(qs: QuerySet[Complaint]) -> int:
    """The figure a drill-down list adds up to."""
    return qs.aggregate(n=Coalesce(Sum("weight"), 0))["n"]

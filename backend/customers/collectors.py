"""Per-collector statistics (采集人统计): openings, returns and flags per month, branch and
collector, for the incentive seed 003 §1.1.1 names ("在开户时也要记录信息的采集人,以便明确实施
鼓励政策的对象"). Level-scoped: officers and compliance read the subtrees of the org units where
they hold such a role; an org unit outside them is not found (404)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.exceptions import Forbidden, NotFound, ValidationFailed
from backend.customers.models import AccountOpening, CustomerStatus, InfoLevel
from backend.organisation.models import OrgUnit
from backend.organisation.selectors import user_role_assignments
from backend.reports.error_codes import ReportErrorCode

MAX_MONTHS = 24
FIGURES = ("openings", "advanced", "opened", "pending", "rejected", "withdrawn", "returned", "flagged")
OPENED = {CustomerStatus.ACTIVE, CustomerStatus.FROZEN}
PENDING = {CustomerStatus.DRAFT, CustomerStatus.PENDING_REVIEW, CustomerStatus.RETURNED}


def collector_report_scope_paths(user) -> list[str]:
    """Org subtrees whose collector figures the user may read (403 without such a role)."""
    if getattr(user, "is_superuser", False):
        return [""]
    roles = set(settings.CUSTFLOW["COLLECTOR_REPORT_ROLES"])
    paths = sorted({ra.org_unit.path for ra in user_role_assignments(user) if ra.role in roles})
    if not paths:
        raise Forbidden(_("您没有查看采集人统计的权限"), code=ReportErrorCode.NOT_ALLOWED)
    return [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]


def collector_report_units(*, user) -> list[OrgUnit]:
    """The org units the user may pick (their subtrees), for the page's branch filter."""
    paths = collector_report_scope_paths(user)
    q = Q()
    for p in paths:
        q |= Q(path__startswith=p)
    return list(OrgUnit.objects.filter(q).order_by("path"))


@dataclass
class CollectorStatsQuery:
    first: dt.date  # first day of the first month
    last: dt.date  # first day of the last month
    paths: list[str]
    org_unit: OrgUnit | None = None
    collector: Any = None

    def months(self) -> list[str]:
        out, day = [], self.first
        while day <= self.last:
            out.append(f"{day:%Y-%m}")
            day = _next_month(day)
        return out


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _month(params, name: str, errors: dict) -> dt.date | None:
    raw = params.get(name)
    raw = raw.strip() if isinstance(raw, str) else ""
    if not raw:
        return None
    try:
        if len(raw) != 7:
            raise ValueError(raw)
        return dt.datetime.strptime(raw, "%Y-%m").date()
    except ValueError:
        errors[name] = [_("月份格式应为 YYYY-MM")]
        return None


def collector_stats_query_clean(*, user, params) -> CollectorStatsQuery:
    """`month` (YYYY-MM, default this month) or `from`/`to` (YYYY-MM, at most 24 months);
    `org_unit` (id or code: that branch's subtree, 404 outside the user's scope); `collector`
    (a username: that collector only, 400 when there is no such user)."""
    paths = collector_report_scope_paths(user)
    errors: dict[str, list[str]] = {}
    this_month = timezone.localdate().replace(day=1)
    month = _month(params, "month", errors)
    first = _month(params, "from", errors) or month or this_month
    last = _month(params, "to", errors) or month or first
    if month and (params.get("from") or params.get("to")):
        errors["month"] = [_("请只填写 month,或 from 与 to")]
    if not errors and (
        last < first or (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS
    ):
        errors["to"] = [_("月份范围无效(最长 %(n)d 个月)") % {"n": MAX_MONTHS}]
    collector = None
    raw_collector = params.get("collector")
    raw_collector = raw_collector.strip() if isinstance(raw_collector, str) else ""
    if raw_collector:
        collector = get_user_model().objects.filter(username=raw_collector[:150]).first()
        if collector is None:
            errors["collector"] = [_("采集人不存在")]
    raw_unit = params.get("org_unit")
    raw_unit = raw_unit.strip() if isinstance(raw_unit, str) else ""
    if errors:
        raise ValidationFailed("", field_errors=errors, code=ReportErrorCode.INVALID_FILTER)
    unit = None
    if raw_unit:
        lookup = Q(code=raw_unit[:32])
        if raw_unit.isascii() and raw_unit.isdigit() and len(raw_unit) <= 18:
            lookup |= Q(pk=int(raw_unit))
        unit = OrgUnit.objects.filter(lookup).first()
        if unit is None or not any(unit.path.startswith(p) for p in paths):
            raise NotFound(_("机构不存在"), code=ReportErrorCode.ORG_UNIT_NOT_FOUND)
    return CollectorStatsQuery(first=first, last=last, paths=paths, org_unit=unit, collector=collector)


def _local_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def collector_stats(*, query: CollectorStatsQuery) -> dict[str, Any]:
    """Rows per (month, branch, collector): openings submitted, advanced-level ones, opened
    (active now), still pending, rejected, withdrawn, returned to the collector at least once,
    and flagged by the checks (with the count per flag). Months in Asia/Shanghai."""
    scope = Q()
    for p in [query.org_unit.path] if query.org_unit else query.paths:
        scope |= Q(org_unit__path__startswith=p)
    qs = AccountOpening.objects.filter(scope).filter(
        created_at__gte=_local_start(query.first), created_at__lt=_local_start(_next_month(query.last))
    )
    if query.collector is not None:
        qs = qs.filter(collector=query.collector)
    tz = ZoneInfo(settings.TIME_ZONE)
    rows: dict[tuple, dict[str, Any]] = {}
    for created, unit_code, unit_name, username, first, last, level, status, returns, flags in qs.values_list(
        "created_at",
        "org_unit__code",
        "org_unit__name",
        "collector__username",
        "collector__first_name",
        "collector__last_name",
        "info_level",
        "customer__status",
        "return_count",
        "flags",
    ).order_by("created_at", "id"):
        month = f"{created.astimezone(tz):%Y-%m}"
        key = (month, unit_code, username or "")
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "month": month,
                "org_unit": unit_code,
                "org_unit_name": unit_name,
                "collector": username,
                "collector_name": f"{first or ''}{last or ''}".strip() or username or _("(未记录)"),
                **dict.fromkeys(FIGURES, 0),
                "flag_counts": Counter(),
            }
        row["openings"] += 1
        row["advanced"] += level == InfoLevel.ADVANCED
        row["opened"] += status in OPENED
        row["pending"] += status in PENDING
        row["rejected"] += status == CustomerStatus.REJECTED
        row["withdrawn"] += status == CustomerStatus.WITHDRAWN
        row["returned"] += returns > 0
        row["flagged"] += bool(flags)
        row["flag_counts"].update(flags or [])
    out = sorted(
        rows.values(), key=lambda r: (r["month"], r["org_unit"], -r["openings"], r["collector"] or "")
    )
    totals = {name: sum(r[name] for r in out) for name in FIGURES}
    for row in out:
        row["flag_counts"] = dict(sorted(row["flag_counts"].items()))
        row["opened_share"] = round(100 * row["opened"] / row["openings"]) if row["openings"] else None
    return {
        "from": f"{query.first:%Y-%m}",
        "to": f"{query.last:%Y-%m}",
        "months": query.months(),
        "org_unit": {"code": query.org_unit.code, "name": query.org_unit.name} if query.org_unit else None,
        "collector": query.collector.username if query.collector is not None else None,
        "rows": out,
        "totals": totals,
    }

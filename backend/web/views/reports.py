"""时限报表: SLA figures with charts, drill-down to the tasks behind a figure, exports."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from backend.common.exceptions import ValidationFailed
from backend.customers.collectors import collector_report_units, collector_stats, collector_stats_query_clean
from backend.organisation.models import OrgLevel
from backend.reports import services as report_services
from backend.reports.selectors import (
    DIMENSIONS,
    PERIODS,
    drill_params,
    report_archives,
    report_query_clean,
    sla_report,
    sla_report_latest_period,
    sla_report_tasks,
)
from backend.web.views.base import form_errors, page_view, paginate

FILTERS = (
    "from",
    "to",
    "group_by",
    "period",
    "within",
    "org_level",
    "process",
    "step",
    "assignee",
    "org_unit",
)
DRILL_METRICS = ("total", "on_time", "breached", "overdue", "escalated", "open")
# The report opens grouped by org unit, so the breakdown chart compares branches.
DEFAULT_GROUP_BY = "org_unit"
BREACH_LIST_SIZE = 10


def _trend_period(query) -> str:
    """The chosen period, else one that gives the trend chart several points for the range."""
    if query.period:
        return query.period
    days = (query.end - query.start).days + 1
    return "day" if days <= 62 else "week" if days <= 190 else "month"


def _charts(request: HttpRequest, query, report: dict[str, Any]) -> dict[str, Any]:
    """Chart data: the trend (on-time / breached per period, same filters) and the breakdown
    (the report's rows)."""
    trend_query = type(query)(**{**query.__dict__, "group_by": [], "period": _trend_period(query)})
    trend = sla_report(user=request.user, query=trend_query)
    return {
        "trend": {
            "periods": [row["key"]["period_start"] for row in trend["rows"]],
            "on_time": [row["on_time"] for row in trend["rows"]],
            "breached": [row["breached"] for row in trend["rows"]],
            "rate": [row["on_time_rate"] for row in trend["rows"]],
        },
        "breakdown": {
            "labels": [
                row["label"] + (f" {row['key']['period_start']}" if "period_start" in row["key"] else "")
                for row in report["rows"][:40]
            ],
            "on_time": [row["on_time"] for row in report["rows"][:40]],
            "breached": [row["breached"] for row in report["rows"][:40]],
        },
    }


@page_view
def sla_report_page(request: HttpRequest) -> HttpResponse:
    filters = {name: request.GET.get(name, "") for name in FILTERS}
    context: dict[str, Any] = {
        "filters": filters,
        "dimensions": list(DIMENSIONS),
        "periods": list(PERIODS),
        "levels": OrgLevel.choices,
        **form_errors(None, FILTERS),
    }
    try:
        query = report_query_clean(user=request.user, params=request.GET)
    except ValidationFailed as exc:
        context.update(form_errors(exc, FILTERS))
        return render(request, "web/sla_report.html", context, status=400)
    if not request.GET.get("from") and not request.GET.get("to"):
        # Open on the latest month with figures, with every filter in the URL (shareable).
        start, end = sla_report_latest_period(user=request.user)
        params = {k: v for k, v in request.GET.items() if k in FILTERS and v}
        params.update({"from": start.isoformat(), "to": end.isoformat()})
        if "group_by" not in request.GET:
            params["group_by"] = DEFAULT_GROUP_BY
        return redirect(f"{reverse('sla-report')}?{urlencode(params)}")
    report = sla_report(user=request.user, query=query)
    drill = reverse("sla-report-tasks")
    for row in report["rows"]:
        row["links"] = {m: f"{drill}?{urlencode(drill_params(query, row['key'], m))}" for m in DRILL_METRICS}
    report["total_links"] = {m: f"{drill}?{urlencode(drill_params(query, {}, m))}" for m in DRILL_METRICS}
    params = urlencode(query.as_params())
    breach_query = type(query)(**{**query.__dict__, "metric": "breached"})
    context.update(
        {
            "report": report,
            "breaches": list(
                sla_report_tasks(user=request.user, query=breach_query).order_by("-due_at", "-id")[
                    :BREACH_LIST_SIZE
                ]
            ),
            "metrics": DRILL_METRICS,
            "charts": _charts(request, query, report),
            "exports": {
                fmt: f"{reverse('sla-report-export', args=[fmt])}?{params}" for fmt in ("xlsx", "csv", "pdf")
            },
        }
    )
    return render(request, "web/sla_report.html", context)


@page_view
def sla_report_tasks_page(request: HttpRequest) -> HttpResponse:
    query = report_query_clean(user=request.user, params=request.GET)
    page = paginate(request, sla_report_tasks(user=request.user, query=query))
    context = {
        "page": page,
        "metric": query.metric,
        "query_string": urlencode({k: v for k, v in request.GET.items() if k != "page"}),
        "back": f"{reverse('sla-report')}?{urlencode(query.as_params())}",
    }
    return render(request, "web/sla_report_tasks.html", context)


@page_view
def sla_report_export(request: HttpRequest, fmt: str) -> HttpResponse:
    query = report_query_clean(user=request.user, params=request.GET)
    content, content_type, filename = report_services.sla_report_download(
        actor=request.user, query=query, fmt=fmt
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@page_view
def report_archives_page(request: HttpRequest) -> HttpResponse:
    """报表归档: the monthly archives in the user's report scope, to download."""
    page = paginate(request, report_archives(user=request.user))
    return render(request, "web/report_archives.html", {"page": page})


@page_view
def report_archive_download(request: HttpRequest, archive_id: int, fmt: str) -> HttpResponse:
    content, content_type, filename = report_services.report_archive_download(
        actor=request.user, archive_id=archive_id, fmt=fmt
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@page_view
def collector_stats_page(request: HttpRequest) -> HttpResponse:
    """采集人统计: openings, returns and flags per collector, month and branch (seed 003 §1.1.1)."""
    units = collector_report_units(user=request.user)
    values = {name: request.GET.get(name, "") for name in ("month", "org_unit", "collector")}
    try:
        report = collector_stats(query=collector_stats_query_clean(user=request.user, params=request.GET))
        errors: dict[str, Any] = {}
    except ValidationFailed as exc:
        report, errors = None, form_errors(exc, tuple(values))
    if not values["month"] and report:
        values["month"] = report["from"]
    return render(
        request,
        "web/collector_stats.html",
        {"report": report, "values": values, "units": units, **errors},
        status=400 if report is None else 200,
    )

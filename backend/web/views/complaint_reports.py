"""客户投诉分析表 (figures, charts, drill-down, exports), 溯源整改 (root cause and corrective
actions of one complaint) and the four complaint forms as signed PDFs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backend.common.exceptions import ApplicationError, NotFound, ValidationFailed
from backend.complaints.analysis import (
    DIMENSIONS,
    METRICS,
    WEIGHTED_METRICS,
    Drill,
    analysis_cases,
    analysis_cases_weight,
    analysis_open_actions,
    complaint_analysis,
    dimension_labels,
    drill_clean,
    metric_labels,
    month_parse,
)
from backend.complaints.corrective import (
    complaint_root_cause_set,
    corrective_action_close,
    corrective_action_create,
    corrective_actions_of,
    corrective_may_act,
    corrective_owner_units,
)
from backend.complaints.exports import XLSX_CONTENT_TYPE, complaint_analysis_xlsx_download
from backend.complaints.models import RootCause
from backend.complaints.printing import FORMS, complaint_analysis_print, complaint_form_print
from backend.complaints.selectors import complaint_get
from backend.web.views.base import form_errors, page_view, paginate, printed_pdf

ACTION_FIELDS = ("owner_org_unit", "due_date", "description", "root_cause")
ACTIONS_SHOWN = 20  # open corrective actions listed on the analysis page (the rest: drill-down)


def _links(month, dimension: str = "", value: str = "") -> dict[str, str]:
    base = reverse("complaint-analysis-cases")
    return {
        m: f"{base}?{urlencode(Drill(month=month, dimension=dimension, value=value, metric=m).as_params())}"
        for m in METRICS
    }


def _charts(report: dict[str, Any]) -> dict[str, Any]:
    dims = report["dimensions"]
    return {
        "category": [{"name": r["label"], "value": r["total"]} for r in dims["category"]],
        "channel": [{"name": r["label"], "value": r["total"]} for r in dims["channel"]],
        "org_unit": {
            "labels": [r["label"] for r in dims["org_unit"]],
            "on_time": [r["on_time"] for r in dims["org_unit"]],
            "late": [r["late"] for r in dims["org_unit"]],
            "open": [r["open"] for r in dims["org_unit"]],
        },
        "root_cause": {
            "labels": [r["label"] for r in dims["root_cause"]],
            "total": [r["total"] for r in dims["root_cause"]],
            "actions_open": [r["actions_open"] for r in dims["root_cause"]],
        },
    }


@page_view
def complaint_analysis_page(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("month", "")
    context: dict[str, Any] = {
        "month": raw or f"{timezone.localdate():%Y-%m}",
        **form_errors(None, ("month",)),
    }
    try:
        month = month_parse(raw)
    except ValidationFailed as exc:
        context.update(form_errors(exc, ("month",)))
        return render(request, "web/complaint_analysis.html", context, status=400)
    report = complaint_analysis(user=request.user, month=month)
    names = metric_labels()
    links = _links(month)
    totals = [
        {"metric": m, "label": names[m], "value": report["totals"][m], "link": links[m]} for m in METRICS
    ]
    labels = dimension_labels()
    sections = []
    for dim in DIMENSIONS:
        rows = []
        for row in report["dimensions"][dim]:
            row_links = _links(month, dim, row["value"])
            rows.append(
                {
                    "label": row["label"],
                    "cells": [{"value": row[m], "link": row_links[m]} for m in METRICS],
                    "on_time_rate": row["on_time_rate"],
                }
            )
        sections.append({"dimension": dim, "label": labels[dim], "rows": rows})
    params = urlencode({"month": month.label})
    today = timezone.localdate()
    open_actions = [
        {"action": a, "overdue": a.due_date < today}
        for a in analysis_open_actions(user=request.user, month=month, today=today)[:ACTIONS_SHOWN]
    ]
    context.update(
        {
            "month": month.label,
            "report": report,
            "sections": sections,
            "totals": totals,
            "open_actions": open_actions,
            "metrics": [names[m] for m in METRICS],
            "charts": _charts(report),
            "exports": {
                fmt: f"{reverse('complaint-analysis-export', args=[fmt])}?{params}" for fmt in ("xlsx", "pdf")
            },
        }
    )
    return render(request, "web/complaint_analysis.html", context)


@page_view
def complaint_analysis_cases_page(request: HttpRequest) -> HttpResponse:
    drill = drill_clean(params=request.GET)
    cases = analysis_cases(
        user=request.user,
        month=drill.month,
        dimension=drill.dimension,
        value=drill.value,
        metric=drill.metric,
    )
    page = paginate(request, cases)
    rows = [
        {
            "complaint": c,
            "weight": c.weight,
        }
        for c in page.object_list
    ]
    context = {
        "page": page,
        "rows": rows,
        "figure": analysis_cases_weight(cases),
        "metric_label": metric_labels()[drill.metric],
        "dimension_label": dimension_labels().get(drill.dimension, ""),
        "value": drill.value,
        "weighted": drill.metric in WEIGHTED_METRICS,
        "back": f"{reverse('complaint-analysis')}?{urlencode({'month': drill.month.label})}",
    }
    return render(request, "web/complaint_analysis_cases.html", context)


@page_view
def complaint_analysis_export(request: HttpRequest, fmt: str, reprint: bool = False) -> HttpResponse:
    month = month_parse(request.POST.get("month") or request.GET.get("month"))
    if fmt == "pdf":
        return printed_pdf(
            request,
            lambda reason: complaint_analysis_print(actor=request.user, month=month, reason=reason),
            filename=f"complaint-analysis-{month.label}.pdf",
            reprint=reprint,
        )
    if fmt != "xlsx":
        raise NotFound(_("不支持的导出格式"), code="export_format_not_found")
    content, filename = complaint_analysis_xlsx_download(user=request.user, month=month)
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---- 溯源整改 of one complaint --------------------------------------------------------------


def _corrective_page(
    request: HttpRequest,
    complaint_id: int,
    *,
    exc: ApplicationError | None = None,
    values: dict[str, str] | None = None,
    form: str = "",
) -> HttpResponse:
    complaint = complaint_get(user=request.user, complaint_id=complaint_id)
    actions = corrective_actions_of(user=request.user, complaint_id=complaint_id)
    today = timezone.localdate()
    errors = form_errors(exc, ACTION_FIELDS + ("root_cause", "note"))
    context = {
        "complaint": complaint,
        "actions": [{"action": a, "overdue": a.status == "open" and a.due_date < today} for a in actions],
        "may_act": corrective_may_act(request.user, complaint),
        "root_causes": RootCause.choices,
        "owners": corrective_owner_units(user=request.user),
        "values": values
        or {"root_cause": complaint.root_cause, "note": complaint.root_cause_note, "due_date": ""},
        "form": form,
        "forms": [(f, reverse("complaint-form-pdf", args=[complaint.pk, f])) for f in FORMS],
        "today": today.isoformat(),
        **errors,
    }
    return render(request, "web/complaint_corrective.html", context, status=exc.status_code if exc else 200)


@page_view
def complaint_corrective_page(request: HttpRequest, complaint_id: int) -> HttpResponse:
    """The root cause and corrective actions of one complaint (GET); POST adds an action.
    Two path segments after the id: `complaints/<id>/<action>/` belongs to the case actions."""
    if request.method == "POST":
        return _corrective_add(request, complaint_id)
    return _corrective_page(request, complaint_id)


@require_POST
@page_view
def complaint_root_cause_post(request: HttpRequest, complaint_id: int) -> HttpResponse:
    values = {"root_cause": request.POST.get("root_cause", ""), "note": request.POST.get("note", "")}
    try:
        complaint_root_cause_set(actor=request.user, complaint_id=complaint_id, **values)
    except ValidationFailed as exc:
        return _corrective_page(request, complaint_id, exc=exc, values=values, form="root_cause")
    messages.success(request, _("已认定根本原因"))
    return redirect("complaint-corrective", complaint_id=complaint_id)


def _corrective_add(request: HttpRequest, complaint_id: int) -> HttpResponse:
    values = {name: request.POST.get(name, "") for name in ACTION_FIELDS}
    try:
        corrective_action_create(
            actor=request.user,
            complaint_id=complaint_id,
            owner_org_unit_id=values["owner_org_unit"],
            due_date=values["due_date"],
            description=values["description"],
            root_cause=values["root_cause"],
        )
    except ValidationFailed as exc:
        return _corrective_page(request, complaint_id, exc=exc, values=values, form="action")
    messages.success(request, _("已添加整改措施"))
    return redirect("complaint-corrective", complaint_id=complaint_id)


@require_POST
@page_view
def corrective_action_close_post(request: HttpRequest, action_id: int) -> HttpResponse:
    try:
        action = corrective_action_close(
            actor=request.user, action_id=action_id, note=request.POST.get("note", "")
        )
    except ValidationFailed as exc:
        messages.error(
            request, exc.message or "; ".join(m for msgs in exc.field_errors.values() for m in msgs)
        )
        complaint_id = request.POST.get("complaint", "")
        return (
            redirect("complaint-corrective", complaint_id=int(complaint_id))
            if complaint_id.isdigit()
            else redirect("complaint-analysis")
        )
    messages.success(request, _("整改措施已关闭"))
    return redirect("complaint-corrective", complaint_id=action.complaint_id)


@page_view
def complaint_form_pdf(
    request: HttpRequest, complaint_id: int, form: str, reprint: bool = False
) -> HttpResponse:
    return printed_pdf(
        request,
        lambda reason: complaint_form_print(
            actor=request.user, complaint_id=complaint_id, form=form, reason=reason
        ),
        filename=f"complaint-{complaint_id}-{form}.pdf",
        reprint=reprint,
    )

"""客服信息分析报告 on the page: pick the month and the unit; figures, tables and charts. The
archived XLSX and signed PDF are in 报表归档."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from backend.common.exceptions import ValidationFailed
from backend.complaints.analysis import month_parse
from backend.hotline.monthly_report import (
    service_report_of_unit,
    service_report_unit_get,
    service_report_units,
)
from backend.web.views.base import form_errors, page_view


@page_view
def service_report_page(request: HttpRequest) -> HttpResponse:
    units = service_report_units(request.user)  # 403 without a report role
    unit = service_report_unit_get(user=request.user, code=request.GET.get("org_unit"))
    raw = request.GET.get("month", "")
    default = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    context: dict[str, Any] = {"units": units, "unit": unit, "month": raw or default, **form_errors(None, ("month",))}
    try:
        month = month_parse(raw or default)
    except ValidationFailed as exc:
        context.update(form_errors(exc, ("month",)), report=None)
        return render(request, "web/service_report.html", context, status=400)
    report = service_report_of_unit(unit=unit, month=month)
    context.update(report=report, charts=report["charts"])
    return render(request, "web/service_report.html", context)

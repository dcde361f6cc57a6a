"""客户分群与预警 in the web UI: a branch's segmented and alerted customers, its thresholds with
their versions, and the form that proposes new ones (approved by the branch's head in the inbox)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from backend.common.exceptions import ApplicationError
from backend.organisation.models import OrgUnit
from backend.organisation.selectors import user_scope_paths
from backend.segments.rules import THRESHOLDS
from backend.segments.selectors import (
    SEGMENT_FILTERS,
    segment_counts,
    segment_customers,
    segments_page_check,
    threshold_changes_of,
    thresholds_unit_get,
    thresholds_view,
)
from backend.segments.services import threshold_change_request
from backend.web.views.base import form_errors, page_view

FIELDS = ("org_unit", "reason", *(t.name for t in THRESHOLDS))


def _units(user) -> list[OrgUnit]:
    paths = user_scope_paths(user)
    return [u for u in OrgUnit.objects.order_by("path") if any(u.path.startswith(p) for p in paths)]


def _page(request: HttpRequest, unit: OrgUnit, values: dict | None = None, exc: ApplicationError | None = None) -> HttpResponse:
    kind = request.GET.get("kind", "alerted")
    if kind not in SEGMENT_FILTERS:
        kind = "alerted"
    thresholds = thresholds_view(user=request.user, unit=unit)
    context = {
        "unit": unit,
        "units": _units(request.user),
        "kind": kind,
        "kinds": [("alerted", _("有预警")), ("good", _("优质客户")), ("key", _("大客户"))],
        "counts": segment_counts(user=request.user, unit=unit),
        "customers": segment_customers(user=request.user, unit=unit, kind=kind),
        "thresholds": thresholds,
        "changes": threshold_changes_of(user=request.user, unit=unit),
        "values": values if values is not None else dict(thresholds["values"]),
        "form_open": exc is not None,
        **form_errors(exc, FIELDS),
    }
    return render(request, "web/segments.html", context, status=exc.status_code if exc else 200)


@page_view
def segments_page(request: HttpRequest) -> HttpResponse:
    segments_page_check(request.user)
    unit = thresholds_unit_get(user=request.user, code=request.GET.get("org_unit") or request.POST.get("org_unit"))
    if request.method != "POST":
        return _page(request, unit)
    values = {name: request.POST.get(name, "") for name in FIELDS}
    values["org_unit"] = unit.code
    try:
        case = threshold_change_request(actor=request.user, data=values)
    except ApplicationError as exc:
        if exc.status_code not in (400, 409):
            raise
        return _page(request, unit, values, exc)
    messages.success(request, _("已提交阈值调整申请（编号 %(id)s），待机构负责人审批") % {"id": case.pk})
    return redirect(reverse("segments") + f"?org_unit={unit.code}")

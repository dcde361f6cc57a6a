"""准客户 in the web UI: the list (search by name, status tabs) with the record form, and the
prospect's page with its convert form (the opening's fields, pre-filled from the prospect)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from backend.common.exceptions import ApplicationError
from backend.customers.lookups import lookup_query_refuse
from backend.customers.models import INDIVIDUAL_ID_TYPES, InfoLevel, ProspectSource, ProspectStatus
from backend.customers.prospects import (
    PROSPECT_FIELDS,
    prospect_convert,
    prospect_get_visible,
    prospect_list,
    prospect_record,
    prospect_view,
    prospects_visible,
)
from backend.customers.validators import LONG_TERM
from backend.web.views.base import form_errors, page_view, paginate
from backend.web.views.openings import _submitted_message

CONVERT_FIELDS = ("info_level", "name", "id_type", "id_number", "id_valid_until", "phone", "address", "email")


def _list_page(request: HttpRequest, values: dict | None = None, exc: ApplicationError | None = None) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in ProspectStatus.values else ""
    query = request.GET.get("q", "").strip()
    context: dict[str, Any] = {
        "q": query,
        "status": status,
        "tabs": [("", _("全部")), *ProspectStatus.choices],
        "sources": ProspectSource.choices,
        "id_types": [(t.value, t.label) for t in INDIVIDUAL_ID_TYPES],
        "values": values if values is not None else {"source": ProspectSource.HOTLINE_CALL.value, "id_type": "resident_id"},
        "form_open": exc is not None,
        **form_errors(exc, PROSPECT_FIELDS),
    }
    try:
        lookup_query_refuse(request.GET, where=_("登记表单"))
        qs = prospect_list(user=request.user, status=status, query=query)
    except ApplicationError as exc2:
        if exc2.status_code != 400:
            raise
        context.update(form_errors(exc2, ("q",)), rows=[], page=None)
        return render(request, "web/prospect_list.html", context, status=400)
    page = paginate(request, qs)
    context.update(page=page, rows=[prospect_view(user=request.user, prospect=p, purpose="list") for p in page.object_list])
    return render(request, "web/prospect_list.html", context, status=exc.status_code if exc else 200)


@page_view
def prospect_list_page(request: HttpRequest) -> HttpResponse:
    """GET: the list. POST (CSRF): record one; errors come back next to the fields."""
    prospects_visible(request.user)  # other roles: 403 before anything else
    if request.method != "POST":
        return _list_page(request)
    values = {name: request.POST.get(name, "") for name in PROSPECT_FIELDS}
    values["consent"] = "true" if request.POST.get("consent") else "false"
    try:
        prospect = prospect_record(actor=request.user, data=values)
    except ApplicationError as exc:
        if exc.status_code not in (400, 429):
            raise
        if not exc.field_errors:
            exc.field_errors = {"phone": [exc.message]}  # the look-up limit, next to the phone
        return _list_page(request, values, exc)
    if prospect.status == ProspectStatus.DUPLICATE:
        messages.warning(request, _("已登记，与已有客户或准客户重复（编号 %(id)s）") % {"id": prospect.pk})
    else:
        messages.success(request, _("已登记准客户（编号 %(id)s）") % {"id": prospect.pk})
    return redirect("prospect-detail", prospect_id=prospect.pk)


def _detail(request: HttpRequest, prospect, values: dict | None = None, exc: ApplicationError | None = None) -> HttpResponse:
    view = prospect_view(user=request.user, prospect=prospect)
    if values is None:
        # Pre-filled from the prospect; the masked phone and id number are not copied in (an empty
        # field keeps the prospect's own value).
        values = {"info_level": InfoLevel.ADVANCED.value, "id_type": prospect.id_type or "resident_id", "name": prospect.name}
        if not view["masked"]:
            values.update(phone=prospect.phone, id_number=prospect.id_number)
    context = {
        "p": view,
        "values": values,
        "info_levels": InfoLevel.choices,
        "id_types": [(t.value, t.label) for t in INDIVIDUAL_ID_TYPES],
        "advanced": InfoLevel.ADVANCED.value,
        "form_open": exc is not None,
        **form_errors(exc, (*CONVERT_FIELDS, "scan")),
    }
    return render(request, "web/prospect_detail.html", context, status=exc.status_code if exc else 200)


@page_view
def prospect_detail(request: HttpRequest, prospect_id: int) -> HttpResponse:
    prospect = prospect_get_visible(user=request.user, prospect_id=prospect_id)
    return _detail(request, prospect)


@page_view
def prospect_convert_page(request: HttpRequest, prospect_id: int) -> HttpResponse:
    """POST: convert through the opening (the same checks); the form comes back with the errors."""
    prospect = prospect_get_visible(user=request.user, prospect_id=prospect_id)
    if request.method != "POST":
        return redirect("prospect-detail", prospect_id=prospect.pk)
    values = {name: request.POST.get(name, "") for name in CONVERT_FIELDS}
    if request.POST.get("id_valid_long_term"):
        values["id_valid_until"] = LONG_TERM
    try:
        opening = prospect_convert(actor=request.user, prospect_id=prospect.pk, data=values, scan=request.FILES.get("scan"))
    except ApplicationError as exc:
        if exc.status_code not in (400, 409):
            raise
        prospect.refresh_from_db()
        return _detail(request, prospect, values, exc)
    messages.success(request, _submitted_message(opening))
    return redirect("customer-detail", customer_id=opening.customer_id)

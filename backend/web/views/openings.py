"""新开户: the account-opening form (multipart, with the identity scan)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from backend.common.exceptions import ApplicationError, NotFound
from backend.customers.models import (
    CORPORATE_ID_TYPES,
    INDIVIDUAL_ID_TYPES,
    CustomerStatus,
    IdType,
    InfoLevel,
)
from backend.customers.printing import opening_form_print
from backend.customers.selectors import customer_get_visible, opening_get_visible
from backend.customers.services import account_opening_submit
from backend.customers.validators import LONG_TERM
from backend.web.views.base import form_errors, page_view, printed_pdf

FIELDS = ("info_level", "name", "id_type", "id_number", "id_valid_until", "phone", "address", "email")
FORM_FIELDS = (*FIELDS, "scan")


def _render(request: HttpRequest, values: dict, exc: ApplicationError | None = None) -> HttpResponse:
    context = {
        "values": values,
        "info_levels": InfoLevel.choices,
        "id_types": [(t.value, t.label) for t in INDIVIDUAL_ID_TYPES],
        "advanced": InfoLevel.ADVANCED.value,
        "duplicate_id": None,
        **form_errors(exc, FORM_FIELDS),
    }
    if exc is not None and exc.extra.get("customer_id"):
        # A duplicate: link the existing customer only if this user may see it.
        try:
            context["duplicate_id"] = customer_get_visible(user=request.user, customer_id=exc.extra["customer_id"]).pk
        except NotFound:
            pass
    return render(request, "web/opening_new.html", context, status=exc.status_code if exc else 200)


def _submitted_message(opening) -> str:
    if opening.customer.status == CustomerStatus.ACTIVE:
        return _("开户成功,客户号 %(id)s") % {"id": opening.customer_id}
    if opening.opened_by_id is None:
        # A collector's submission: the branch's customer-information officer opens it.
        return _("已提交,待客户信息管理岗确认开户,客户号 %(id)s") % {"id": opening.customer_id}
    return _("已提交审核,客户号 %(id)s") % {"id": opening.customer_id}


@page_view
def opening_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request, {"info_level": InfoLevel.PRIMARY.value, "id_type": IdType.RESIDENT_ID.value})
    values = {name: request.POST.get(name, "") for name in FIELDS}
    if request.POST.get("id_valid_long_term"):  # the 长期有效 box wins over a date
        values["id_valid_until"] = LONG_TERM
    try:
        opening = account_opening_submit(actor=request.user, **values, scan=request.FILES.get("scan"))
    except ApplicationError as exc:
        return _render(request, values, exc)
    messages.success(request, _submitted_message(opening))
    return redirect("customer-detail", customer_id=opening.customer_id)


CORPORATE_FIELDS = (
    "info_level",
    "name",
    "id_type",
    "id_number",
    "legal_rep_name",
    "legal_rep_id_type",
    "legal_rep_id_number",
    "address",
    "contact_person",
    "phone",
    "email",
)


def _render_corporate(request: HttpRequest, values: dict, exc: ApplicationError | None = None) -> HttpResponse:
    context = {
        "values": values,
        "info_levels": InfoLevel.choices,
        "id_types": [(t.value, t.label) for t in CORPORATE_ID_TYPES],
        "rep_id_types": [(t.value, t.label) for t in INDIVIDUAL_ID_TYPES],
        "duplicate_id": None,
        **form_errors(exc, (*CORPORATE_FIELDS, "scan", "customer_type")),
    }
    if exc is not None and exc.extra.get("customer_id"):
        try:
            context["duplicate_id"] = customer_get_visible(user=request.user, customer_id=exc.extra["customer_id"]).pk
        except NotFound:
            pass
    return render(request, "web/opening_corporate.html", context, status=exc.status_code if exc else 200)


@page_view
def opening_corporate(request: HttpRequest) -> HttpResponse:
    """法人客户开户."""
    if request.method != "POST":
        return _render_corporate(request, {"info_level": InfoLevel.ADVANCED.value, "id_type": IdType.USCC.value, "legal_rep_id_type": IdType.RESIDENT_ID.value})
    values = {name: request.POST.get(name, "") for name in CORPORATE_FIELDS}
    try:
        opening = account_opening_submit(actor=request.user, customer_type="corporate", **values, scan=request.FILES.get("scan"))
    except ApplicationError as exc:
        return _render_corporate(request, values, exc)
    messages.success(request, _submitted_message(opening))
    return redirect("customer-detail", customer_id=opening.customer_id)


@page_view
def opening_form_pdf(request: HttpRequest, opening_id: int, reprint: bool = False) -> HttpResponse:
    """个人/法人客户开户申请表 as a signed PDF (a reprint asks for a reason)."""
    opening = opening_get_visible(user=request.user, opening_id=opening_id)
    return printed_pdf(
        request,
        lambda reason: opening_form_print(actor=request.user, opening=opening, reason=reason),
        filename=f"opening-{opening.pk}.pdf",
        reprint=reprint,
    )

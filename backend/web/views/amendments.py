"""客户信息修改, 冻结 and the 客户信息变更申请表 PDF in the web UI."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backend.common.exceptions import ApplicationError
from backend.customers.amendments import TYPED_FIELDS, customer_amendment_request
from backend.customers.case_views import amendment_get_visible, amendment_view
from backend.customers.models import CORPORATE_ID_TYPES, FIELD_LABELS, INDIVIDUAL_ID_TYPES
from backend.customers.printing import change_request_print
from backend.customers.selectors import customer_get_visible, customer_view
from backend.customers.services import customer_freeze
from backend.web.views.base import form_errors, page_view, printed_pdf


def _amend_page(request: HttpRequest, customer, values: dict, exc: ApplicationError | None = None) -> HttpResponse:
    view = customer_view(user=request.user, customer=customer)
    kind = customer.customer_type
    id_types = CORPORATE_ID_TYPES if customer.is_corporate else INDIVIDUAL_ID_TYPES
    rows = []
    for name in TYPED_FIELDS[kind]:
        choices = None
        if name == "id_type":
            choices = [(t.value, t.label) for t in id_types]
        elif name == "legal_rep_id_type":
            choices = [(t.value, t.label) for t in INDIVIDUAL_ID_TYPES]
        current = view.get(name)
        if name in ("id_type", "legal_rep_id_type") and current:
            current = dict(choices or []).get(current, current)
        if name == "id_valid_until" and current == "long_term":
            current = _("长期")
        rows.append({"name": name, "label": FIELD_LABELS[name], "current": current or "—", "value": values.get(name, ""), "choices": choices})
    errs = form_errors(exc, [*TYPED_FIELDS[kind], "reason"])
    context = {"customer": view, "rows": rows, "reason": values.get("reason", ""), **errs}
    return render(request, "web/customer_amend.html", context, status=exc.status_code if exc else 200)


@page_view
def customer_amend(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_visible(user=request.user, customer_id=customer_id)
    if request.method != "POST":
        return _amend_page(request, customer, {})
    values = {name: request.POST.get(name, "") for name in (*TYPED_FIELDS[customer.customer_type], "reason")}
    proposed = {k: v for k, v in values.items() if k != "reason"}
    try:
        amendment = customer_amendment_request(actor=request.user, customer=customer, proposed=proposed, reason=values["reason"])
    except ApplicationError as exc:
        return _amend_page(request, customer, values, exc)
    messages.success(request, _("修改申请已提交审核(申请号 %(id)s)") % {"id": amendment.pk})
    return redirect("amendment-detail", amendment_id=amendment.pk)


@page_view
def amendment_detail(request: HttpRequest, amendment_id: int) -> HttpResponse:
    amendment = amendment_get_visible(user=request.user, amendment_id=amendment_id)
    return render(request, "web/amendment_detail.html", {"case": amendment_view(user=request.user, amendment=amendment)})


@page_view
def amendment_pdf(request: HttpRequest, amendment_id: int, reprint: bool = False) -> HttpResponse:
    amendment = amendment_get_visible(user=request.user, amendment_id=amendment_id)
    return printed_pdf(
        request,
        lambda reason: change_request_print(actor=request.user, amendment=amendment, reason=reason),
        filename=f"change-request-{amendment.pk}.pdf",
        reprint=reprint,
    )


@require_POST
@page_view
def customer_freeze_toggle(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_visible(user=request.user, customer_id=customer_id)
    unfreeze = request.POST.get("action") == "unfreeze"
    try:
        customer_freeze(actor=request.user, customer=customer, reason=request.POST.get("reason", ""), unfreeze=unfreeze)
    except ApplicationError as exc:
        messages.error(request, exc.message or "; ".join(m for msgs in exc.field_errors.values() for m in msgs))
        return redirect("customer-detail", customer_id=customer.pk)
    messages.success(request, _("客户已解冻") if unfreeze else _("客户已冻结"))
    return redirect("customer-detail", customer_id=customer.pk)

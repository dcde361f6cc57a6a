"""热线坐席台: look the caller up (the recorded look-up), see the customer whole, log the call and
hand it on — one screen, one form per step."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from backend.common.exceptions import ApplicationError
from backend.complaints.models import Category as ComplaintCategory
from backend.customers.lookups import customer_lookup
from backend.customers.selectors import customer_get_visible, customer_view
from backend.hotline.models import CallCategory, Handoff
from backend.hotline.selectors import (
    call_view,
    hotline_calls_visible,
    hotline_customer_view,
    hotline_desk_check,
)
from backend.hotline.services import (
    AMENDMENT_FIELDS,
    CALL_FIELDS,
    CLAIM_FIELDS,
    COMPLAINT_FIELDS,
    PROSPECT_FIELDS,
    hotline_call_log,
)
from backend.web.views.base import form_errors, page_view
from backend.web.views.customers import LOOKUP_FIELD_CHOICES

FORM_FIELDS = tuple(dict.fromkeys((*CALL_FIELDS, *COMPLAINT_FIELDS, *AMENDMENT_FIELDS, *CLAIM_FIELDS, *PROSPECT_FIELDS)))
LOOKUP_FIELDS = ("field", "value")
MAX_ROWS = 20
CALLER_KEY = "hotline_caller_phone"  # the number last looked up, kept server-side (never in a URL)


def _page(request: HttpRequest, *, customer=None, lookup=None, results=None, call_values=None, exc=None, lookup_exc=None, status=200):
    values = call_values or {"caller_phone": request.session.get(CALLER_KEY, ""), "handoff": Handoff.NONE}
    context: dict[str, Any] = {
        "lookup": lookup or {"field": "phone", "value": ""},
        "lookup_fields": LOOKUP_FIELD_CHOICES,
        "results": results,
        "customer_id": customer.pk if customer else None,
        "view": hotline_customer_view(user=request.user, customer=customer) if customer else None,
        "values": values,
        "categories": CallCategory.choices,
        "handoffs": [
            (k, v) for k, v in Handoff.choices if (k != Handoff.PROSPECT if customer else k in (Handoff.NONE, Handoff.COMPLAINT, Handoff.PROSPECT))
        ],
        "complaint_categories": ComplaintCategory.choices,
        "recent": [call_view(c) for c in hotline_calls_visible(user=request.user).filter(agent=request.user).order_by("-id")[:8]],
        "duplicate": exc is not None and getattr(exc, "code", "") == "possible_duplicate",
        **form_errors(exc, FORM_FIELDS),
        "lookup_errors": form_errors(lookup_exc, LOOKUP_FIELDS) if lookup_exc else {},
    }
    return render(request, "web/hotline.html", context, status=status)


@page_view
def hotline_desk(request: HttpRequest) -> HttpResponse:
    hotline_desk_check(request.user)
    customer_id = request.GET.get("customer") or request.POST.get("customer_id") or ""
    customer = customer_get_visible(user=request.user, customer_id=customer_id) if customer_id else None
    if request.method != "POST":
        return _page(request, customer=customer)
    if request.POST.get("action") == "search":
        lookup = {name: request.POST.get(name, "") for name in LOOKUP_FIELDS}
        try:
            found = list(customer_lookup(actor=request.user, field=lookup["field"], value=lookup["value"])[:MAX_ROWS])
        except ApplicationError as exc:
            if exc.status_code not in (400, 429):
                raise
            return _page(request, lookup=lookup, lookup_exc=exc, status=exc.status_code)
        if lookup["field"] == "phone":
            request.session[CALLER_KEY] = lookup["value"].strip()[:40]
        rows = [customer_view(user=request.user, customer=c, purpose="list") for c in found]
        return _page(request, lookup=lookup, results=rows)
    values = {name: request.POST.get(name, "") for name in FORM_FIELDS}
    values["not_duplicate"] = request.POST.get("not_duplicate") == "1"
    try:
        call = hotline_call_log(actor=request.user, data=values)
    except ApplicationError as exc:
        if exc.status_code not in (400, 409):
            raise
        return _page(request, customer=customer, call_values=values, exc=exc, status=exc.status_code)
    request.session.pop(CALLER_KEY, None)
    notes = {
        Handoff.COMPLAINT: _("，已转投诉（编号 %(n)s）") % {"n": call.complaint.number if call.complaint_id else ""},
        Handoff.AMENDMENT: _("，已发起资料变更（编号 %(n)s），待审核") % {"n": call.amendment_id},
        Handoff.CLAIM_REPORT: _("，理赔报案：%(s)s") % {"s": call.get_claim_report_status_display()},
        Handoff.PROSPECT: _("，已登记准客户（编号 %(n)s）") % {"n": call.prospect_id},
    }
    messages.success(request, _("已登记来电 %(id)s") % {"id": call.pk} + notes.get(call.handoff, ""))
    target = reverse("hotline")
    return redirect(f"{target}?customer={call.customer_id}" if call.customer_id else target)

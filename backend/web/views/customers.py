"""客户: the scoped customer list with its exact search, the customer page (业务关联查询 and
查看完整信息), its printable collection card, and the compliance reveal log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from backend.common.exceptions import ApplicationError, NotFound
from backend.customers.contacts import CONTACT_FIELDS, customer_contact_record, user_may_record_contact
from backend.customers.linkage import customer_linkage, field_label
from backend.customers.lookups import customer_lookup, lookup_query_refuse
from backend.customers.models import ContactChannel, ContactKind, CustomerStatus, IncomeBand
from backend.customers.printing import collection_card_print
from backend.customers.profile import PROFILE_FIELDS, customer_profile_update, user_may_edit_profile
from backend.customers.reveal import (
    customer_field_reveal,
    reveal_event_list,
    reveal_event_row,
    user_may_reveal,
)
from backend.customers.selectors import (
    PERSONAL_FIELDS,
    customer_get_visible,
    customer_list,
    customer_search_clean,
    customer_trail,
    customer_view,
)
from backend.customers.timeline import customer_timeline
from backend.organisation import privacy
from backend.segments.selectors import customer_segment_view
from backend.service.assignments import customer_assignment_request, user_may_request_assignment
from backend.service.major_events import MAJOR_EVENT_FIELDS, major_event_report, user_may_report_major_event
from backend.service.models import MajorEventKind
from backend.service.selectors import (
    customer_assignment_view,
    customer_assignments_visible,
    customer_manager_brief,
    customer_manager_candidates,
    major_event_view,
    major_events_visible,
)
from backend.web.views.base import error_page, form_errors, is_htmx, page_view, paginate, printed_pdf

SEARCH_FIELDS = ("name", "id_number", "uscc", "phone")
REVEAL_FILTERS = ("kind", "user", "customer", "field", "date_from", "date_to")
LOOKUP_FORM_FIELDS = ("field", "value")
LOOKUP_FIELD_CHOICES = (
    ("id_number", _("证件号码")),
    ("phone", _("联系电话")),
    ("uscc", _("统一社会信用代码")),
    ("name", _("姓名/名称")),
)
# Exact-search results are shown on one page (a POST has no page links).
LOOKUP_MAX_ROWS = 100


@page_view
def customer_list_page(request: HttpRequest) -> HttpResponse:
    """GET: the scoped list with the name/customer-number filter. POST (CSRF): the exact search
    by one identifier or name, a recorded look-up under the hourly limit; identifiers never
    travel in the URL (a GET carrying one is refused with the form again)."""
    source = request.GET
    query = source.get("q", "").strip()
    status = source.get("status", "").strip()
    if status not in CustomerStatus.values:
        status = ""
    lookup = {name: request.POST.get(name, "") for name in LOOKUP_FORM_FIELDS}
    if request.method == "POST" and not lookup["field"]:
        # An older form posted one input per key: the first filled one is the look-up.
        given = [(k, request.POST.get(k, "")) for k in SEARCH_FIELDS if request.POST.get(k, "").strip()]
        if given:
            lookup = {"field": given[0][0], "value": given[0][1]}
    context: dict[str, Any] = {
        "q": query,
        "status": status,
        "statuses": CustomerStatus.choices,
        "lookup": lookup,
        "lookup_fields": LOOKUP_FIELD_CHOICES,
    }
    if request.method == "POST":
        return _lookup_results(request, context, lookup)
    try:
        lookup_query_refuse(request.GET, where=_("本页的精确查询表单"))
        search = customer_search_clean({"name": request.GET.get("name", "")})
    except ApplicationError as exc:
        context.update(form_errors(exc, ("q", *SEARCH_FIELDS)), rows=[], page=None)
        return render(request, "web/customer_list.html", context, status=exc.status_code)
    page = paginate(request, customer_list(user=request.user, query=query, status=status, search=search))
    rows = [customer_view(user=request.user, customer=c, purpose="list") for c in page.object_list]
    context.update(page=page, rows=rows, searched=bool(search or query or status))
    return render(request, "web/customer_list.html", context)


def _lookup_results(request: HttpRequest, context: dict[str, Any], lookup: dict[str, str]) -> HttpResponse:
    try:
        qs = customer_lookup(actor=request.user, field=lookup["field"], value=lookup["value"])
    except ApplicationError as exc:
        if exc.status_code not in (400, 429):
            raise
        context.update(form_errors(exc, LOOKUP_FORM_FIELDS), rows=[], page=None)
        if not exc.field_errors:
            # The limit message sits next to the value field, not only at the top.
            context["errors"] = {"value": [exc.message]}
        response = render(request, "web/customer_list.html", context, status=exc.status_code)
        if "retry_after" in exc.extra:
            response["Retry-After"] = str(int(exc.extra["retry_after"]))
        return response
    customers = list(qs[:LOOKUP_MAX_ROWS])
    rows = [customer_view(user=request.user, customer=c, purpose="list") for c in customers]
    context.update(page=None, rows=rows, searched=True, lookup_done=True)
    return render(request, "web/customer_list.html", context)


def _reveal_slots(customer: dict[str, Any], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """One 「查看完整信息」 form per masked personal field that holds a value."""
    return [
        {"field": name, "label": field_label(name), "masked_value": customer[name]}
        for name in fields
        if customer.get(name)
    ]


def _detail_page(
    request: HttpRequest,
    customer_id: int,
    *,
    revealed: dict[str, str] | None = None,
    reveal_error: tuple[str, ApplicationError] | None = None,
    contact_error: ApplicationError | None = None,
    profile_error: ApplicationError | None = None,
    major_event_error: ApplicationError | None = None,
    assignment_error: ApplicationError | None = None,
    status: int = 200,
) -> HttpResponse:
    customer = customer_get_visible(user=request.user, customer_id=customer_id)
    linkage = customer_linkage(user=request.user, customer=customer)
    view = linkage["customer"]
    corporate = view["customer_type"] == "corporate"
    fields = tuple(f for f in PERSONAL_FIELDS if corporate or f != "legal_rep_id_number")
    slots = _reveal_slots(view, fields) if view["masked"] and user_may_reveal(request.user, customer) else []
    for slot in slots:
        slot["value"] = (revealed or {}).get(slot["field"])
        if reveal_error and reveal_error[0] == slot["field"]:
            slot.update(
                form_errors(reveal_error[1], ("reason", "field")), reason=request.POST.get("reason", "")
            )
    if reveal_error and not any(slot.get("error_message") for slot in slots):
        # Not a form's own error (e.g. the role may not reveal): show it above the page.
        linkage_error = form_errors(reveal_error[1], ())
    else:
        linkage_error = {}
    contact_form: dict[str, Any] = {
        "kinds": ContactKind.choices,
        "channels": ContactChannel.choices,
        "values": {name: request.POST.get(name, "") for name in CONTACT_FIELDS} if contact_error else {},
        **form_errors(contact_error, CONTACT_FIELDS),
    }
    may_edit_profile = user_may_edit_profile(request.user, customer)
    profile_form: dict[str, Any] = {
        "income_bands": IncomeBand.choices,
        # The form starts from the current values only for a user who sees them whole.
        "values": {name: request.POST.get(name, "") for name in (*PROFILE_FIELDS, "reason")}
        if profile_error
        else ({name: getattr(customer, name) for name in PROFILE_FIELDS} if not view["masked"] else {}),
        "open": profile_error is not None,
        **form_errors(profile_error, (*PROFILE_FIELDS, "reason")),
    }
    context = {
        **linkage,
        **linkage_error,
        "may_edit_profile": may_edit_profile,
        "profile_form": profile_form,
        "reveal_slots": slots,
        "trail": customer_trail(customer=customer),
        "may_record_contact": user_may_record_contact(request.user, customer),
        "contact_form": contact_form,
        # The full view (if any) is audited once, by customer_linkage above.
        "timeline": customer_timeline(user=request.user, customer=customer, audit=False),
        "major_events": [major_event_view(e) for e in major_events_visible(user=request.user).filter(customer=customer).order_by("-id")[:20]],
        "may_report_major_event": user_may_report_major_event(request.user, customer),
        "customer_manager": customer_manager_brief(customer),
        "segment": customer_segment_view(customer),
        "may_request_assignment": user_may_request_assignment(request.user, customer),
        "assignments": [
            customer_assignment_view(a) for a in customer_assignments_visible(user=request.user).filter(customer=customer).order_by("-id")[:10]
        ],
        "assignment_form": {
            "managers": customer_manager_candidates(customer),
            "values": {name: request.POST.get(name, "") for name in ("manager", "reason")} if assignment_error else {},
            "open": assignment_error is not None,
            **form_errors(assignment_error, ("manager", "reason")),
        },
        "major_event_form": {
            "kinds": MajorEventKind.choices,
            "values": {name: request.POST.get(name, "") for name in MAJOR_EVENT_FIELDS} if major_event_error else {},
            "open": major_event_error is not None,
            **form_errors(major_event_error, MAJOR_EVENT_FIELDS),
        },
    }
    return render(request, "web/customer_detail.html", context, status=status)


@page_view
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _detail_page(request, customer_id)


@require_POST
@page_view
def customer_contact_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    """登记联系记录: POST the contact form; back to the page's 联系记录 section, or the page with
    the form again and its errors next to the fields (nothing recorded)."""
    try:
        customer_contact_record(actor=request.user, customer_id=customer_id, data=request.POST)
    except ApplicationError as exc:
        if exc.status_code != 400:
            raise
        return _detail_page(request, customer_id, contact_error=exc, status=exc.status_code)
    return redirect(reverse("customer-detail", kwargs={"customer_id": customer_id}) + "#contacts")


@require_POST
@page_view
def customer_major_event_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    """报告重大事件: POST the form; back to the page's 重大事件 section with a notice, or the page
    with the form open again and its errors next to the fields (nothing reported)."""
    try:
        case = major_event_report(
            actor=request.user, customer_id=customer_id, data={k: request.POST.get(k, "") for k in MAJOR_EVENT_FIELDS}
        )
    except ApplicationError as exc:
        if exc.status_code != 400:
            raise
        return _detail_page(request, customer_id, major_event_error=exc, status=exc.status_code)
    messages.success(request, _("已报告重大事件（编号 %(id)s），已同时送达机构负责人和客户服务中心") % {"id": case.pk})
    return redirect(reverse("customer-detail", kwargs={"customer_id": customer_id}) + "#major-events")


@require_POST
@page_view
def customer_assignment_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    """申请分配/移交客户经理: POST the form; back to the page with a notice, or the page with the
    form open again and its errors next to the fields (nothing requested)."""
    try:
        case = customer_assignment_request(
            actor=request.user,
            data={"customer_id": customer_id, "manager": request.POST.get("manager", ""), "reason": request.POST.get("reason", "")},
        )
    except ApplicationError as exc:
        if exc.status_code not in (400, 409):
            raise
        return _detail_page(request, customer_id, assignment_error=exc, status=exc.status_code)
    messages.success(request, _("已提交客户分配申请（编号 %(id)s），待机构负责人审批") % {"id": case.pk})
    return redirect(reverse("customer-detail", kwargs={"customer_id": customer_id}) + "#customer-manager")


@require_POST
@page_view
def customer_profile_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    """客户档案: POST the profile form; back to the page, or the page with the form open again and
    its errors next to the fields (nothing changed)."""
    customer = customer_get_visible(user=request.user, customer_id=customer_id)
    data = {k: v for k, v in request.POST.items() if k in (*PROFILE_FIELDS, "reason")}
    if not privacy.sees_full(request.user, customer.org_unit):
        # The form started empty (the values are masked): a field left empty stays as it is.
        data = {k: v for k, v in data.items() if v.strip() or k == "reason"}
    try:
        customer_profile_update(actor=request.user, customer_id=customer.pk, data=data)
    except ApplicationError as exc:
        if exc.status_code != 400:
            raise
        return _detail_page(request, customer_id, profile_error=exc, status=exc.status_code)
    return redirect(reverse("customer-detail", kwargs={"customer_id": customer_id}))


@require_POST
@page_view
def customer_reveal(request: HttpRequest, customer_id: int) -> HttpResponse:
    """查看完整信息: POST field + reason; the page (or, with htmx, the field's slot) again with
    the full value or the form's errors."""
    customer = customer_get_visible(user=request.user, customer_id=customer_id)
    field = request.POST.get("field", "")
    try:
        value = customer_field_reveal(
            actor=request.user, customer=customer, field=field, reason=request.POST.get("reason", "")
        )
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            return error_page(request, exc)
        if is_htmx(request) and field in PERSONAL_FIELDS:
            slot = {
                "field": field,
                "label": field_label(field),
                "masked_value": customer_view(user=request.user, customer=customer, purpose="list")[field],
                "reason": request.POST.get("reason", ""),
                **form_errors(exc, ("reason", "field")),
            }
            return render(
                request,
                "web/_reveal_slot.html",
                {"slot": slot, "customer_id": customer.pk},
                status=exc.status_code,
            )
        return _detail_page(request, customer_id, reveal_error=(field, exc), status=exc.status_code)
    if is_htmx(request):
        slot = {"field": field, "label": field_label(field), "value": value}
        return render(request, "web/_reveal_slot.html", {"slot": slot, "customer_id": customer.pk})
    return _detail_page(request, customer_id, revealed={field: value})


@page_view
def customer_card(request: HttpRequest, customer_id: int, reprint: bool = False) -> HttpResponse:
    customer = customer_get_visible(user=request.user, customer_id=customer_id)
    return printed_pdf(
        request,
        lambda reason: collection_card_print(actor=request.user, customer=customer, reason=reason),
        filename=f"collection-card-{customer.pk}.pdf",
        reprint=reprint,
    )


@page_view
def reveal_log_page(request: HttpRequest) -> HttpResponse:
    """合规: who revealed which personal field of which customer, and why."""
    typed = {name: request.GET.get(name, "") for name in REVEAL_FILTERS}
    context: dict[str, Any] = {"filters": typed, "fields": PERSONAL_FIELDS}
    try:
        events = reveal_event_list(user=request.user, params=request.GET)
    except ApplicationError as exc:
        if exc.status_code != 400:
            raise
        context.update(form_errors(exc, REVEAL_FILTERS), rows=[], page=None)
        return render(request, "web/reveal_log.html", context, status=exc.status_code)
    page = paginate(request, events)
    context.update(page=page, rows=[reveal_event_row(e) for e in page.object_list])
    return render(request, "web/reveal_log.html", context)

"""投诉 in the web UI: the scoped list, accepting a complaint (with the duplicate offer), the
complaint page with its regulatory clock, trail, open tasks and the clock's actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from backend.common.exceptions import ApplicationError, NotFound
from backend.complaints import services
from backend.complaints.case_views import complaint_actions, complaint_summary, complaint_view
from backend.complaints.clock import clock_view
from backend.complaints.models import (
    Category,
    Channel,
    ComplaintStatus,
    NoticeChannel,
    NoticeKind,
    Remedy,
    RequestStatus,
    ReviewDecision,
    Satisfaction,
)
from backend.complaints.selectors import (
    complaint_get,
    complaint_list,
    complaint_open_tasks,
    complaint_org_unit_choices,
)
from backend.customers.models import INDIVIDUAL_ID_TYPES
from backend.web.views.base import error_page, form_errors, page_view, paginate

INTAKE_FIELDS = (
    "channel", "category", "subject", "description", "complainant_name", "complainant_phone", "complainant_id_type",
    "complainant_id_number", "identity_verified", "complainant_count", "received_at", "customer_id", "policy_number", "product",
    "subject_employee", "subject_agent", "complainant_agent",
)
LIST_FILTERS = ("status", "channel", "category", "org_unit", "q", "overdue", "major")
ATTACHMENT_KIND_LABELS = {"recording": gettext_lazy("录音"), "letter": gettext_lazy("信函"), "other": gettext_lazy("其他")}
# The complaint page's action forms and the fields each posts.
ACTION_FIELDS = {
    "extend": ("reason",),
    "extension-request": ("reason",),
    "pause": ("reason",),
    "resume": ("reason",),
    "new-facts": ("description", "received_at"),
    "withdraw": ("reason", "received_at"),
    "notice": ("kind", "channel", "sent_at", "proof"),
    "review-request": ("reason", "received_at"),
    "attachment": ("kind", "file"),
}


# ---- list ------------------------------------------------------------------------------------------


@page_view
def complaint_list_page(request: HttpRequest) -> HttpResponse:
    page = paginate(request, complaint_list(user=request.user, params=request.GET))
    context = {
        "page": page,
        "rows": [complaint_summary(c) | {"clock": clock_view(c)} for c in page.object_list],
        "filters": {name: request.GET.get(name, "").strip() for name in LIST_FILTERS},
        "statuses": ComplaintStatus.choices,
        "channels": Channel.choices,
        "categories": Category.choices,
        "org_units": complaint_org_unit_choices(user=request.user),
    }
    return render(request, "web/complaint_list.html", context)


# ---- accept ----------------------------------------------------------------------------------------


def _intake(post) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the service takes, what the form shows again). Empty optional fields are left out
    so the service's defaults apply (received now, one complainant)."""
    values = {name: post.get(name, "").strip() for name in INTAKE_FIELDS}
    values["identity_verified"] = post.get("identity_verified") in {"on", "true", "1"}
    data: dict[str, Any] = {k: v for k, v in values.items() if v not in ("", None)}
    data["identity_verified"] = values["identity_verified"]
    if "complainant_count" in data:
        try:
            data["complainant_count"] = int(data["complainant_count"])
        except ValueError:
            pass  # left as text: the service reports it on the field
    if post.get("merge_into"):
        data["merge_into"] = post.get("merge_into")
    if post.get("not_duplicate") == "true":
        data["not_duplicate"] = True
    return data, values


def _accept_page(request: HttpRequest, values: dict[str, Any], exc: ApplicationError | None = None) -> HttpResponse:
    duplicates = exc.extra.get("duplicates", []) if exc is not None and exc.code == "possible_duplicate" else []
    context = {
        "values": values,
        "hidden_values": [(k, "on" if v is True else v) for k, v in values.items() if v not in ("", False, None)],
        "channels": Channel.choices,
        "categories": Category.choices,
        "id_types": [(t.value, t.label) for t in INDIVIDUAL_ID_TYPES],
        "duplicates": duplicates,
        **form_errors(None if duplicates else exc, INTAKE_FIELDS),
    }
    if duplicates:
        context["error_message"] = exc.message
    return render(request, "web/complaint_new.html", context, status=exc.status_code if exc else 200)


@page_view
def complaint_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _accept_page(request, {"channel": Channel.HOTLINE.value, "complainant_count": "1"})
    data, values = _intake(request.POST)
    try:
        complaint, merged = services.complaint_accept(actor=request.user, data=data)
    except ApplicationError as exc:
        return _accept_page(request, values, exc)
    if merged:
        messages.success(request, _("已合并到投诉 %(number)s") % {"number": complaint.number})
    else:
        messages.success(request, _("投诉已受理,编号 %(number)s") % {"number": complaint.number})
    return redirect("complaint-detail", complaint_id=complaint.pk)


# ---- the complaint page ----------------------------------------------------------------------------


def _detail_page(
    request: HttpRequest, complaint_id: Any, *, action: str | None = None, error: ApplicationError | None = None, posted=None
) -> HttpResponse:
    c = complaint_get(user=request.user, complaint_id=complaint_id)
    errs = form_errors(error, ACTION_FIELDS.get(action or "", ()))

    def action_context(name: str) -> dict[str, Any]:
        sent = posted if action == name and posted is not None else {}
        return {"errors": errs["errors"] if action == name else {}, "values": {f: sent.get(f, "") for f in ACTION_FIELDS[name]}}

    view = complaint_view(user=request.user, c=c)
    context = {
        "c": view,
        "remedies": [str(dict(Remedy.choices).get(r, r)) for r in view["remedies"]],
        "satisfaction": dict(Satisfaction.choices).get(view["satisfaction"], view["satisfaction"]),
        "channel_labels": dict(Channel.choices),
        "review_decision_labels": dict(ReviewDecision.choices),
        "request_status_labels": dict(RequestStatus.choices),
        "actions": complaint_actions(user=request.user, c=c),
        "tasks": complaint_open_tasks(user=request.user, complaint=c),
        "forms": {name.replace("-", "_"): action_context(name) for name in ACTION_FIELDS},
        "notice_kinds": NoticeKind.choices,
        "notice_channels": NoticeChannel.choices,
        "attachment_kinds": list(ATTACHMENT_KIND_LABELS.items()),
        "attachment_kind_labels": ATTACHMENT_KIND_LABELS,
        **errs,
    }
    return render(request, "web/complaint_detail.html", context, status=error.status_code if error else 200)


@page_view
def complaint_detail(request: HttpRequest, complaint_id: int) -> HttpResponse:
    return _detail_page(request, complaint_id)


def _run(request: HttpRequest, complaint_id: int, action: str) -> str:
    """One service call per action; returns the success message."""
    post, user = request.POST, request.user
    if action == "extend":
        services.complaint_extend(actor=user, complaint_id=complaint_id, reason=post.get("reason", ""))
        return _("处理时限已延长至 30 日")
    if action == "extension-request":
        services.complaint_extension_request(actor=user, complaint_id=complaint_id, reason=post.get("reason", ""))
        return _("再延长申请已提交上级机构审批")
    if action == "pause":
        services.complaint_pause(actor=user, complaint_id=complaint_id, reason=post.get("reason", ""))
        return _("时限已暂停")
    if action == "resume":
        services.complaint_resume(actor=user, complaint_id=complaint_id, reason=post.get("reason", ""))
        return _("时限已恢复计算")
    if action == "new-facts":
        services.complaint_new_facts(actor=user, complaint_id=complaint_id, data=_fields(post, action))
        return _("已记录新事实,时限重新起算")
    if action == "withdraw":
        services.complaint_withdraw(actor=user, complaint_id=complaint_id, data=_fields(post, action))
        return _("投诉已撤诉")
    if action == "notice":
        services.complaint_notice_add(actor=user, complaint_id=complaint_id, data=_fields(post, action))
        return _("已记录告知及送达凭证")
    if action == "review-request":
        review = services.complaint_review_request(actor=user, complaint_id=complaint_id, data=_fields(post, action))
        return _("核查申请已提交 %(unit)s") % {"unit": review.org_unit.name}
    services.complaint_attachment_add(actor=user, complaint_id=complaint_id, upload=request.FILES.get("file"), kind=post.get("kind", ""))
    return _("附件已上传")


def _fields(post, action: str) -> dict[str, str]:
    """The action's fields; an empty time is left out (the service takes now)."""
    return {name: post.get(name, "").strip() for name in ACTION_FIELDS[action] if post.get(name, "").strip()}


@require_POST
@page_view
def complaint_action(request: HttpRequest, complaint_id: int, action: str) -> HttpResponse:
    if action not in ACTION_FIELDS:
        return error_page(request, NotFound(_("未找到")))
    try:
        message = _run(request, complaint_id, action)
    except NotFound as exc:
        return error_page(request, exc)
    except ApplicationError as exc:
        return _detail_page(request, complaint_id, action=action, error=exc, posted=request.POST)
    messages.success(request, message)
    return redirect("complaint-detail", complaint_id=complaint_id)

"""黑名单 in the web UI: the list, proposing an entry, proposing a removal."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backend.common.exceptions import ApplicationError
from backend.customers.blacklist import blacklist_add_request, blacklist_entries, blacklist_remove_request
from backend.customers.case_views import blacklist_entry_view
from backend.customers.models import BlacklistStatus, IdType
from backend.web.views.base import form_errors, page_view, paginate

FIELDS = ("id_type", "id_number", "name", "reason", "source")


def _page(request: HttpRequest, values: dict, exc: ApplicationError | None = None) -> HttpResponse:
    entries = blacklist_entries(user=request.user)
    status = request.GET.get("status", "")
    if status in BlacklistStatus.values:
        entries = entries.filter(status=status)
    page = paginate(request, entries)
    context = {
        "page": page,
        "rows": [blacklist_entry_view(e) for e in page.object_list],
        "values": values,
        "id_types": IdType.choices,
        "statuses": BlacklistStatus.choices,
        "status": status,
        **form_errors(exc, FIELDS),
    }
    return render(request, "web/blacklist.html", context, status=exc.status_code if exc else 200)


@page_view
def blacklist_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, {"id_type": IdType.RESIDENT_ID.value})
    values = {name: request.POST.get(name, "") for name in FIELDS}
    try:
        change = blacklist_add_request(actor=request.user, **values)
    except ApplicationError as exc:
        return _page(request, values, exc)
    messages.success(request, _("已提交加入黑名单申请(申请号 %(id)s),审核通过后生效") % {"id": change.pk})
    return redirect("blacklist")


@require_POST
@page_view
def blacklist_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    try:
        change = blacklist_remove_request(actor=request.user, entry_id=entry_id, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message or "; ".join(m for msgs in exc.field_errors.values() for m in msgs))
        return redirect("blacklist")
    messages.success(request, _("已提交移出黑名单申请(申请号 %(id)s),审核通过后生效") % {"id": change.pk})
    return redirect("blacklist")

"""我发起的: the cases I started, where each stands, with 撤回 and 撤销."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backend.common.exceptions import ApplicationError
from backend.web.views.base import page_view, paginate
from tasks.flow import case_cancel, case_withdraw, process_allows_cancel
from tasks.tabs import cases_started


@page_view
def my_cases(request: HttpRequest) -> HttpResponse:
    page = paginate(request, cases_started(user=request.user))
    rows = [
        {"case": c, "current": c.open_tasks, "can_cancel": c.status == "running" and process_allows_cancel(c.version.definition.key)}
        for c in page.object_list
    ]
    return render(request, "web/my_cases.html", {"page": page, "rows": rows})


def _refused(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    messages.error(request, exc.message or "; ".join(m for msgs in exc.field_errors.values() for m in msgs))
    return redirect("my-cases")


@require_POST
@page_view
def withdraw(request: HttpRequest, instance_id: int) -> HttpResponse:
    try:
        result = case_withdraw(actor=request.user, instance_id=instance_id, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        return _refused(request, exc)
    if result["task_id"]:
        messages.success(request, _("已撤回,任务回到您的待办"))
        return redirect("task-detail", task_id=result["task_id"])
    messages.success(request, _("已撤回,业务已终止"))
    return redirect("my-cases")


@require_POST
@page_view
def cancel(request: HttpRequest, instance_id: int) -> HttpResponse:
    try:
        case_cancel(actor=request.user, instance_id=instance_id, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        return _refused(request, exc)
    messages.success(request, _("业务已撤销"))
    return redirect("my-cases")

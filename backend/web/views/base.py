"""Shared plumbing for the web views: error pages, form error context, pagination, redirects.

Views stay thin: they shape request input, call ONE service or selector for the action and
render. Every ApplicationError becomes a page with its message and status code; anything a
user types or uploads must never produce a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from backend.common.exceptions import ApplicationError, ValidationFailed
from backend.common.pagination import KnownCountPaginator
from pdfs.responses import pdf_response

PAGE_SIZE = 20


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_page(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    titles = {403: _("无权操作"), 404: _("未找到"), 409: _("操作冲突")}
    return render(
        request,
        "web/error.html",
        {"error_title": titles.get(exc.status_code, _("操作失败")), "error_message": exc.message or _("请求无效"), "error": exc},
        status=exc.status_code,
    )


def page_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """login_required + any ApplicationError not handled by the view → an error page with its
    status (a selector's NotFound → 404)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            return error_page(request, exc)

    return login_required(wrapper)


def form_errors(exc: ApplicationError | None, field_names: Iterable[str]) -> dict[str, Any]:
    """Template context for a form re-rendered after a service error: messages per field,
    the top message, and field messages that belong to no visible field."""
    if exc is None:
        return {"errors": {}, "error_message": "", "other_errors": []}
    names = set(field_names)
    errors = {k: v for k, v in exc.field_errors.items() if k in names}
    other = [m for k, v in exc.field_errors.items() if k not in names for m in v]
    message = exc.message or (_("提交的内容有误,请按提示修改后重新提交") if exc.field_errors else _("操作失败"))
    return {"errors": errors, "error_message": message, "other_errors": other, "error_status": exc.status_code}


def paginate(request: HttpRequest, items, per_page: int = PAGE_SIZE, known_count: int | None = None) -> Page:
    """A page of `items`; `known_count`: their number, already counted in this request."""
    if known_count is not None:
        return KnownCountPaginator(items, per_page, known_count=known_count).get_page(request.GET.get("page"))
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def safe_next(request: HttpRequest, default: str) -> str:
    """The posted `next` page if it is a path on this site, else `default`. Only paths: redirect()
    would take a bare word such as "null" for a URL name and fail with a 500."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def printed_pdf(
    request: HttpRequest, print_call: Callable[..., Any], *, filename: str, reprint: bool = False
) -> HttpResponse:
    """Print a form. Printing writes (a numbered print record, an audit event), so only a POST
    (with its CSRF token) prints: the first print is the original, a later one a copy that needs
    a reason. A GET only shows the print form; the …/reprint/ route always asks for a reason."""

    def form(status: int, *, message: str = "", errors: list[str] | None = None, copy_number=None):
        context = {
            "message": message,
            "errors": errors or [],
            "copy_number": copy_number,
            "reason": request.POST.get("reason", ""),
            "reprint": reprint or copy_number is not None,
            "action": request.get_full_path(),
        }
        return render(request, "web/reprint_reason.html", context, status=status)

    if request.method == "GET":
        return form(200)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    reason = request.POST.get("reason", "")
    if reprint and not reason.strip():
        return form(400, message=_("重新打印为副本，请填写重印原因。"), errors=[_("请填写重印原因。")])
    try:
        pdf, document = print_call(reason=reason)
    except ValidationFailed as exc:
        if exc.code != "reprint_reason_required":
            raise
        return form(
            400 if "reason" in request.POST else 200,
            message=exc.message,
            errors=exc.field_errors.get("reason", []) if "reason" in request.POST else [],
            copy_number=exc.extra.get("copy_number"),
        )
    return pdf_response(pdf, filename=filename, document_id=document.id, copy_number=document.copy_number)

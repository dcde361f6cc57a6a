"""通知: the notification centre (newest first), marking notifications read, and the user's
e-mail preference (immediately / daily digest / none)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backend.common.exceptions import ApplicationError
from backend.web.views.base import form_errors, page_view, paginate, safe_next
from tasks.models import EmailDelivery
from tasks.notifications import (
    notification_list,
    notification_preference_get,
    notification_preference_set,
    notifications_mark_read,
)


@page_view
def notification_list_page(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    context = {"page": paginate(request, notification_list(user=request.user, unread_only=unread_only)), "unread_only": unread_only}
    return render(request, "web/notifications.html", context)


@require_POST
@page_view
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    marked = notifications_mark_read(user=request.user)
    messages.success(request, _("已全部标为已读") if marked else _("没有未读通知"))
    return redirect(safe_next(request, reverse("notifications")))


@require_POST
@page_view
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notifications_mark_read(user=request.user, notification_id=notification_id)
    return redirect(safe_next(request, reverse("notifications")))


@page_view
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """通知设置: how notifications reach the user by e-mail; the bell always has them."""
    error = None
    chosen = notification_preference_get(user=request.user)
    if request.method == "POST":
        chosen = request.POST.get("email", "")
        try:
            notification_preference_set(actor=request.user, email=chosen)
        except ApplicationError as exc:
            error = exc
        else:
            messages.success(request, _("通知设置已保存"))
            return redirect("notification-preferences")
    context = {"choices": EmailDelivery.choices, "chosen": chosen, **form_errors(error, ["email"])}
    return render(request, "web/notification_preferences.html", context, status=error.status_code if error else 200)

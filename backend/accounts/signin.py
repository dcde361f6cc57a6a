"""Sign-in events into the audit trail, and the answer to a locked-out sign-in.

Every event of a known user goes to that user's stream (`auth.user:<id>`); attempts naming no
existing user go to one `auth.signin:unknown` stream. The typed username is recorded (cut to
150 characters), never the password.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Any

from axes.helpers import get_client_ip_address, get_cool_off
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record

UNKNOWN_STREAM = ("auth.signin", "unknown")


def client_ip(request: HttpRequest) -> str:
    """`AXES_CLIENT_IP_CALLABLE`: the address sign-in attempts are counted against.

    REMOTE_ADDR; behind `REST_FRAMEWORK["NUM_PROXIES"]` reverse proxies, each appending the
    address it saw to X-Forwarded-For, the entry that many places from the right (anything
    further left was sent by the client and is not trusted). A missing, short or malformed
    header falls back to REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            try:
                return str(ipaddress.ip_address(hops[-proxies]))
            except ValueError:
                pass
    return remote


def _client(request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        return {}
    return {"ip": get_client_ip_address(request) or "", "path": getattr(request, "path", "")[:200]}


def signin_event_record(*, action: str, request: HttpRequest | None, user: Any = None, username: str = "") -> None:
    """One audit event for a sign-in, sign-in failure, lockout or sign-out."""
    username = str(username or "")[:150]
    if user is None and username:
        user = get_user_model().objects.filter(username=username).first()
    data = {"username": username or (user.get_username() if user is not None else ""), **_client(request)}
    with transaction.atomic():
        if user is not None:
            audit_event_record(actor=user if action in {"auth.signed_in", "auth.signed_out"} else None, action=action, object_type="auth.user", object_id=user.pk, data=data)
        else:
            audit_event_record(actor=None, action=action, object_type=UNKNOWN_STREAM[0], object_id=UNKNOWN_STREAM[1], data=data)


def on_signed_in(sender, request=None, user=None, **kwargs) -> None:
    signin_event_record(action="auth.signed_in", request=request, user=user)


def on_sign_in_failed(sender, credentials=None, request=None, **kwargs) -> None:
    signin_event_record(action="auth.sign_in_failed", request=request, username=(credentials or {}).get("username", ""))


def on_signed_out(sender, request=None, user=None, **kwargs) -> None:
    if user is not None:
        signin_event_record(action="auth.signed_out", request=request, user=user)


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    signin_event_record(action="auth.locked_out", request=request, username=username or "")


def lockout_seconds(request: HttpRequest) -> int | None:
    cool_off = get_cool_off(request)
    return math.ceil(cool_off.total_seconds()) if cool_off else None


def lockout_message(request: HttpRequest) -> str:
    seconds = lockout_seconds(request)
    if seconds is None:
        return _("登录失败次数过多，账户或地址已被锁定，请联系管理员解锁。")
    return _("登录失败次数过多，账户或地址已被暂时锁定，请%(minutes)s分钟后再试。") % {"minutes": max(1, math.ceil(seconds / 60))}


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None) -> HttpResponse:
    """`AXES_LOCKOUT_CALLABLE`: 429 with `Retry-After`. The API gets a JSON body; a page (the
    sign-in form, which shows the lockout message itself) is kept as it was rendered."""
    seconds = lockout_seconds(request)
    if request.path.startswith("/api/") or original_response is None:
        body: dict[str, Any] = {"detail": lockout_message(request), "code": "locked_out"}
        if seconds is not None:
            body["retry_after"] = seconds
        response: HttpResponse = JsonResponse(body, status=429, json_dumps_params={"ensure_ascii": False})
    else:
        response = original_response
        response.status_code = 429
    if seconds is not None:
        response["Retry-After"] = str(seconds)
    return response

"""查看完整信息: revealing one masked personal field of a customer, with a reason.

Every reveal is a `RevealEvent` row plus an audit event, written in one transaction; the rows
also count against a per-user rate limit. Compliance reads the events back, level-scoped by
the org unit of the customer at the time of the reveal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Forbidden, TooManyRequests, ValidationFailed
from backend.customers.lookups import LOOKUP_FIELDS
from backend.customers.models import Customer, RevealEvent, RevealEventKind
from backend.customers.selectors import PERSONAL_FIELDS
from backend.organisation.models import Role
from backend.organisation.selectors import scope_filter, user_has_role, user_role_assignments
from forms.validation import control_character_fields

REASON_MIN = 4
REASON_MAX = 500


def user_may_reveal(user, customer: Customer) -> bool:
    """A reveal role held at the customer's org unit or one of its ancestors."""
    roles = set(settings.CUSTFLOW["REVEAL_ROLES"])
    return any(
        ra.role in roles and customer.org_unit.path.startswith(ra.org_unit.path)
        for ra in user_role_assignments(user)
    )


def _reveal_reason_clean(reason: Any) -> str:
    text = str(reason or "").strip() if isinstance(reason, str | type(None)) else ""
    if not text:
        raise ValidationFailed.field("reason", _("请填写查看原因"), code="reason_required")
    if control_character_fields(text):
        raise ValidationFailed.field("reason", _("查看原因不能包含控制字符"), code="invalid_reason")
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise ValidationFailed.field(
            "reason",
            _("查看原因应为 %(min)d 至 %(max)d 个字符") % {"min": REASON_MIN, "max": REASON_MAX},
            code="invalid_reason",
        )
    return text


def _rate_limit_check(user, now: datetime) -> None:
    limit = settings.CUSTFLOW["REVEAL_RATE_LIMIT"]
    window = timedelta(minutes=int(limit["minutes"]))
    recent = list(
        RevealEvent.objects.filter(kind=RevealEventKind.REVEAL, user=user, created_at__gt=now - window)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: int(limit["count"])]
    )
    if len(recent) < int(limit["count"]):
        return
    # The oldest of the last `count` reveals leaves the window first.
    retry_at = timezone.localtime(recent[-1] + window)
    raise TooManyRequests(
        _("查看完整信息过于频繁:每 %(minutes)d 分钟最多 %(count)d 次,请于 %(at)s 后再试")
        % {
            "minutes": int(limit["minutes"]),
            "count": int(limit["count"]),
            "at": retry_at.strftime("%Y-%m-%d %H:%M"),
        },
        code="reveal_rate_limited",
        extra={"retry_at": retry_at.isoformat()},
    )


def customer_field_reveal(*, actor, customer: Customer, field: Any, reason: Any) -> str:
    """Reveal one personal field of a customer the actor can see (the caller resolves
    visibility: out of scope is a 404 before this runs). Returns the full value."""
    if not user_may_reveal(actor, customer):
        raise Forbidden(_("您的角色无权查看该客户的完整信息"), code="reveal_not_allowed")
    if not isinstance(field, str) or field not in PERSONAL_FIELDS:
        raise ValidationFailed.field(
            "field",
            _("只能查看以下字段的完整信息: %(fields)s") % {"fields": ", ".join(PERSONAL_FIELDS)},
            code="invalid_field",
        )
    text = _reveal_reason_clean(reason)
    with transaction.atomic():
        # One reveal decision per user at a time: the count below cannot be raced past.
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        now = timezone.now()
        _rate_limit_check(actor, now)
        event = RevealEvent.objects.create(
            user=actor,
            customer=customer,
            field=field,
            reason=text,
            org_unit=customer.org_unit,
            created_at=now,
        )
        audit_event_record(
            actor=actor,
            action="customer.field_revealed",
            obj=customer,
            org_unit=customer.org_unit,
            data={"field": field, "reason": text, "reveal_event": event.pk},
        )
    return getattr(customer, field) or ""


# ---- compliance: the reveal log ----------------------------------------------------------------


@dataclass
class RevealFilters:
    kind: str = RevealEventKind.REVEAL
    user: str = ""
    value_hash: str = ""
    customer: int | None = None
    field: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _date_clean(name: str, raw: Any) -> date | None:
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed.field(name, _("日期格式应为 YYYY-MM-DD"), code="invalid_date") from None


def reveal_filters_clean(params: dict[str, Any]) -> RevealFilters:
    """The listing's filters from query parameters; bad values are 400 field errors."""
    out = RevealFilters()
    # Without `kind` the listing is what it always was: the reveals.
    kind = str(params.get("kind") or "").strip()
    if kind and kind not in RevealEventKind.values:
        raise ValidationFailed.field(
            "kind", _("记录类型无效,可选: %(kinds)s") % {"kinds": ", ".join(RevealEventKind.values)}, code="invalid"
        )
    out.kind = kind or RevealEventKind.REVEAL
    out.user = str(params.get("user") or "").strip()
    if control_character_fields(out.user):
        raise ValidationFailed.field("user", _("不能包含控制字符"), code="invalid")
    customer = str(params.get("customer") or "").strip()
    if customer:
        if not customer.isascii() or not customer.isdigit() or len(customer) > 18:
            raise ValidationFailed.field("customer", _("客户号应为数字"), code="invalid")
        out.customer = int(customer)
    out.field = str(params.get("field") or "").strip()
    if out.kind == RevealEventKind.LOOKUP:
        if out.field and out.field not in LOOKUP_FIELDS:
            raise ValidationFailed.field(
                "field",
                _("查询字段无效,可选: %(fields)s") % {"fields": ", ".join(LOOKUP_FIELDS)},
                code="invalid_field",
            )
    elif out.kind == RevealEventKind.SCAN:
        if out.field and out.field != "scan":
            raise ValidationFailed.field("field", _("扫描件查看记录的字段只能是 scan"), code="invalid_field")
    elif out.field and out.field not in PERSONAL_FIELDS:
        raise ValidationFailed.field(
            "field",
            _("只能查看以下字段的完整信息: %(fields)s") % {"fields": ", ".join(PERSONAL_FIELDS)},
            code="invalid_field",
        )
    out.value_hash = str(params.get("value_hash") or "").strip().lower()
    if out.value_hash and not re.fullmatch(r"[0-9a-f]{64}", out.value_hash):
        raise ValidationFailed.field("value_hash", _("应为 64 位十六进制摘要"), code="invalid")
    out.date_from = _date_clean("date_from", params.get("date_from"))
    out.date_to = _date_clean("date_to", params.get("date_to"))
    if out.date_from and out.date_to and out.date_from > out.date_to:
        raise ValidationFailed.field("date_to", _("结束日期不能早于开始日期"), code="invalid_date")
    return out


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def reveal_event_list(*, user, params: Mapping[str, Any]) -> QuerySet[RevealEvent]:
    """合规: the reveal log of the user's org subtrees (by the event's org unit), newest first,
    filtered by `params` (kind — reveal (default), lookup or scan —, user, customer, field,
    value_hash, date_from, date_to). Compliance role only."""
    if not user_has_role(user, Role.COMPLIANCE):
        raise Forbidden(_("只有合规岗可以查看敏感信息查看记录"), code="compliance_only")
    filters = reveal_filters_clean(params)
    qs = scope_filter(RevealEvent.objects.select_related("user", "customer", "org_unit"), user)
    qs = qs.filter(kind=filters.kind)
    if filters.user:
        qs = qs.filter(user__username=filters.user)
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.field:
        qs = qs.filter(field=filters.field)
    if filters.value_hash:
        qs = qs.filter(value_hash=filters.value_hash)
    # Dates are Asia/Shanghai calendar days.
    if filters.date_from:
        qs = qs.filter(created_at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_local_midnight(filters.date_to + timedelta(days=1)))
    return qs.order_by("-created_at", "-id")


def reveal_event_row(event: RevealEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "user": event.user.username,
        "user_name": event.user.get_full_name() or event.user.username,
        "customer_id": event.customer_id,
        "customer_name": event.customer.name if event.customer_id else "",
        "field": event.field,
        "reason": event.reason,
        # Look-ups: how many customers the search returned and the keyed hash of the value
        # (never the value); both null for reveals.
        "result_count": event.result_count,
        "value_hash": event.value_hash or None,
        "org_unit": event.org_unit.name,
        "created_at": timezone.localtime(event.created_at).isoformat(),
    }

"""联系记录: the file's dynamic part (seed 002 客户档案动态要素; seed 004 呼叫中心).

Every contact with a customer — a call, a visit, a letter, a message, a complaint or a claim
report — is recorded under the one customer, so whoever picks up the next call sees what was
said before. A contact is recorded once and never edited (append-only, like the audit trail).

Who may record: any user who sees the customer (their scope: the customer's unit or above) and
holds one of the service roles there (`CONTACT_RECORDER_ROLES`: collector, officer, reviewer,
complaint handler, customer service). Compliance and process owners read the file but do not
talk to customers: 403. A customer out of scope is the same 404 as a missing id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Forbidden, ValidationFailed
from backend.customers.models import ContactChannel, ContactKind, Customer, CustomerContact
from backend.customers.selectors import customer_get_visible
from backend.organisation.models import Role
from backend.organisation.selectors import user_role_assignments
from forms.validation import control_character_fields

CONTACT_RECORDER_ROLES = (
    Role.COLLECTOR,
    Role.OFFICER,
    Role.REVIEWER,
    Role.COMPLAINT_HANDLER,
    Role.CUSTOMER_SERVICE,
    Role.HOTLINE_AGENT,
)
CONTACT_FIELDS = ("kind", "channel", "summary", "outcome", "next_step_at")
SUMMARY_MAX = 2000
OUTCOME_MAX = 500
# A follow-up further ahead than this is a typing slip (year 2962), not a plan.
NEXT_STEP_MAX_DAYS = 3 * 366


def user_may_record_contact(user, customer: Customer) -> bool:
    """A service role held at the customer's unit or one of its ancestors."""
    path = customer.org_unit.path
    return any(
        ra.role in CONTACT_RECORDER_ROLES and path.startswith(ra.org_unit.path) for ra in user_role_assignments(user)
    )


def _text(data: Any, name: str) -> Any:
    value = data.get(name, "") if hasattr(data, "get") else ""
    return "" if value is None else value


def _next_step_clean(raw: str, now: datetime) -> datetime | None:
    if not raw:
        return None
    try:
        value = parse_datetime(raw.strip().replace(" ", "T", 1)) if len(raw) <= 40 else None
    except ValueError:  # well formed, but no such day (2026-02-30)
        value = None
    if value is None:
        raise ValidationFailed.field(
            "next_step_at", _("下次跟进时间格式应为 YYYY-MM-DD HH:MM"), code="invalid_datetime"
        )
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value <= now:
        raise ValidationFailed.field("next_step_at", _("下次跟进时间必须晚于现在"), code="next_step_past")
    if value > now + timedelta(days=NEXT_STEP_MAX_DAYS):
        raise ValidationFailed.field("next_step_at", _("下次跟进时间不能晚于三年以后"), code="next_step_too_far")
    return value


def customer_contact_clean(data: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """The contact's fields checked one by one; every problem at once, keyed by field (400)."""
    now = now or timezone.now()
    raw = {name: _text(data, name) for name in CONTACT_FIELDS}
    errors: dict[str, list[str]] = {}
    for name, value in raw.items():
        if not isinstance(value, str):
            errors[name] = [_("应为文本")]
        elif control_character_fields(value):
            errors[name] = [_("不能包含控制字符")]
    values: dict[str, Any] = {}
    if "kind" not in errors:
        if raw["kind"] not in ContactKind.values:
            errors["kind"] = [_("请选择联系类型") if not raw["kind"] else _("未知的联系类型")]
        values["kind"] = raw["kind"]
    if "channel" not in errors:
        if raw["channel"] not in ContactChannel.values:
            errors["channel"] = [_("请选择渠道") if not raw["channel"] else _("未知的渠道")]
        values["channel"] = raw["channel"]
    if "summary" not in errors:
        summary = raw["summary"].strip()
        if not summary:
            errors["summary"] = [_("请填写联系要点")]
        elif len(summary) > SUMMARY_MAX:
            errors["summary"] = [_("联系要点不能超过 %(n)s 个字") % {"n": SUMMARY_MAX}]
        values["summary"] = summary
    if "outcome" not in errors:
        outcome = raw["outcome"].strip()
        if len(outcome) > OUTCOME_MAX:
            errors["outcome"] = [_("结果不能超过 %(n)s 个字") % {"n": OUTCOME_MAX}]
        values["outcome"] = outcome
    if "next_step_at" not in errors:
        try:
            values["next_step_at"] = _next_step_clean(raw["next_step_at"], now)
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_contact")
    return values


@transaction.atomic
def customer_contact_record(*, actor, customer_id: Any, data: Any) -> CustomerContact:
    """Record one contact with the customer, audited in the same transaction."""
    customer = customer_get_visible(user=actor, customer_id=customer_id)  # out of scope: 404
    if not user_may_record_contact(actor, customer):
        raise Forbidden(_("您的角色不能登记联系记录"), code="contact_not_allowed")
    values = customer_contact_clean(data)
    contact = CustomerContact.objects.create(
        customer=customer, recorded_by=actor, org_unit=customer.org_unit, **values
    )
    audit_event_record(
        actor=actor,
        action="customer.contact_recorded",
        obj=customer,
        org_unit=customer.org_unit,
        # What happened, not what was said: the summary may hold personal details.
        data={"contact_id": contact.pk, "kind": contact.kind, "channel": contact.channel},
    )
    return contact


def customer_contact_list(*, customer: Customer) -> QuerySet[CustomerContact]:
    """The customer's contacts, newest first (the caller has checked the customer's scope)."""
    return (
        CustomerContact.objects.filter(customer=customer)
        .select_related("recorded_by")
        .order_by("-created_at", "-id")
    )


def customer_contact_row(contact: CustomerContact) -> dict[str, Any]:
    by = contact.recorded_by
    return {
        "id": contact.pk,
        "kind": contact.kind,
        "kind_label": contact.get_kind_display(),
        "channel": contact.channel,
        "channel_label": contact.get_channel_display(),
        "summary": contact.summary,
        "outcome": contact.outcome,
        "next_step_at": timezone.localtime(contact.next_step_at).isoformat() if contact.next_step_at else None,
        "recorded_by": by.username,
        "recorded_by_name": by.get_full_name() or by.username,
        "created_at": timezone.localtime(contact.created_at).isoformat(),
    }

"""客户档案静态要素: occupation, employer, income band, family members and contact preferences
(seed 002). All optional; employer, family_members and income_band are personal data under the
privacy policy (backend/organisation/privacy.py).

They change through this service, not through the amendment process: they are not identity or
contact data (nothing is opened, checked or printed from them), and the seed asks for a file kept
up to date at every visit, so a collector or officer in scope updates them directly. Each change
keeps its history row (who, when, old, new, why) and one audit event, in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Conflict, Forbidden, ValidationFailed
from backend.customers.models import Customer, CustomerFieldChange, CustomerStatus, IncomeBand
from backend.customers.selectors import customer_get_visible
from backend.organisation.models import Role
from backend.organisation.selectors import user_role_assignments
from forms.validation import control_character_fields

PROFILE_CASE = "customers.profile"
PROFILE_EDITOR_ROLES = (Role.COLLECTOR, Role.OFFICER)
# field -> longest text (income_band: one of IncomeBand, or empty).
PROFILE_FIELDS: dict[str, int] = {
    "occupation": 100,
    "employer": 200,
    "income_band": 8,
    "family_members": 500,
    "preferences": 300,
}
CLOSED_STATUSES = (CustomerStatus.REJECTED, CustomerStatus.WITHDRAWN)


def user_may_edit_profile(user, customer: Customer) -> bool:
    path = customer.org_unit.path
    return any(ra.role in PROFILE_EDITOR_ROLES and path.startswith(ra.org_unit.path) for ra in user_role_assignments(user))


def customer_profile_clean(data: Any) -> dict[str, str]:
    """The profile fields given in `data` (others untouched), each checked; 400 per field."""
    given = {k: data.get(k) for k in PROFILE_FIELDS if hasattr(data, "get") and k in data}
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for name, value in given.items():
        value = "" if value is None else value
        if not isinstance(value, str):
            errors[name] = [_("应为文本")]
            continue
        if control_character_fields(value):
            errors[name] = [_("不能包含控制字符")]
            continue
        value = value.strip()
        if name == "income_band":
            if value and value not in IncomeBand.values:
                errors[name] = [_("请选择年收入区间")]
                continue
        elif len(value) > PROFILE_FIELDS[name]:
            errors[name] = [_("不能超过 %(n)s 个字") % {"n": PROFILE_FIELDS[name]}]
            continue
        values[name] = value
    reason = data.get("reason", "") if hasattr(data, "get") else ""
    if not isinstance(reason, str) or len(reason) > 500 or control_character_fields(reason):
        errors["reason"] = [_("原因应为不超过 500 字的文本")]
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_profile")
    return values


@transaction.atomic
def customer_profile_update(*, actor, customer_id: Any, data: Any) -> Customer:
    """Change the given profile fields; a history row per changed field and one audit event."""
    customer = customer_get_visible(user=actor, customer_id=customer_id)  # out of scope: 404
    if not user_may_edit_profile(actor, customer):
        raise Forbidden(_("只有采集人或客户信息管理岗可以修改客户档案"), code="profile_not_allowed")
    values = customer_profile_clean(data)
    customer = Customer.objects.select_for_update(of=("self",)).select_related("org_unit").get(pk=customer.pk)
    if customer.status in CLOSED_STATUSES:
        raise Conflict(
            _("客户当前状态为「%(status)s」,不能修改") % {"status": customer.get_status_display()},
            code="customer_not_active",
        )
    changes = {k: v for k, v in values.items() if getattr(customer, k) != v}
    if not changes:
        raise ValidationFailed(
            _("没有任何修改:请至少修改一项信息"),
            field_errors={"non_field_errors": [_("没有任何修改:请至少修改一项信息")]},
            code="no_changes",
        )
    now = timezone.now()
    reason = str(data.get("reason") or "").strip()
    rows = [
        CustomerFieldChange(
            customer=customer, field=name, old_value=getattr(customer, name), new_value=value,
            reason=reason, changed_by=actor, changed_at=now, case_type=PROFILE_CASE,
        )
        for name, value in changes.items()
    ]
    for name, value in changes.items():
        setattr(customer, name, value)
    # A literal list: the write-path audit (tests/customers/write_paths.py) reads it and sees that no
    # identity or contact field (what checks A, B, D and the blacklist guard) is written here.
    customer.save(
        update_fields=["occupation", "employer", "income_band", "family_members", "preferences", "updated_at"]
    )
    CustomerFieldChange.objects.bulk_create(rows)
    audit_event_record(
        actor=actor,
        action="customer.profile_updated",
        obj=customer,
        org_unit=customer.org_unit,
        data={"fields": sorted(changes)},  # names only: the values are personal
    )
    return customer

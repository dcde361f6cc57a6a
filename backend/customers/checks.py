"""Checks A–D of seed 003 §1.1.1, shared by live openings, corrections and (later) imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from backend.common.exceptions import InvalidValue
from backend.customers.models import HOLDING_STATUSES, Customer, IdType, InfoLevel
from backend.customers.validators import normalize_phone, validate_email_address, validate_id_number
from backend.organisation.models import SalesAgent
from forms.validation import control_character_fields


@dataclass
class CleanedIdentity:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(str(message))


def identity_clean(data: dict, *, info_level: str) -> CleanedIdentity:
    """Check B plus field rules: every field is checked and every problem is reported."""
    out = CleanedIdentity()
    for name in ("name", "id_type", "id_number", "phone", "address", "email"):
        if control_character_fields(data.get(name)):
            out.add_error(name, _("不能包含控制字符"))
    if out.errors:
        return out
    name = str(data.get("name") or "").strip()
    if not name:
        out.add_error("name", _("请填写姓名"))
    elif len(name) > 100:
        out.add_error("name", _("姓名不能超过 100 个字符"))
    out.values["name"] = name

    id_type = str(data.get("id_type") or "").strip()
    raw_number = str(data.get("id_number") or "")
    if id_type not in IdType.values:
        out.add_error("id_type", _("证件类型无效,可选: %(choices)s") % {"choices": ", ".join(IdType.values)})
    elif not raw_number.strip():
        out.add_error("id_number", _("请填写证件号码"))
    else:
        try:
            info = validate_id_number(id_type, raw_number)
            out.values.update(id_type=id_type, id_number=info.normalized, birth_date=info.birth_date, gender=info.gender or "")
        except InvalidValue as exc:
            out.add_error("id_number", exc.message)

    phone = str(data.get("phone") or "").strip()
    if phone:
        try:
            out.values["phone"] = normalize_phone(phone)
        except InvalidValue as exc:
            out.add_error("phone", exc.message)
    elif info_level == InfoLevel.ADVANCED:
        out.add_error("phone", _("高级程度开户必须填写联系电话"))
    else:
        out.values["phone"] = ""

    address = str(data.get("address") or "").strip()
    if len(address) > 300:
        out.add_error("address", _("通讯地址不能超过 300 个字符"))
    out.values["address"] = address

    email = str(data.get("email") or "").strip()
    if email:
        try:
            out.values["email"] = validate_email_address(email)
        except InvalidValue as exc:
            out.add_error("email", exc.message)
    else:
        out.values["email"] = ""
    return out


def duplicate_customer(id_type: str, id_number: str, *, exclude_id: int | None = None) -> Customer | None:
    """Check A: the (id type, id number) pair already belongs to a customer."""
    qs = Customer.objects.filter(id_type=id_type, id_number=id_number, status__in=HOLDING_STATUSES)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.order_by("id").first()


def shared_phone(phone: str, *, exclude_id: int | None = None) -> dict[str, list]:
    """Check D: other customers or registered sales agents holding the same phone."""
    if not phone:
        return {"customer_ids": [], "agent_codes": []}
    customers = Customer.objects.filter(phone=phone, status__in=HOLDING_STATUSES)
    if exclude_id is not None:
        customers = customers.exclude(pk=exclude_id)
    return {
        "customer_ids": list(customers.order_by("id").values_list("id", flat=True)[:50]),
        "agent_codes": list(SalesAgent.objects.filter(phone=phone, active=True).order_by("agent_code").values_list("agent_code", flat=True)),
    }


def flags_for(shared: dict[str, list]) -> list[str]:
    flags = []
    if shared["customer_ids"] or shared["agent_codes"]:
        flags.append("shared_phone")
    if shared["agent_codes"]:
        flags.append("agent_phone")
    return flags

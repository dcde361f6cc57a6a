"""Checks A–D of an opening (docs/DOMAIN.md), shared by live openings, corrections and (later) imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from backend.common.exceptions import InvalidValue
from backend.customers.models import (
    CORPORATE_ID_TYPES,
    HOLDING_STATUSES,
    INDIVIDUAL_ID_TYPES,
    BlacklistEntry,
    BlacklistStatus,
    Customer,
    InfoLevel,
)
from backend.customers.validators import (
    RESIDENT_ID,
    normalize_phone,
    validate_email_address,
    validate_id_number,
    validate_id_valid_until,
)
from backend.organisation.models import SalesAgent
from forms.validation import control_character_fields


@dataclass
class CleanedIdentity:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(str(message))


def _refuse_control_characters(data: dict, names: tuple[str, ...]) -> CleanedIdentity:
    out = CleanedIdentity()
    for name in names:
        if control_character_fields(data.get(name)):
            out.add_error(name, _("不能包含控制字符"))
    return out


def _clean_contact(data: dict, out: CleanedIdentity, *, phone_required: bool) -> None:
    phone = str(data.get("phone") or "").strip()
    if phone:
        try:
            out.values["phone"] = normalize_phone(phone)
        except InvalidValue as exc:
            out.add_error("phone", exc.message)
    elif phone_required:
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


INDIVIDUAL_FIELDS = ("name", "id_type", "id_number", "phone", "address", "email", "id_valid_until")
CORPORATE_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "legal_rep_name",
    "legal_rep_id_type",
    "legal_rep_id_number",
    "address",
    "contact_person",
    "phone",
    "email",
)


def corporate_clean(data: dict, *, info_level: str) -> CleanedIdentity:
    """Field rules of a corporate customer (法人客户): the USCC or organisation code with its
    check character, the legal representative's id by its type's rules, contact data.
    Advanced level needs the representative, registered address, contact person and phone."""
    out = _refuse_control_characters(data, CORPORATE_FIELDS)
    if out.errors:
        return out
    advanced = info_level == InfoLevel.ADVANCED
    name = str(data.get("name") or "").strip()
    if not name:
        out.add_error("name", _("请填写单位名称"))
    elif len(name) > 100:
        out.add_error("name", _("单位名称不能超过 100 个字符"))
    out.values["name"] = name

    id_type = str(data.get("id_type") or "").strip()
    raw_number = str(data.get("id_number") or "")
    if id_type not in CORPORATE_ID_TYPES:
        out.add_error("id_type", _("法人客户的证件类型应为统一社会信用代码(uscc)或组织机构代码(org_code)"))
    elif not raw_number.strip():
        out.add_error("id_number", _("请填写统一社会信用代码或组织机构代码"))
    else:
        try:
            out.values.update(
                id_type=id_type,
                id_number=validate_id_number(id_type, raw_number).normalized,
                birth_date=None,
                gender="",
            )
        except InvalidValue as exc:
            out.add_error("id_number", exc.message)

    rep_name = str(data.get("legal_rep_name") or "").strip()
    rep_type = str(data.get("legal_rep_id_type") or "").strip()
    rep_number = str(data.get("legal_rep_id_number") or "")
    if len(rep_name) > 100:
        out.add_error("legal_rep_name", _("法定代表人姓名不能超过 100 个字符"))
    elif not rep_name and (advanced or rep_number.strip()):
        out.add_error("legal_rep_name", _("请填写法定代表人姓名"))
    out.values["legal_rep_name"] = rep_name
    if rep_number.strip() or advanced:
        if rep_type not in INDIVIDUAL_ID_TYPES:
            out.add_error(
                "legal_rep_id_type",
                _("法定代表人证件类型无效,可选: %(choices)s") % {"choices": ", ".join(INDIVIDUAL_ID_TYPES)},
            )
        elif not rep_number.strip():
            out.add_error("legal_rep_id_number", _("请填写法定代表人证件号码"))
        else:
            try:
                out.values["legal_rep_id_number"] = validate_id_number(rep_type, rep_number).normalized
                out.values["legal_rep_id_type"] = rep_type
            except InvalidValue as exc:
                out.add_error("legal_rep_id_number", exc.message)
    else:
        out.values.update(legal_rep_id_type="", legal_rep_id_number="")

    contact = str(data.get("contact_person") or "").strip()
    if len(contact) > 100:
        out.add_error("contact_person", _("联系人姓名不能超过 100 个字符"))
    elif advanced and not contact:
        out.add_error("contact_person", _("高级程度开户必须填写联系人"))
    out.values["contact_person"] = contact
    if advanced and not str(data.get("address") or "").strip():
        out.add_error("address", _("高级程度开户必须填写注册地址"))
    _clean_contact(data, out, phone_required=advanced)
    return out


def customer_clean(data: dict, *, customer_type: str, info_level: str) -> CleanedIdentity:
    if customer_type == "corporate":
        return corporate_clean(data, info_level=info_level)
    return identity_clean(data, info_level=info_level)


def identity_clean(data: dict, *, info_level: str) -> CleanedIdentity:
    """Check B plus field rules: every field is checked and every problem is reported."""
    out = _refuse_control_characters(data, INDIVIDUAL_FIELDS)
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
    if id_type not in INDIVIDUAL_ID_TYPES:
        out.add_error(
            "id_type", _("证件类型无效,可选: %(choices)s") % {"choices": ", ".join(INDIVIDUAL_ID_TYPES)}
        )
    elif not raw_number.strip():
        out.add_error("id_number", _("请填写证件号码"))
    else:
        try:
            info = validate_id_number(id_type, raw_number)
            out.values.update(
                id_type=id_type,
                id_number=info.normalized,
                birth_date=info.birth_date,
                gender=info.gender or "",
            )
        except InvalidValue as exc:
            out.add_error("id_number", exc.message)

    _clean_validity(data, out, required=info_level == InfoLevel.ADVANCED and id_type == RESIDENT_ID)
    _clean_contact(data, out, phone_required=info_level == InfoLevel.ADVANCED)
    return out


def _clean_validity(data: dict, out: CleanedIdentity, *, required: bool) -> None:
    """证件有效期 (issue 16 item 5): required for a resident id at the advanced level; a date
    not in the past and not before the birth date the id number carries, or 长期."""
    try:
        validity = validate_id_valid_until(data.get("id_valid_until"), birth_date=out.values.get("birth_date"))
    except InvalidValue as exc:
        out.add_error("id_valid_until", exc.message)
        return
    if required and not validity.recorded:
        out.add_error("id_valid_until", _("高级程度开户使用居民身份证时必须填写证件有效期（长期有效的填“长期”）。"))
        return
    out.values.update(id_valid_until=validity.until, id_valid_long_term=validity.long_term)


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
        "agent_codes": list(
            SalesAgent.objects.filter(phone=phone, active=True)
            .order_by("agent_code")
            .values_list("agent_code", flat=True)
        ),
    }


def flags_for(shared: dict[str, list]) -> list[str]:
    flags = []
    if shared["customer_ids"] or shared["agent_codes"]:
        flags.append("shared_phone")
    if shared["agent_codes"]:
        flags.append("agent_phone")
    return flags


def blacklist_hits(documents: list[tuple[str, str]]) -> list[BlacklistEntry]:
    """Active blacklist entries matching any of the (id type, id number) pairs given."""
    pairs = {(t, n) for t, n in documents if t and n}
    if not pairs:
        return []
    # One indexed IN on the number, the type matched here: an OR of many (type, number) pairs
    # costs the planner ~1 s per thousand pairs (imports check a thousand rows at once).
    entries = BlacklistEntry.objects.filter(id_number__in={n for _t, n in pairs}, status=BlacklistStatus.ACTIVE)
    return [e for e in entries.order_by("id") if (e.id_type, e.id_number) in pairs]


def customer_documents(values: dict) -> list[tuple[str, str]]:
    """The id documents a customer record names: its own and its legal representative's."""
    docs = [(str(values.get("id_type") or ""), str(values.get("id_number") or ""))]
    if values.get("legal_rep_id_number"):
        docs.append((str(values.get("legal_rep_id_type") or ""), str(values["legal_rep_id_number"])))
    return docs


# ---- the one entry point: checks A, D and the blacklist on any write of customer data ----------

# Every function that writes a customer's identity or contact data ("module:qualname"), and the
# step that runs `customer_checks_run(_many)` for it: the write itself, or the check step its
# case passed through before the write. tests/customers/test_write_paths_checked.py finds every
# write by reading the code and fails for a write missing here, for a check step that does not
# run the checks, and for a path without a scenario proving its flags through the API.
CUSTOMER_WRITE_PATHS: dict[str, str] = {
    "backend.customers.services:account_opening_submit": "backend.customers.services:opening_run_checks",
    "backend.customers.services:opening_resubmit": "backend.customers.services:opening_run_checks",
    # The officer's correction of a collector's submission: the diagram runs the checks again.
    "backend.customers.services:opening_officer_correct": "backend.customers.services:opening_run_checks",
    "backend.customers.amendments:amendment_apply": "backend.customers.amendments:amendment_run_checks",
    "backend.policies.services:endorsement_apply": "backend.policies.services:endorsement_run_checks",
    "backend.integrations.imports:_Chunk.run": "backend.integrations.imports:_Chunk.run",
    "backend.integrations.reviews:import_review_decide": "backend.integrations.reviews:import_review_decide",
}
# Writes that are not a path of their own, with the reason.
CUSTOMER_WRITE_EXEMPT: dict[str, str] = {
    # The apply core: reached only from the registered paths above (every caller of it is
    # itself found as a write and must be registered).
    "backend.customers.amendments:customer_changes_apply": "core of amendment_apply and endorsement_apply",
    # Fixed demo data written by an operator command, not user input.
    "backend.demo.management.commands.seed_demo:seed_demo_policies": "demo seed",
}

FLAG_ORDER = ("shared_phone", "agent_phone", "duplicate_id", "blacklist_hit")


@dataclass
class CheckSubject:
    """What is about to be written for one customer (or one named person, e.g. a beneficiary).

    `values` holds the new id_type/id_number (and legal_rep_* for corporates) and phone;
    `exclude_id` is the customer's own id (its current record does not count against it);
    `check_phone` runs check D (a phone being written); `check_duplicate` runs check A (a new
    id document being written to a customer record)."""

    values: dict[str, Any]
    exclude_id: int | None = None
    check_phone: bool = True
    check_duplicate: bool = True


@dataclass
class CheckResult:
    flags: list[str]
    checks: dict[str, Any]
    blacklist: list[BlacklistEntry] = field(default_factory=list)

    @property
    def blacklist_hit(self) -> bool:
        return bool(self.blacklist)


def _blacklist_view(entries: list[BlacklistEntry]) -> list[dict[str, Any]]:
    return [{"entry_id": e.pk, "id_type": e.id_type, "source": e.source, "reason": e.reason} for e in entries]


def customer_checks_run_many(subjects: list[CheckSubject]) -> list[CheckResult]:
    """Checks A (id already held), D (phone shared with another customer or a sales agent) and
    the active blacklist for every subject, with a fixed number of queries whatever the count
    (imports check a thousand rows at once). Every path that writes customer data calls this
    (or `customer_checks_run`); tests/customers/test_write_paths_checked.py proves it."""
    phones = {normalize_or_blank(s.values.get("phone")) for s in subjects if s.check_phone} - {""}
    holders: dict[str, list[int]] = {}
    agents: dict[str, list[str]] = {}
    if phones:
        for phone, pk in (
            Customer.objects.filter(phone__in=phones, status__in=HOLDING_STATUSES)
            .order_by("id")
            .values_list("phone", "id")
        ):
            holders.setdefault(phone, []).append(pk)
        for phone, code in (
            SalesAgent.objects.filter(phone__in=phones, active=True)
            .order_by("agent_code")
            .values_list("phone", "agent_code")
        ):
            agents.setdefault(phone, []).append(code)
    numbers = {str(s.values.get("id_number") or "") for s in subjects if s.check_duplicate} - {""}
    held: dict[tuple[str, str], list[int]] = {}
    if numbers:
        for id_type, number, pk in (
            Customer.objects.filter(id_number__in=numbers, status__in=HOLDING_STATUSES)
            .order_by("id")
            .values_list("id_type", "id_number", "id")
        ):
            held.setdefault((id_type, number), []).append(pk)
    entries = blacklist_hits([doc for s in subjects for doc in customer_documents(s.values)])
    listed: dict[tuple[str, str], list[BlacklistEntry]] = {}
    for entry in entries:
        listed.setdefault((entry.id_type, entry.id_number), []).append(entry)

    results = []
    for subject in subjects:
        values = subject.values
        flags: set[str] = set()
        checks: dict[str, Any] = {}
        if subject.check_duplicate:
            key = (str(values.get("id_type") or ""), str(values.get("id_number") or ""))
            others = [pk for pk in held.get(key, []) if pk != subject.exclude_id]
            checks["A"] = {"passed": not others, "duplicate_customer_id": others[0] if others else None}
            if others:
                flags.add("duplicate_id")
        if subject.check_phone:
            phone = normalize_or_blank(values.get("phone"))
            shared = {
                "customer_ids": [pk for pk in holders.get(phone, []) if pk != subject.exclude_id][:50],
                "agent_codes": agents.get(phone, []),
            }
            flags.update(flags_for(shared))
            checks["D"] = {"passed": not flags_for(shared), "shared_with": shared}
        hits = [e for doc in dict.fromkeys(customer_documents(values)) for e in listed.get(doc, [])]
        checks["blacklist"] = _blacklist_view(hits)
        if hits:
            flags.add("blacklist_hit")
        results.append(CheckResult(flags=[f for f in FLAG_ORDER if f in flags], checks=checks, blacklist=hits))
    return results


def customer_checks_run(subject: CheckSubject) -> CheckResult:
    return customer_checks_run_many([subject])[0]


def flags_merge(*flag_lists: list[str]) -> list[str]:
    present = {f for flags in flag_lists for f in flags}
    return [f for f in FLAG_ORDER if f in present]


def normalize_or_blank(raw: Any) -> str:
    text = str(raw or "").strip()
    if not text:
        return ""
    try:
        return normalize_phone(text)
    except InvalidValue:
        return text

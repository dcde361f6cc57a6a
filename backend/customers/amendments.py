"""客户信息修改: change requests as field-level diffs, their review, and applying them.

`customer_changes_clean` turns what a user typed into a diff against the customer's current
values (validated with the same rules as an opening); `customer_changes_apply` applies a diff
atomically, refusing a stale one, and writes one history row per field. Endorsements
(backend.policies) apply their customer part through the same function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, Forbidden, ValidationFailed
from backend.customers.checks import CheckSubject, customer_checks_run, customer_clean, duplicate_customer
from backend.customers.events import customer_data_changed
from backend.customers.models import (
    AmendmentStatus,
    ChangeScope,
    Customer,
    CustomerAmendment,
    CustomerFieldChange,
    CustomerStatus,
    CustomerType,
    InfoLevel,
)
from backend.customers.notices import customer_change_notice_record
from backend.customers.validators import LONG_TERM, IdValidity
from backend.organisation.models import OrgLevel, Role
from backend.organisation.selectors import user_role_assignments
from processes.services import process_instance_start

AMENDMENT_PROCESS = "customer_amendment"
AMENDMENT_CASE = "customers.customeramendment"
# A hotline agent files the change a customer asks for on the phone; the review is the same.
REQUESTER_ROLES = (Role.COLLECTOR, Role.OFFICER, Role.HOTLINE_AGENT)

# Which fields a change request may touch, and which of them are identity fields (reviewed at
# province level). birth_date and gender follow a resident id number.
CONTACT_FIELDS = {
    CustomerType.INDIVIDUAL: ("phone", "address", "email"),
    CustomerType.CORPORATE: ("phone", "address", "email", "contact_person"),
}
IDENTITY_FIELDS = {
    CustomerType.INDIVIDUAL: ("name", "id_type", "id_number", "birth_date", "gender", "id_valid_until"),
    CustomerType.CORPORATE: (
        "name",
        "id_type",
        "id_number",
        "legal_rep_name",
        "legal_rep_id_type",
        "legal_rep_id_number",
    ),
}
# Fields a user may type (gender is derived, never typed).
TYPED_FIELDS = {
    CustomerType.INDIVIDUAL: (
        "name",
        "id_type",
        "id_number",
        "birth_date",
        "id_valid_until",
        "phone",
        "address",
        "email",
    ),
    CustomerType.CORPORATE: (
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
    ),
}


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def customer_values(customer: Customer) -> dict[str, str]:
    """The customer's changeable fields as text (证件有效期: "YYYY-MM-DD", "long_term" or "")."""
    kind = customer.customer_type
    names = set(CONTACT_FIELDS[kind]) | set(IDENTITY_FIELDS[kind])
    values = {name: _as_text(getattr(customer, name)) for name in names}
    if "id_valid_until" in values:
        values["id_valid_until"] = IdValidity(customer.id_valid_until, customer.id_valid_long_term).as_text()
    return values


@dataclass
class CleanedChanges:
    changes: dict[str, dict[str, str]]
    scope: str


def _birth_date_clean(raw: str) -> date:
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed.field(
            "birth_date", _("出生日期格式应为 YYYY-MM-DD"), code="invalid_date"
        ) from None
    if value > timezone.localdate() or value < date(1900, 1, 1):
        raise ValidationFailed.field(
            "birth_date", _("出生日期不能晚于今天,也不能早于 1900-01-01"), code="invalid_date"
        )
    return value


def customer_changes_clean(*, customer: Customer, proposed: dict[str, Any]) -> CleanedChanges:
    """The diff a request makes: only fields given (non-empty) count, each checked with the
    rules of an opening. A request that changes nothing is refused."""
    kind = customer.customer_type
    typed = {
        k: str(v).strip()
        for k, v in proposed.items()
        if k in TYPED_FIELDS[kind] and v is not None and str(v).strip() != ""
    }
    current = customer_values(customer)
    merged = {**current, **typed}
    cleaned = customer_clean(merged, customer_type=kind, info_level=InfoLevel.PRIMARY)
    # Problems of fields the user did not touch (legacy data) are not theirs to fix here;
    # an id number is re-checked when its type changes.
    touched = (
        set(typed)
        | ({"id_number"} if "id_type" in typed else set())
        | ({"legal_rep_id_number"} if "legal_rep_id_type" in typed else set())
    )
    errors = {k: v for k, v in cleaned.errors.items() if k in touched}
    if errors:
        raise ValidationFailed("", field_errors=errors)
    new = {k: _as_text(v) for k, v in cleaned.values.items() if k in current}
    if "id_valid_until" in new:
        new["id_valid_until"] = IdValidity(cleaned.values["id_valid_until"], cleaned.values["id_valid_long_term"]).as_text()
    if kind == CustomerType.INDIVIDUAL:
        if "birth_date" in typed:
            birth = _birth_date_clean(typed["birth_date"])
            derived = cleaned.values.get("birth_date")
            if derived and derived != birth:
                raise ValidationFailed.field(
                    "birth_date", _("出生日期与居民身份证号码不一致"), code="birth_date_mismatch"
                )
            new["birth_date"] = birth.isoformat()
        elif not cleaned.values.get("birth_date"):
            # A document that encodes no birth date (passport, permits) keeps the recorded one.
            new["birth_date"] = current["birth_date"]
        if not cleaned.values.get("gender"):
            new["gender"] = current["gender"]
    changes = {
        k: {"old": current[k], "new": new.get(k, current[k])}
        for k in current
        if new.get(k, current[k]) != current[k]
    }
    # Only fields the user asked for, or derived from them, may change: untouched legacy
    # values are never rewritten by normalisation as a side effect.
    derived_from = {"birth_date": "id_number", "gender": "id_number"}
    changes = {
        k: v for k, v in changes.items() if k in typed or derived_from.get(k) in touched or k in touched
    }
    if not changes:
        raise ValidationFailed(
            _("没有任何修改:请至少修改一项信息"),
            field_errors={"non_field_errors": [_("没有任何修改:请至少修改一项信息")]},
            code="no_changes",
        )
    identity = set(IDENTITY_FIELDS[kind])
    scope = ChangeScope.IDENTITY if identity & set(changes) else ChangeScope.CONTACT
    return CleanedChanges(changes=changes, scope=scope)


def customer_changes_apply(
    *,
    actor,
    customer_id: int,
    changes: dict[str, dict[str, str]],
    base_version: int,
    reason: str,
    case_type: str,
    case_id: int | None,
    approved_by=None,
) -> Customer:
    """Apply a reviewed diff atomically. A customer changed since the diff was made (another
    version, or a field no longer holding its old value) is a 409 and nothing changes."""
    customer = Customer.objects.select_for_update(of=("self",)).select_related("org_unit").get(pk=customer_id)
    current = customer_values(customer)
    stale = customer.version != base_version or any(current.get(k) != v["old"] for k, v in changes.items())
    if stale:
        raise Conflict(
            _("客户信息在申请提交后已被修改,本次修改已过期,不能通过;请拒绝后重新发起申请"),
            code="stale_amendment",
            extra={"customer_version": customer.version, "base_version": base_version},
        )
    if customer.status not in (CustomerStatus.ACTIVE,):
        raise Conflict(
            _("客户当前状态为「%(status)s」,不能修改") % {"status": customer.get_status_display()},
            code="customer_not_active",
        )
    now = timezone.now()
    extra_fields = []
    for name, change in changes.items():
        value: Any = change["new"]
        if name == "birth_date":
            value = date.fromisoformat(value) if value else None
        if name == "id_valid_until":
            # Checked when requested (a date then not past); stored as given.
            customer.id_valid_long_term = value == LONG_TERM
            value = date.fromisoformat(value) if value and value != LONG_TERM else None
            extra_fields.append("id_valid_long_term")
        setattr(customer, name, value)
    customer.version += 1
    customer.last_verified_at = now
    if {"id_type", "id_number"} & set(changes):
        duplicate = duplicate_customer(customer.id_type, customer.id_number, exclude_id=customer.pk)
        if duplicate is not None:
            raise Conflict(
                _("新证件号码已属于其他客户(客户号 %(id)s)") % {"id": duplicate.pk},
                code="duplicate_customer",
                extra={"customer_id": duplicate.pk},
            )
    try:
        with transaction.atomic():
            customer.save(update_fields=[*changes, *extra_fields, "version", "last_verified_at", "updated_at"])
    except IntegrityError:
        raise Conflict(_("新证件号码已属于其他客户"), code="duplicate_customer") from None
    CustomerFieldChange.objects.bulk_create(
        CustomerFieldChange(
            customer=customer,
            field=name,
            old_value=change["old"],
            new_value=change["new"],
            reason=reason,
            changed_by=actor,
            approved_by=approved_by,
            changed_at=now,
            case_type=case_type,
            case_id=case_id,
        )
        for name, change in changes.items()
    )
    audit_event_record(
        actor=approved_by or actor,
        action="customer.amended",
        obj=customer,
        org_unit=customer.org_unit,
        data={
            "fields": sorted(changes),
            "case_type": case_type,
            "case_id": case_id,
            "version": customer.version,
            "reason": reason,
        },
    )
    # Announced in the same transaction: the customer's notice and the upstream callbacks are
    # rows written here (sent later by their jobs), so a rolled-back change announces nothing.
    customer_change_notice_record(customer=customer, fields=sorted(changes), case_type=case_type, case_id=case_id)
    customer_data_changed(
        customer=customer, fields=sorted(changes), actor=approved_by or actor, case_type=case_type, case_id=case_id
    )
    return customer


# ---- the change request and its process ----------------------------------------------------


def _requester_org_unit(actor, customer: Customer):
    for ra in user_role_assignments(actor):
        if ra.role in REQUESTER_ROLES and customer.org_unit.path.startswith(ra.org_unit.path):
            return customer.org_unit
    return None


def customer_amendment_request(
    *, actor, customer: Customer, proposed: dict[str, Any], reason: str
) -> CustomerAmendment:
    """Start a change request on an active customer the actor may see (the caller resolves
    visibility: out of scope is a 404 before this runs)."""
    if _requester_org_unit(actor, customer) is None:
        raise Forbidden(
            _("只有该客户所属机构(或上级机构)的采集人、客户信息管理岗或热线坐席可以发起修改"), code="not_entitled"
        )
    if customer.status != CustomerStatus.ACTIVE:
        raise ValidationFailed.field(
            "customer",
            _("客户当前状态为「%(status)s」,只有已开户的客户可以修改") % {"status": customer.get_status_display()},
            code="customer_not_active",
        )
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("请填写修改原因")]
    elif len(reason) > 1000:
        errors["reason"] = [_("修改原因不能超过 1000 个字符")]
    try:
        cleaned = customer_changes_clean(customer=customer, proposed=proposed)
    except ValidationFailed as exc:
        errors = {**exc.field_errors, **errors}
        if errors:
            raise ValidationFailed(exc.message, field_errors=errors, code=exc.code) from None
        raise
    if errors:
        raise ValidationFailed("", field_errors=errors)
    with transaction.atomic(), audit_batch():
        locked = Customer.objects.select_for_update(of=("self",)).get(pk=customer.pk)
        if CustomerAmendment.objects.filter(customer=locked, status=AmendmentStatus.PENDING).exists():
            raise Conflict(_("该客户已有一笔审核中的修改申请,请等待其办结"), code="amendment_pending")
        if locked.version != customer.version:
            raise Conflict(_("客户信息刚刚被修改,请刷新后重新填写"), code="stale_amendment")
        amendment = CustomerAmendment.objects.create(
            customer=locked,
            org_unit=locked.org_unit,
            requested_by=actor,
            changes=cleaned.changes,
            scope=cleaned.scope,
            reason=reason,
            base_version=locked.version,
        )
        audit_event_record(
            actor=actor,
            action="customer_amendment.requested",
            obj=locked,
            org_unit=locked.org_unit,
            data={
                "amendment": amendment.pk,
                "fields": sorted(cleaned.changes),
                "scope": cleaned.scope,
                "reason": reason,
            },
        )
        instance = process_instance_start(
            actor=actor,
            key=AMENDMENT_PROCESS,
            org_unit=locked.org_unit,
            data={"case_id": amendment.pk, "customer_id": locked.pk, "scope": str(cleaned.scope)},
            subject_type=AMENDMENT_CASE,
            subject_id=amendment.pk,
        )
        amendment.process_instance = instance
        amendment.save(update_fields=["process_instance"])
    return CustomerAmendment.objects.select_related("customer").get(pk=amendment.pk)


def _amendment_locked(case_id: Any) -> CustomerAmendment:
    return (
        CustomerAmendment.objects.select_for_update(of=("self",))
        .select_related("customer", "org_unit")
        .get(pk=int(case_id))
    )


def amendment_check_subject(*, customer: Customer, changes: dict[str, dict[str, str]]) -> CheckSubject:
    """What a diff writes to a customer, for `customer_checks_run`: check A when an id
    document changes, check D when the phone changes, the blacklist always."""
    new_values = {**customer_values(customer), **{k: v["new"] for k, v in changes.items()}}
    return CheckSubject(
        values=new_values,
        exclude_id=customer.pk,
        check_phone="phone" in changes and bool(new_values.get("phone")),
        check_duplicate=bool({"id_type", "id_number"} & set(changes)),
    )


def amendment_run_checks(*, actor, case_id: Any) -> dict:
    """Checks A, D and the blacklist on the new values (as at opening). Which level reviews
    the request: identity changes and blacklist hits go to province; a flagged contact change
    is reviewed at the city branch with its flags shown, like a flagged opening."""
    amendment = _amendment_locked(case_id)
    result = customer_checks_run(amendment_check_subject(customer=amendment.customer, changes=amendment.changes))
    flags = result.flags
    amendment.flags = flags
    amendment.checks = result.checks
    amendment.save(update_fields=["flags", "checks"])
    province = amendment.scope == ChangeScope.IDENTITY or result.blacklist_hit
    audit_event_record(
        actor=actor,
        action="customer_amendment.checked",
        obj=amendment.customer,
        org_unit=amendment.org_unit,
        data={"amendment": amendment.pk, "flags": flags},
    )
    return {"review_level": "province" if province else "city", "flags": flags}


def amendment_apply(*, actor, case_id: Any, comment: str = "") -> dict:
    amendment = _amendment_locked(case_id)
    customer_changes_apply(
        actor=amendment.requested_by,
        approved_by=actor if getattr(actor, "is_authenticated", False) else None,
        customer_id=amendment.customer_id,
        changes=amendment.changes,
        base_version=amendment.base_version,
        reason=amendment.reason,
        case_type=AMENDMENT_CASE,
        case_id=amendment.pk,
    )
    amendment.status = AmendmentStatus.APPLIED
    amendment.decision_comment = comment
    amendment.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    amendment.closed_at = timezone.now()
    amendment.save(update_fields=["status", "decision_comment", "decided_by", "closed_at"])
    return {"amendment_status": str(amendment.status)}


def amendment_reject(*, actor, case_id: Any, comment: str) -> dict:
    amendment = _amendment_locked(case_id)
    amendment.status = AmendmentStatus.REJECTED
    amendment.decision_comment = comment
    amendment.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    amendment.closed_at = timezone.now()
    amendment.save(update_fields=["status", "decision_comment", "decided_by", "closed_at"])
    audit_event_record(
        actor=actor,
        action="customer_amendment.rejected",
        obj=amendment.customer,
        org_unit=amendment.org_unit,
        data={"amendment": amendment.pk, "reason": comment},
    )
    return {"amendment_status": str(amendment.status)}


def amendment_is_stale(amendment: CustomerAmendment) -> bool:
    customer = Customer.objects.get(pk=amendment.customer_id)
    current = customer_values(customer)
    return customer.version != amendment.base_version or any(
        current.get(k) != v["old"] for k, v in amendment.changes.items()
    )


def _reviewer_level_ok(actor, amendment: CustomerAmendment) -> bool:
    """Identity changes (and blacklist hits) need a reviewer at province level or above."""
    if amendment.scope != ChangeScope.IDENTITY and "blacklist_hit" not in (amendment.flags or []):
        return True
    unit_path = amendment.org_unit.path
    return any(
        ra.role == Role.REVIEWER
        and ra.org_unit.level in (OrgLevel.PROVINCE, OrgLevel.HEAD_OFFICE)
        and unit_path.startswith(ra.org_unit.path)
        for ra in user_role_assignments(actor)
    )


def amendment_review_clean(data: dict, context: Any) -> dict:
    """Domain validation of the review form: a stale diff cannot be approved, and an identity
    change cannot be approved below province level."""
    amendment = CustomerAmendment.objects.select_related("org_unit").get(pk=context.task.case_id)
    if data.get("decision") == "approve":
        if amendment_is_stale(amendment):
            raise ValidationFailed.field(
                "decision",
                _("客户信息在申请提交后已被修改,本次修改已过期,不能通过;请选择拒绝"),
                code="stale_amendment",
            )
        if not _reviewer_level_ok(context.actor, amendment):
            raise ValidationFailed.field(
                "decision", _("身份信息变更须由省级及以上审核岗审批"), code="province_review_required"
            )
    return data


def amendment_cancel(*, actor, case_id: Any, reason: str, withdrawn: bool) -> None:
    amendment = _amendment_locked(case_id)
    amendment.status = AmendmentStatus.CANCELLED
    amendment.decision_comment = reason
    amendment.closed_at = timezone.now()
    amendment.save(update_fields=["status", "decision_comment", "closed_at"])
    audit_event_record(
        actor=actor, action="customer_amendment.cancelled", obj=amendment.customer, org_unit=amendment.org_unit,
        data={"amendment": amendment.pk, "reason": reason, "withdrawn": withdrawn},
    )

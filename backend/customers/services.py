from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, Forbidden, InvalidValue, ValidationFailed
from backend.customers.checks import (
    CheckSubject,
    customer_checks_run,
    customer_clean,
    duplicate_customer,
)
from backend.customers.events import customer_status_changed
from backend.customers.models import (
    AccountOpening,
    Customer,
    CustomerStatus,
    CustomerType,
    InfoLevel,
    ScanDocument,
)
from backend.customers.validators import LONG_TERM, IdValidity, inspect_scan
from backend.organisation.models import OrgUnit, Role
from backend.organisation.selectors import user_org_unit_for_role, user_role_assignments
from processes.services import process_instance_start
from tasks.eligibility import holds_role_in_scope

logger = logging.getLogger(__name__)

OPENING_PROCESS = "individual_account_opening"
CORPORATE_OPENING_PROCESS = "corporate_account_opening"
OPENING_PROCESSES = {
    CustomerType.INDIVIDUAL: OPENING_PROCESS,
    CustomerType.CORPORATE: CORPORATE_OPENING_PROCESS,
}
SUBMITTER_ROLES = (Role.COLLECTOR, Role.OFFICER)


def _duplicate_error(existing: Customer) -> Conflict:
    return Conflict(
        _("该证件已开户或正在办理(客户号 %(id)s),不能重复开户") % {"id": existing.pk},
        code="duplicate_customer",
        extra={"customer_id": existing.pk, "field": "id_number"},
    )


def account_opening_submit(
    *,
    actor,
    info_level: str,
    name: str,
    id_type: str,
    id_number: str,
    phone: str = "",
    address: str = "",
    email: str = "",
    scan: Any = None,
    customer_type: str = CustomerType.INDIVIDUAL,
    legal_rep_name: str = "",
    legal_rep_id_type: str = "",
    legal_rep_id_number: str = "",
    contact_person: str = "",
    id_valid_until: Any = "",
    collector: str = "",
    automatic: bool = False,
    credit_to: Any = None,
    credit_unit: OrgUnit | None = None,
) -> AccountOpening:
    """Submit an individual or corporate account opening: checks A–D, then the process
    decides the path. A collector's submission waits for a customer-information officer of
    the branch (confirm, correct or return); an officer's own opening, or an upstream system's
    automatic one (`automatic`), goes on at once: primary level opens directly, advanced level
    and blacklist hits go to review (seed 003 §1.1.1).

    `collector`: an officer opening on behalf of a collector names him (username); he must be
    a collector in the officer's scope, and the opening belongs to his branch.

    `credit_to` / `credit_unit`: a prospect's conversion (`prospects.prospect_convert`) credits the
    prospect's collector and files the opening at the prospect's unit; the caller has checked both
    (the prospect is in the actor's scope), so they are not looked up by name.

    Bad input raises ValidationFailed (400) and a duplicate id raises Conflict (409);
    either way nothing is created.
    """
    org_unit = next((u for u in (user_org_unit_for_role(actor, r) for r in SUBMITTER_ROLES) if u), None)
    if org_unit is None:
        raise Forbidden(_("只有采集人或客户信息管理岗可以提交开户"), code="not_collector")
    errors: dict[str, list[str]] = {}
    if credit_unit is not None:
        org_unit = credit_unit
    officer_opens = automatic or holds_role_in_scope(actor, Role.OFFICER, org_unit)
    collector_user = credit_to or actor
    if credit_to is None and str(collector or "").strip():
        try:
            collector_user, org_unit = opening_collector_clean(actor=actor, username=collector)
        except InvalidValue as exc:
            errors["collector"] = [exc.message]
    customer_type = str(customer_type or CustomerType.INDIVIDUAL).strip()
    if customer_type not in CustomerType.values:
        errors["customer_type"] = [_("客户类型无效,可选: individual, corporate")]
        customer_type = CustomerType.INDIVIDUAL
    if info_level not in InfoLevel.values:
        errors["info_level"] = [_("信息程度无效,可选: primary, advanced")]
    fields = {"name": name, "id_type": id_type, "id_number": id_number, "phone": phone, "address": address, "email": email}
    if customer_type == CustomerType.INDIVIDUAL:
        fields["id_valid_until"] = id_valid_until
    if customer_type == CustomerType.CORPORATE:
        fields.update(
            legal_rep_name=legal_rep_name,
            legal_rep_id_type=legal_rep_id_type,
            legal_rep_id_number=legal_rep_id_number,
            contact_person=contact_person,
        )
    level = info_level if info_level in InfoLevel.values else InfoLevel.PRIMARY
    cleaned = customer_clean(fields, customer_type=customer_type, info_level=level)
    errors.update(cleaned.errors)
    scan_info = None
    if scan is None:  # check C
        corporate = customer_type == CustomerType.CORPORATE
        errors["scan"] = [_("请上传营业执照扫描件") if corporate else _("请上传证件扫描件")]
    else:
        try:
            scan_info = inspect_scan(scan, max_bytes=settings.CUSTFLOW["SCAN_MAX_BYTES"])
        except InvalidValue as exc:
            errors["scan"] = [exc.message]
    if errors:
        raise ValidationFailed("", field_errors=errors)
    values = cleaned.values
    existing = duplicate_customer(values["id_type"], values["id_number"])  # check A
    if existing is not None:
        raise _duplicate_error(existing)

    saved_files: list[ScanDocument] = []
    committing = False  # the body is done: an error now comes from the COMMIT itself
    try:
        with transaction.atomic(), audit_batch():
            customer = Customer.objects.create(
                customer_type=customer_type,
                info_level=info_level,
                org_unit=org_unit,
                collected_by=collector_user,
                **values,
            )
            opening = AccountOpening.objects.create(
                customer=customer,
                info_level=info_level,
                org_unit=org_unit,
                submitted_by=actor,
                collector=collector_user,
                opened_by=actor if officer_opens else None,
                opened_at=timezone.now() if officer_opens else None,
            )
            document = ScanDocument(
                customer=customer,
                opening=opening,
                content_type=scan_info.content_type,
                size=scan_info.size,
                sha256=scan_info.sha256,
                uploaded_by=actor,
            )
            document.file.save(f"{scan_info.sha256[:16]}.{scan_info.extension}", scan, save=False)
            saved_files.append(document)
            document.save()
            audit_event_record(
                actor=actor,
                action="account_opening.submitted",
                obj=customer,
                org_unit=org_unit,
                data={
                    "opening": opening.pk,
                    "info_level": info_level,
                    "customer_type": customer_type,
                    "collector": collector_user.username,
                },
            )
            instance = process_instance_start(
                actor=actor,
                key=OPENING_PROCESSES[customer_type],
                org_unit=org_unit,
                data={"case_id": opening.pk, "customer_id": customer.pk, "info_level": info_level},
                subject_type="customers.accountopening",
                subject_id=opening.pk,
            )
            opening.process_instance = instance
            opening.save(update_fields=["process_instance"])
            committing = True
    except IntegrityError:
        _discard_files(saved_files, committing=committing)
        existing = duplicate_customer(values["id_type"], values["id_number"])
        if existing is not None:
            raise _duplicate_error(existing)
        raise
    except Exception:
        _discard_files(saved_files, committing=committing)
        raise
    # Re-read: the process moved the customer's (protected) FSM state during the step.
    return AccountOpening.objects.select_related("customer", "collector", "opened_by").get(pk=opening.pk)


def opening_collector_clean(*, actor, username: object) -> tuple[Any, OrgUnit]:
    """The collector an officer names on an opening: an active user holding the collector role at
    a branch within the officer's scope. Returns (collector, the branch the opening belongs to);
    raises InvalidValue with the field message otherwise."""

    name = str(username or "").strip()
    officer_paths = [ra.org_unit.path for ra in user_role_assignments(actor) if ra.role == Role.OFFICER]
    if not officer_paths:
        raise InvalidValue(_("只有客户信息管理岗可以代采集人提交开户"))
    user = get_user_model().objects.filter(username=name, is_active=True).first() if len(name) <= 150 else None
    if user is None:
        raise InvalidValue(_("采集人 %(name)s 不存在或已停用") % {"name": name[:40]})
    units = [
        ra.org_unit
        for ra in user_role_assignments(user)
        if ra.role == Role.COLLECTOR and any(ra.org_unit.path.startswith(p) for p in officer_paths)
    ]
    if not units:
        raise InvalidValue(
            _("%(name)s 不是您所在机构(或下级机构)的采集人") % {"name": user.get_full_name() or user.username}
        )
    return user, max(units, key=lambda u: u.path.count("/"))


def _discard_files(documents: list[ScanDocument], *, committing: bool) -> None:
    """Remove the scan files of a submission that was rolled back. An error raised by the COMMIT
    itself (a connection lost on the way) leaves the outcome unknown: the case may well exist and
    its reviewer would find no scan, so the files stay (an orphan file costs only disk)."""
    if committing:
        logger.warning("opening submission: the commit failed with its outcome unknown; scan files kept: %s", [d.file.name for d in documents])
        return
    for document in documents:
        try:
            document.file.delete(save=False)
        except OSError:
            logger.warning("could not remove scan file %s", document.file.name)


# ---- the operations the opening diagram calls (registered in handlers.py) --------------------


def _opening_locked(case_id: Any) -> AccountOpening:
    return (
        AccountOpening.objects.select_for_update(of=("self",))
        .select_related("customer", "org_unit")
        .get(pk=int(case_id))
    )


def opening_run_checks(*, actor, case_id: Any) -> dict:
    opening = _opening_locked(case_id)
    customer = opening.customer
    values = {f: getattr(customer, f) for f in ("id_type", "id_number", "legal_rep_id_type", "legal_rep_id_number", "phone")}
    # Check D on every opening that records a phone (required at advanced level, docs/DOMAIN.md "Checks on every write").
    result = customer_checks_run(
        CheckSubject(values=values, exclude_id=customer.pk, check_phone=bool(customer.phone))
    )
    flags = result.flags
    hits = result.blacklist
    opening.checks = {
        "A": result.checks["A"],
        "B": {"passed": True},
        "C": {"passed": opening.scans.exists()},
        "D": result.checks.get("D"),
        "blacklist": result.checks["blacklist"],
    }
    opening.flags = flags
    opening.save(update_fields=["checks", "flags"])
    # A collector's submission waits for the officer (seed 003 §1.1.1: the officer opens).
    officer_step = opening.opened_by_id is None
    needs_review = opening.info_level == InfoLevel.ADVANCED or bool(hits) or officer_step
    if needs_review and customer.status == CustomerStatus.DRAFT:
        customer.submit_for_review()
        customer.save(update_fields=["status", "updated_at"])
    audit_event_record(
        actor=actor,
        action="account_opening.checked",
        obj=customer,
        org_unit=opening.org_unit,
        data={"checks": opening.checks, "flags": flags},
    )
    return {
        "flags": flags,
        "info_level": str(opening.info_level),
        "blacklist_hit": bool(hits),
        "officer_step": officer_step,
    }


def opening_activate(*, actor, case_id: Any) -> dict:
    opening = _opening_locked(case_id)
    customer = opening.customer
    old_status = customer.status
    customer.activate()
    customer.activated_at = customer.last_verified_at = timezone.now()
    customer.save(update_fields=["status", "activated_at", "last_verified_at", "updated_at"])
    opening.closed_at = customer.activated_at
    opening.save(update_fields=["closed_at"])
    audit_event_record(
        actor=actor,
        action="customer.activated",
        obj=customer,
        org_unit=opening.org_unit,
        data={"opening": opening.pk},
    )
    customer_status_changed(customer=customer, old_status=old_status, new_status=customer.status, actor=actor)
    return {"customer_status": str(customer.status)}


def opening_reject(*, actor, case_id: Any, reason: str) -> dict:
    opening = _opening_locked(case_id)
    customer = opening.customer
    old_status = customer.status
    customer.reject()
    customer.save(update_fields=["status", "updated_at"])
    opening.decision_comment = reason
    opening.closed_at = timezone.now()
    opening.save(update_fields=["decision_comment", "closed_at"])
    audit_event_record(
        actor=actor,
        action="customer.rejected",
        obj=customer,
        org_unit=opening.org_unit,
        data={"opening": opening.pk, "reason": reason},
    )
    customer_status_changed(customer=customer, old_status=old_status, new_status=customer.status, actor=actor)
    return {"customer_status": str(customer.status)}


def opening_return(*, actor, case_id: Any, reason: str) -> dict:
    opening = _opening_locked(case_id)
    customer = opening.customer
    customer.return_for_fix()
    customer.save(update_fields=["status", "updated_at"])
    opening.decision_comment = reason
    opening.return_count += 1
    opening.save(update_fields=["decision_comment", "return_count"])
    audit_event_record(
        actor=actor,
        action="customer.returned",
        obj=customer,
        org_unit=opening.org_unit,
        data={"opening": opening.pk, "reason": reason},
    )
    return {"customer_status": str(customer.status)}


CORRECTABLE_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "birth_date",
    "gender",
    "phone",
    "address",
    "email",
    "legal_rep_name",
    "legal_rep_id_type",
    "legal_rep_id_number",
    "contact_person",
)


def opening_resubmit(*, actor, case_id: Any, corrections: dict) -> dict:
    opening = _opening_locked(case_id)
    customer = opening.customer
    changes = _apply_corrections(customer, corrections)
    customer.resubmit()
    with _duplicate_as_conflict(customer):
        customer.save(update_fields=[*CORRECTABLE_FIELDS, *VALIDITY_FIELDS, "status", "updated_at"])
    if opening.opened_by_id is not None and opening.opened_by_id != getattr(actor, "pk", None):
        # A collector's corrected data goes to the officer again before it may open.
        opening.opened_by, opening.opened_at = None, None
        opening.save(update_fields=["opened_by", "opened_at"])
    audit_event_record(
        actor=actor,
        action="customer.resubmitted",
        obj=customer,
        org_unit=opening.org_unit,
        data={"opening": opening.pk, "changes": changes, "comment": corrections.get("comment", "")},
    )
    return {"customer_status": str(customer.status)}


@contextmanager
def _duplicate_as_conflict(customer: Customer):
    """A corrected id document another customer holds (the unique constraint) is check A's 409."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise _duplicate_error(
            duplicate_customer(customer.id_type, customer.id_number, exclude_id=customer.pk) or customer
        ) from None


VALIDITY_FIELDS = ("id_valid_until", "id_valid_long_term")


def _apply_corrections(customer: Customer, corrections: dict) -> dict:
    changes = {}
    for name in CORRECTABLE_FIELDS:
        if name in corrections and str(getattr(customer, name) or "") != str(corrections[name] or ""):
            changes[name] = {"old": str(getattr(customer, name) or ""), "new": str(corrections[name] or "")}
            setattr(customer, name, corrections[name] or ("" if name != "birth_date" else None))
    if "id_valid_until" in corrections and not customer.is_corporate:
        # Checked by opening_fix_clean: "YYYY-MM-DD", "long_term" or "".
        old = IdValidity(customer.id_valid_until, customer.id_valid_long_term).as_text()
        new = str(corrections["id_valid_until"] or "")
        if old != new:
            changes["id_valid_until"] = {"old": old, "new": new}
            customer.id_valid_long_term = new == LONG_TERM
            customer.id_valid_until = date.fromisoformat(new) if new and new != LONG_TERM else None
    return changes


def opening_officer_confirm(*, actor, case_id: Any, comment: str = "") -> dict:
    """The officer confirms a collector's submission as it stands: he opens it (the diagram then
    routes by level: primary active at once, advanced to review)."""
    opening = _opening_locked(case_id)
    opening.opened_by, opening.opened_at = actor, timezone.now()
    opening.save(update_fields=["opened_by", "opened_at"])
    audit_event_record(
        actor=actor,
        action="account_opening.officer_confirmed",
        obj=opening.customer,
        org_unit=opening.org_unit,
        data={"opening": opening.pk, "collector": opening.collector.username if opening.collector_id else "", "comment": comment},
    )
    return {"opened_by": actor.username}


def opening_officer_correct(*, actor, case_id: Any, corrections: dict) -> dict:
    """The officer corrects the collector's data and opens it. The diagram runs the opening's
    checks (A–D and the blacklist, `opening_run_checks`) again on the corrected data; every
    change is kept (who, old, new, why)."""
    opening = _opening_locked(case_id)
    customer = opening.customer
    changes = _apply_corrections(customer, corrections)
    with _duplicate_as_conflict(customer):
        customer.save(update_fields=[*CORRECTABLE_FIELDS, *VALIDITY_FIELDS, "updated_at"])
    opening.opened_by, opening.opened_at = actor, timezone.now()
    opening.save(update_fields=["opened_by", "opened_at"])
    audit_event_record(
        actor=actor,
        action="account_opening.officer_corrected",
        obj=customer,
        org_unit=opening.org_unit,
        data={"opening": opening.pk, "changes": changes, "comment": str(corrections.get("comment") or "")},
    )
    return {"opened_by": actor.username, "corrected_fields": sorted(changes)}


def opening_officer_clean(data: dict, context: Any) -> dict:
    """Domain validation of the officer's step (form `account_opening/officer_check`): confirm as
    it stands, correct (the fields typed replace the collector's; checks B and A here, the
    diagram re-runs A–D and the blacklist), or return to the collector with a reason. The web
    form starts with the current values: a field left as it is is no correction."""
    decision = data.get("decision")
    comment = str(data.get("comment") or "")
    if decision == "return":
        return {"decision": decision, "comment": comment}
    typed = {k: v for k, v in data.items() if k not in ("decision", "comment") and str(v or "").strip()}
    changed: list[str] = []
    cleaned: dict = {}
    if typed:
        cleaned = opening_fix_clean(data, context)
        customer = AccountOpening.objects.select_related("customer").get(pk=context.task.case_id).customer
        changed = [
            name
            for name in CORRECTABLE_FIELDS
            if name in cleaned and str(cleaned[name] or "") != str(getattr(customer, name) or "")
        ]
        if "id_valid_until" in cleaned and not customer.is_corporate:
            current = IdValidity(customer.id_valid_until, customer.id_valid_long_term).as_text()
            if str(cleaned["id_valid_until"] or "") != current:
                changed.append("id_valid_until")
    if decision == "confirm":
        if changed:
            raise ValidationFailed.field(
                "decision", _("您修改了资料:请选择“更正后开户”,或恢复原值"), code="corrections_not_applied"
            )
        return {"decision": decision, "comment": comment}
    if not changed:
        raise ValidationFailed.field("decision", _("请填写需要更正的内容(与原资料相同的不算更正)"), code="nothing_to_correct")
    return {**cleaned, "decision": decision}


def opening_fix_clean(data: dict, context: Any) -> dict:
    """Domain validation of the collector's correction form (form `account_opening/fix_submission`)."""
    opening = AccountOpening.objects.select_related("customer").get(pk=context.task.case_id)
    customer = opening.customer
    # A field left empty keeps its current value: the collector sees personal fields masked
    # and re-types only what the reviewer asked to change.
    names = ["name", "id_type", "id_number", "phone", "address", "email"]
    if customer.is_corporate:
        names += ["legal_rep_name", "legal_rep_id_type", "legal_rep_id_number", "contact_person"]
    current = {name: getattr(customer, name) or "" for name in names}
    if not customer.is_corporate:
        current["id_valid_until"] = IdValidity(customer.id_valid_until, customer.id_valid_long_term).as_text()
    merged = {**current, **{k: v for k, v in data.items() if k in current and str(v or "").strip()}}
    cleaned = customer_clean(merged, customer_type=customer.customer_type, info_level=opening.info_level)
    if cleaned.errors:
        raise ValidationFailed("", field_errors=cleaned.errors)
    values = cleaned.values
    duplicate = duplicate_customer(values["id_type"], values["id_number"], exclude_id=opening.customer_id)
    if duplicate is not None:
        raise ValidationFailed.field(
            "id_number",
            _("该证件已开户或正在办理(客户号 %(id)s)") % {"id": duplicate.pk},
            code="duplicate_customer",
        )
    birth = values.get("birth_date")
    if "id_valid_long_term" in values:  # workflow data is JSON: the validity as its text
        values["id_valid_until"] = IdValidity(values["id_valid_until"], values.pop("id_valid_long_term")).as_text()
    return {
        **values,
        "birth_date": birth.isoformat() if birth else "",
        "comment": str(data.get("comment") or ""),
    }


# ---- freezing (冻结): an active customer may be frozen by an officer; no business runs on it ----


def _officer_in_scope(actor, customer: Customer) -> bool:
    return any(
        ra.role == Role.OFFICER and customer.org_unit.path.startswith(ra.org_unit.path) for ra in user_role_assignments(actor)
    )


def customer_freeze(*, actor, customer: Customer, reason: str, unfreeze: bool = False) -> Customer:
    """Freeze (or unfreeze) a customer the actor may see: officers only, with a reason."""
    if not _officer_in_scope(actor, customer):
        raise Forbidden(_("只有客户所属机构(或上级机构)的客户信息管理岗可以冻结或解冻客户"), code="not_entitled")
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationFailed.field("reason", _("请填写原因(不超过 500 个字符)"))
    with transaction.atomic(), audit_batch():
        locked = Customer.objects.select_for_update(of=("self",)).select_related("org_unit").get(pk=customer.pk)
        expected = CustomerStatus.FROZEN if unfreeze else CustomerStatus.ACTIVE
        if locked.status != expected:
            raise Conflict(
                _("客户当前状态为「%(status)s」,不能执行该操作") % {"status": locked.get_status_display()},
                code="invalid_status",
            )
        old_status = locked.status
        locked.unfreeze() if unfreeze else locked.freeze()
        locked.save(update_fields=["status", "updated_at"])
        audit_event_record(
            actor=actor,
            action="customer.unfrozen" if unfreeze else "customer.frozen",
            obj=locked,
            org_unit=locked.org_unit,
            data={"reason": reason},
        )
        customer_status_changed(customer=locked, old_status=old_status, new_status=locked.status, actor=actor)
    return Customer.objects.select_related("org_unit", "collected_by").get(pk=customer.pk)


# ---- 退回 / 撤回 / 撤销 of an opening (hooks registered with tasks.flow) -------------------------

REVIEW_STEPS = ("officer_check", "review", "province_review")


def opening_on_return(*, actor, case_id: Any, step: str, reason: str) -> None:
    """The opening follows its case back: to the collector's fix step it is 退回修改 again; back
    to a review step it is pending review again."""
    opening = _opening_locked(case_id)
    customer = opening.customer
    if step == "fix_submission" and customer.status == CustomerStatus.PENDING_REVIEW:
        customer.return_for_fix()
        if actor.pk != opening.submitted_by_id:  # a return, not the submitter's own withdrawal
            opening.return_count += 1
            opening.save(update_fields=["return_count"])
    elif step in REVIEW_STEPS and customer.status == CustomerStatus.RETURNED:
        customer.resubmit()
    else:
        return
    customer.save(update_fields=["status", "updated_at"])
    audit_event_record(actor=actor, action="customer.case_returned", obj=customer, org_unit=opening.org_unit, data={"opening": opening.pk, "step": step, "reason": reason})


def opening_cancel(*, actor, case_id: Any, reason: str, withdrawn: bool) -> None:
    opening = _opening_locked(case_id)
    customer = opening.customer
    if customer.status in (CustomerStatus.DRAFT, CustomerStatus.PENDING_REVIEW, CustomerStatus.RETURNED):
        old_status = customer.status
        customer.withdraw()
        customer.save(update_fields=["status", "updated_at"])
        customer_status_changed(customer=customer, old_status=old_status, new_status=customer.status, actor=actor)
    opening.decision_comment = reason
    opening.closed_at = timezone.now()
    opening.save(update_fields=["decision_comment", "closed_at"])
    audit_event_record(
        actor=actor, action="customer.withdrawn", obj=customer, org_unit=opening.org_unit,
        data={"opening": opening.pk, "reason": reason, "withdrawn": withdrawn},
    )

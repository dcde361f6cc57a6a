from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, Forbidden, InvalidValue, ValidationFailed
from backend.customers.checks import duplicate_customer, flags_for, identity_clean, shared_phone
from backend.customers.models import AccountOpening, Customer, CustomerStatus, InfoLevel, ScanDocument
from backend.customers.validators import inspect_scan
from backend.organisation.models import Role
from backend.organisation.selectors import user_org_unit_for_role
from processes.services import process_instance_start

logger = logging.getLogger(__name__)

OPENING_PROCESS = "individual_account_opening"
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
) -> AccountOpening:
    """Submit an individual account opening: checks A–D, then the process decides the path.

    Bad input raises ValidationFailed (400) and a duplicate id raises Conflict (409);
    either way nothing is created.
    """
    org_unit = next((u for u in (user_org_unit_for_role(actor, r) for r in SUBMITTER_ROLES) if u), None)
    if org_unit is None:
        raise Forbidden(_("只有采集人或客户信息管理岗可以提交开户"), code="not_collector")
    errors: dict[str, list[str]] = {}
    if info_level not in InfoLevel.values:
        errors["info_level"] = [_("信息程度无效,可选: primary, advanced")]
    cleaned = identity_clean(
        {
            "name": name,
            "id_type": id_type,
            "id_number": id_number,
            "phone": phone,
            "address": address,
            "email": email,
        },
        info_level=info_level if info_level in InfoLevel.values else InfoLevel.PRIMARY,
    )
    errors.update(cleaned.errors)
    scan_info = None
    if scan is None:
        errors["scan"] = [_("请上传证件扫描件")]  # check C
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
    try:
        with transaction.atomic(), audit_batch():
            customer = Customer.objects.create(
                info_level=info_level, org_unit=org_unit, collected_by=actor, **values
            )
            opening = AccountOpening.objects.create(
                customer=customer, info_level=info_level, org_unit=org_unit, submitted_by=actor
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
                data={"opening": opening.pk, "info_level": info_level},
            )
            instance = process_instance_start(
                actor=actor,
                key=OPENING_PROCESS,
                org_unit=org_unit,
                data={"case_id": opening.pk, "customer_id": customer.pk, "info_level": info_level},
                subject_type="customers.accountopening",
                subject_id=opening.pk,
            )
            opening.process_instance = instance
            opening.save(update_fields=["process_instance"])
    except IntegrityError:
        _discard_files(saved_files)
        existing = duplicate_customer(values["id_type"], values["id_number"])
        if existing is not None:
            raise _duplicate_error(existing)
        raise
    except Exception:
        _discard_files(saved_files)
        raise
    # Re-read: the process moved the customer's (protected) FSM state during the step.
    return AccountOpening.objects.select_related("customer").get(pk=opening.pk)


def _discard_files(documents: list[ScanDocument]) -> None:
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
    duplicate = duplicate_customer(customer.id_type, customer.id_number, exclude_id=customer.pk)
    shared = (
        shared_phone(customer.phone, exclude_id=customer.pk)
        if opening.info_level == InfoLevel.ADVANCED
        else {"customer_ids": [], "agent_codes": []}
    )
    flags = flags_for(shared)
    if duplicate is not None:
        flags.append("duplicate_id")
    opening.checks = {
        "A": {"passed": duplicate is None, "duplicate_customer_id": duplicate.pk if duplicate else None},
        "B": {"passed": True},
        "C": {"passed": opening.scans.exists()},
        "D": {"passed": not flags_for(shared), "shared_with": shared}
        if opening.info_level == InfoLevel.ADVANCED
        else None,
    }
    opening.flags = flags
    opening.save(update_fields=["checks", "flags"])
    if opening.info_level == InfoLevel.ADVANCED and customer.status == CustomerStatus.DRAFT:
        customer.submit_for_review()
        customer.save(update_fields=["status", "updated_at"])
    audit_event_record(
        actor=actor,
        action="account_opening.checked",
        obj=customer,
        org_unit=opening.org_unit,
        data={"checks": opening.checks, "flags": flags},
    )
    return {"flags": flags, "info_level": str(opening.info_level)}


def opening_activate(*, actor, case_id: Any) -> dict:
    opening = _opening_locked(case_id)
    customer = opening.customer
    customer.activate()
    customer.activated_at = timezone.now()
    customer.save(update_fields=["status", "activated_at", "updated_at"])
    opening.closed_at = customer.activated_at
    opening.save(update_fields=["closed_at"])
    audit_event_record(
        actor=actor,
        action="customer.activated",
        obj=customer,
        org_unit=opening.org_unit,
        data={"opening": opening.pk},
    )
    return {"customer_status": str(customer.status)}


def opening_reject(*, actor, case_id: Any, reason: str) -> dict:
    opening = _opening_locked(case_id)
    customer = opening.customer
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
    return {"customer_status": str(customer.status)}


def opening_return(*, actor, case_id: Any, reason: str) -> dict:
    opening = _opening_locked(case_id)
    customer = opening.customer
    customer.return_for_fix()
    customer.save(update_fields=["status", "updated_at"])
    opening.decision_comment = reason
    opening.save(update_fields=["decision_comment"])
    audit_event_record(
        actor=actor,
        action="customer.returned",
        obj=customer,
        org_unit=opening.org_unit,
        data={"opening": opening.pk, "reason": reason},
    )
    return {"customer_status": str(customer.status)}


CORRECTABLE_FIELDS = ("name", "id_type", "id_number", "birth_date", "gender", "phone", "address", "email")


def opening_resubmit(*, actor, case_id: Any, corrections: dict) -> dict:
    opening = _opening_locked(case_id)
    customer = opening.customer
    changes = {}
    for name in CORRECTABLE_FIELDS:
        if name in corrections and str(getattr(customer, name) or "") != str(corrections[name] or ""):
            changes[name] = {"old": str(getattr(customer, name) or ""), "new": str(corrections[name] or "")}
            setattr(customer, name, corrections[name] or ("" if name != "birth_date" else None))
    customer.resubmit()
    try:
        with transaction.atomic():
            customer.save(update_fields=[*CORRECTABLE_FIELDS, "status", "updated_at"])
    except IntegrityError:
        raise _duplicate_error(
            duplicate_customer(customer.id_type, customer.id_number, exclude_id=customer.pk) or customer
        )
    audit_event_record(
        actor=actor,
        action="customer.resubmitted",
        obj=customer,
        org_unit=opening.org_unit,
        data={"opening": opening.pk, "changes": changes, "comment": corrections.get("comment", "")},
    )
    return {"customer_status": str(customer.status)}


def opening_fix_clean(data: dict, context: Any) -> dict:
    """Domain validation of the collector's correction form (form `account_opening/fix_submission`)."""
    opening = AccountOpening.objects.select_related("customer").get(pk=context.task.case_id)
    customer = opening.customer
    # A field left empty keeps its current value: the collector sees personal fields masked
    # and re-types only what the reviewer asked to change.
    current = {
        name: getattr(customer, name) or ""
        for name in ("name", "id_type", "id_number", "phone", "address", "email")
    }
    merged = {**current, **{k: v for k, v in data.items() if k in current and str(v or "").strip()}}
    cleaned = identity_clean(merged, info_level=opening.info_level)
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
    return {
        **values,
        "birth_date": birth.isoformat() if birth else "",
        "comment": str(data.get("comment") or ""),
    }

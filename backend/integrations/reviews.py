"""Import rows that need a person (merge conflicts, suspicious rows): the officer's decision."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Conflict, ValidationFailed
from backend.customers.amendments import customer_amendment_request, customer_changes_clean
from backend.customers.checks import (
    CheckResult,
    CheckSubject,
    customer_checks_run,
    customer_clean,
    duplicate_customer,
)
from backend.customers.models import Customer, CustomerStatus
from backend.integrations.models import ImportReview, ReviewKind


def _proposed(review: ImportReview) -> dict[str, str]:
    return {c["field"]: c["imported"] for c in review.conflicts}


def import_row_checks(values: dict) -> CheckResult:
    return customer_checks_run(CheckSubject(values=values, check_phone=bool(values.get("phone"))))


def import_review_clean(data: dict, context: Any) -> dict:
    """Validator of form integrations/import_review."""
    review = ImportReview.objects.select_related("customer").get(pk=context.task.case_id)
    comment = str(data.get("comment") or "").strip()
    if data.get("decision") == "dismiss" and not comment:
        raise ValidationFailed.field("comment", _("不采纳时请填写原因"))
    if data.get("decision") == "accept":
        if review.kind == ReviewKind.MERGE:
            customer_changes_clean(customer=review.customer, proposed=_proposed(review))
        else:
            row = review.row
            cleaned = customer_clean(
                row,
                customer_type=row.get("customer_type", "individual"),
                info_level=row.get("info_level", "primary"),
            )
            if cleaned.errors:
                raise ValidationFailed(
                    _("导入数据本身不合规,不能采纳"),
                    field_errors={"decision": [_("导入数据本身不合规,不能采纳")]},
                )
            if import_row_checks(cleaned.values).blacklist_hit:
                raise ValidationFailed.field(
                    "decision",
                    _("该证件命中生效中的黑名单，不能由导入采纳开户；请走开户流程（省级审核）"),
                    code="blacklisted",
                )
    return {**data, "comment": comment}


def import_review_decide(*, actor, case_id: Any, decision: str, comment: str) -> dict:
    review = (
        ImportReview.objects.select_for_update(of=("self",))
        .select_related("customer", "org_unit", "batch")
        .get(pk=int(case_id))
    )
    if review.decision:
        raise Conflict(_("该导入行已审核"), code="already_decided")
    created_id = amendment_id = None
    if decision == "accept" and review.kind == ReviewKind.MERGE:
        amendment_id = customer_amendment_request(
            actor=actor,
            customer=review.customer,
            proposed=_proposed(review),
            reason=_("历史数据导入 #%(batch)s 第 %(row)s 行")
            % {"batch": review.batch_id, "row": review.row_number},
        ).pk
    elif decision == "accept":
        row = review.row
        cleaned = customer_clean(
            row,
            customer_type=row.get("customer_type", "individual"),
            info_level=row.get("info_level", "primary"),
        )
        existing = duplicate_customer(cleaned.values["id_type"], cleaned.values["id_number"])
        if existing is not None:
            raise Conflict(_("该证件已开户(客户号 %(id)s)") % {"id": existing.pk}, code="duplicate_customer")
        # The checks again at the moment of writing: the blacklist may have changed since the import.
        result = import_row_checks(cleaned.values)
        if result.blacklist_hit:
            raise Conflict(_("该证件命中生效中的黑名单，不能由导入采纳开户"), code="blacklisted")
        review.flags = result.flags
        try:
            with transaction.atomic():
                customer = Customer.objects.create(
                    customer_type=row.get("customer_type", "individual"),
                    info_level=row.get("info_level", "primary"),
                    status=CustomerStatus.ACTIVE,
                    org_unit=review.org_unit,
                    collected_by=actor,
                    activated_at=timezone.now(),
                    **cleaned.values,
                )
        except IntegrityError:
            raise Conflict(_("该证件已开户"), code="duplicate_customer") from None
        created_id = customer.pk
        audit_event_record(
            actor=actor,
            action="customer.imported",
            obj=customer,
            org_unit=review.org_unit,
            data={"import_review": review.pk},
        )
    review.decision = decision
    review.decision_comment = comment
    review.closed_at = timezone.now()
    review.save(update_fields=["decision", "decision_comment", "closed_at", "flags"])
    audit_event_record(
        actor=actor,
        action=f"import_review.{decision}",
        obj=review,
        org_unit=review.org_unit,
        data={
            "comment": comment,
            "customer_id": created_id,
            "amendment_id": amendment_id,
            "flags": review.flags,
        },
    )
    return {"review_decision": decision}

"""证件到期 (issue 16 item 5): the monthly job that finds identity documents expiring within
ID_EXPIRY_NOTICE_DAYS (or already expired) and opens an update task for the owning branch,
and the task's outcome.

The task is a process (`id_document_renewal`): the branch's customer-information officer
contacts the customer; a renewed document enters through an identity amendment (checked and
reviewed like any other), and the task records what happened.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import ValidationFailed
from backend.customers.models import (
    AmendmentStatus,
    Customer,
    CustomerAmendment,
    CustomerStatus,
    IdDocumentRenewal,
    RenewalOutcome,
)
from backend.organisation.models import OrgUnit
from processes.services import process_instance_start

RENEWAL_PROCESS = "id_document_renewal"
RENEWAL_CASE = "customers.iddocumentrenewal"
# Customers whose document matters: those holding their record (not rejected or withdrawn).
WATCHED_STATUSES = (CustomerStatus.ACTIVE, CustomerStatus.FROZEN)


def expiring_customers(*, today: date | None = None):
    """Customers (active or frozen) whose document's last day is within the notice window or
    past; 长期 and unrecorded validities never expire."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=int(settings.CUSTFLOW["ID_EXPIRY_NOTICE_DAYS"]))
    return Customer.objects.filter(
        status__in=WATCHED_STATUSES,
        id_valid_long_term=False,
        id_valid_until__isnull=False,
        id_valid_until__lte=horizon,
    )


def _busy(period: str):
    """Renewals that keep a customer out of this run: one still open, or one of this month."""
    return IdDocumentRenewal.objects.filter(Q(closed_at__isnull=True) | Q(period=period))


def id_expiry_run(*, today: date | None = None) -> dict[str, Any]:
    """Open one update task per expiring customer, at the customer's org unit. Idempotent: a
    customer with an open renewal, or one already opened this month, is skipped (the customer
    row is locked while deciding, so two concurrent runs cannot both open one)."""
    today = today or timezone.localdate()
    period = today.strftime("%Y-%m")
    candidates = list(
        expiring_customers(today=today)
        .exclude(pk__in=_busy(period).values("customer_id"))
        .order_by("org_unit_id", "id")
        .values_list("id", flat=True)
    )
    opened: dict[int, list[int]] = {}
    for customer_id in candidates:
        with transaction.atomic():
            customer = (
                Customer.objects.select_for_update(of=("self",))
                .select_related("org_unit")
                .get(pk=customer_id)
            )
            if (
                _busy(period).filter(customer=customer).exists()
                or customer.id_valid_long_term
                or customer.id_valid_until is None
            ):
                continue
            renewal = IdDocumentRenewal.objects.create(
                customer=customer,
                org_unit=customer.org_unit,
                period=period,
                valid_until=customer.id_valid_until,
                expired=customer.id_valid_until < today,
            )
            renewal.process_instance = process_instance_start(
                actor=None,
                key=RENEWAL_PROCESS,
                org_unit=customer.org_unit,
                data={"case_id": renewal.pk, "customer_id": customer.pk},
                subject_type=RENEWAL_CASE,
                subject_id=renewal.pk,
            )
            renewal.save(update_fields=["process_instance"])
            opened.setdefault(customer.org_unit_id, []).append(customer.pk)
    for unit_id, customer_ids in opened.items():
        unit = OrgUnit.objects.get(pk=unit_id)
        audit_event_record(
            actor=None,
            action="customer.id_expiry_listed",
            obj=unit,
            org_unit=unit,
            data={"period": period, "customers": customer_ids},
        )
    return {"period": period, "opened": sum(len(v) for v in opened.values())}


def id_renewal_clean(data: dict, context: Any) -> dict:
    """Validator of form customers/id_document_renewal: "amendment requested" needs an
    amendment of the customer's document validity made since the task opened; the other
    outcomes need a note."""
    renewal = IdDocumentRenewal.objects.select_related("customer").get(pk=context.task.case_id)
    notes = str(data.get("notes") or "").strip()
    outcome = data.get("outcome")
    if outcome == RenewalOutcome.AMENDMENT_REQUESTED:
        made = CustomerAmendment.objects.filter(
            customer=renewal.customer,
            created_at__gte=renewal.created_at,
            status__in=[AmendmentStatus.PENDING, AmendmentStatus.APPLIED],
            changes__has_key="id_valid_until",
        )
        if not made.exists():
            raise ValidationFailed.field(
                "outcome",
                _(
                    "尚未找到该客户的证件有效期修改申请：请先在客户页面提交修改申请（填写新的证件有效期），再选择此项。"
                ),
                code="no_amendment",
            )
    elif not notes:
        raise ValidationFailed.field("notes", _("请填写处理记录。"), code="notes_required")
    return {**data, "notes": notes}


def id_renewal_record(*, actor, case_id: Any, data: dict) -> dict:
    renewal = (
        IdDocumentRenewal.objects.select_for_update()
        .select_related("customer", "org_unit")
        .get(pk=int(case_id))
    )
    renewal.outcome = str(data.get("outcome") or "")
    renewal.notes = str(data.get("notes") or "")
    renewal.closed_at = timezone.now()
    renewal.save(update_fields=["outcome", "notes", "closed_at"])
    audit_event_record(
        actor=actor,
        action="customer.id_renewal_recorded",
        obj=renewal.customer,
        org_unit=renewal.org_unit,
        data={"renewal": renewal.pk, "outcome": renewal.outcome},
    )
    return {"outcome": renewal.outcome}

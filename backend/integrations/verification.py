"""抽样核实: every month a configurable share of each branch's new and changed customers is
drawn for a verification call, together with every customer not verified for
`CUSTFLOW["VERIFY_AFTER_DAYS"]`; "wrong" starts an amendment; "unreachable" opens a follow-up
(retry, letter, visit) with its own deadline, and the last allowed failure marks the customer
unreachable (data-quality page)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, ValidationFailed
from backend.customers.amendments import customer_amendment_request, customer_changes_clean
from backend.customers.models import Customer, CustomerStatus
from backend.integrations.models import FollowUpMethod, SampleReason, VerificationResult, VerificationSample
from backend.organisation.models import OrgUnit
from processes.models import InstanceStatus
from processes.services import process_instance_start

VERIFICATION_PROCESS = "sample_verification"
CONTACT_FIELDS = ("phone", "address", "email")


def previous_period(today: date) -> str:
    first = today.replace(day=1)
    return f"{(first - timedelta(days=1)):%Y-%m}"


def _period_bounds(period: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise ValidationFailed.field("period", _("月份格式应为 YYYY-MM")) from None
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def stale_customers_q(*, now: datetime | None = None) -> Q:
    """Customers due for verification: not verified for VERIFY_AFTER_DAYS (never verified:
    opened that long ago)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CUSTFLOW["VERIFY_AFTER_DAYS"])
    return Q(last_verified_at__lt=cutoff) | Q(last_verified_at__isnull=True, created_at__lt=cutoff)


def _busy_customer_ids():
    """Customers with a verification still running (a call or its follow-ups), or marked
    unreachable within the freshness window: drawing them again would only duplicate work."""
    cutoff = timezone.now() - timedelta(days=settings.CUSTFLOW["VERIFY_AFTER_DAYS"])
    return VerificationSample.objects.filter(
        Q(closed_at__isnull=True, process_instance__status=InstanceStatus.RUNNING)
        | Q(unreachable_at__gte=cutoff)
    ).values("customer_id")


def sample_verification_run(*, period: str | None = None, share: float | None = None) -> dict[str, int]:
    """Draw the month's sample per org unit and start one verification task per customer: the
    configured share of the month's new and changed customers, plus every customer whose data
    is stale (VERIFY_AFTER_DAYS). Idempotent: an org unit already sampled for the period is
    skipped (its row is locked while it is sampled, so two concurrent runs cannot both draw)."""
    period = period or previous_period(timezone.localdate())
    share = settings.CUSTFLOW["SAMPLE_VERIFICATION_SHARE"] if share is None else share
    start, end = _period_bounds(period)
    active = Customer.objects.filter(status=CustomerStatus.ACTIVE).exclude(pk__in=_busy_customer_ids())
    changed = active.filter(
        Q(created_at__gte=start, created_at__lt=end) | Q(updated_at__gte=start, updated_at__lt=end)
    )
    stale = active.filter(stale_customers_q()).exclude(pk__in=changed.values("pk"))
    unit_ids = sorted(
        set(changed.values_list("org_unit_id", flat=True)) | set(stale.values_list("org_unit_id", flat=True))
    )
    created = 0
    for unit_id in unit_ids:
        with transaction.atomic():
            unit = OrgUnit.objects.select_for_update().get(pk=unit_id)
            if VerificationSample.objects.filter(period=period, org_unit=unit).exists():
                continue
            ids = sorted(changed.filter(org_unit=unit).values_list("id", flat=True))
            size = max(1, round(len(ids) * share)) if ids and share > 0 else 0
            drawn = sorted(random.Random(f"{period}:{unit.code}").sample(ids, min(size, len(ids))))
            due = sorted(stale.filter(org_unit=unit).values_list("id", flat=True))
            picks = [(cid, SampleReason.CHANGED) for cid in drawn] + [
                (cid, SampleReason.STALE) for cid in due
            ]
            for customer_id, reason in picks:
                sample = VerificationSample.objects.create(
                    period=period, customer_id=customer_id, org_unit=unit, reason=reason
                )
                sample.process_instance = process_instance_start(
                    actor=None,
                    key=VERIFICATION_PROCESS,
                    org_unit=unit,
                    data={"case_id": sample.pk, "customer_id": customer_id},
                    subject_type="integrations.verificationsample",
                    subject_id=sample.pk,
                )
                sample.save(update_fields=["process_instance"])
                created += 1
            audit_event_record(
                actor=None,
                action="verification.sampled",
                obj=unit,
                org_unit=unit,
                data={"period": period, "drawn": drawn, "of": len(ids), "stale": due},
            )
    return {"period": period, "created": created}


def verification_call_clean(data: dict, context: Any) -> dict:
    """Validator of form integrations/verification_call: "wrong" needs notes and the correct
    contact data, checked by the amendment rules now rather than after the call."""
    sample = VerificationSample.objects.select_related("customer").get(pk=context.task.case_id)
    result = data.get("result")
    notes = str(data.get("notes") or "").strip()
    if result == VerificationResult.WRONG:
        if not notes:
            raise ValidationFailed.field("notes", _("信息有误时请填写核实记录"))
        proposed = {f: data[f] for f in CONTACT_FIELDS if str(data.get(f) or "").strip()}
        if not proposed:
            raise ValidationFailed.field("phone", _("请至少填写一项正确的联系信息"))
        customer_changes_clean(customer=sample.customer, proposed=proposed)
    return {**data, "notes": notes}


def verification_followup_clean(data: dict, context: Any) -> dict:
    """Validator of form integrations/verification_call_followup: how the customer was sought
    (retry, letter, visit), then the rules of the call itself."""
    if data.get("method") not in FollowUpMethod.values:
        raise ValidationFailed.field("method", _("请选择跟进方式"))
    return verification_call_clean(data, context)


def verification_record(*, actor, case_id: Any, data: dict) -> dict:
    """Record a call's (or follow-up's) result. Unreachable: the sample stays open and the
    process opens a follow-up task, until the VERIFY_UNREACHABLE_ATTEMPTS-th failure closes it
    and marks the customer unreachable."""
    sample = (
        VerificationSample.objects.select_for_update(of=("self",))
        .select_related("customer", "org_unit")
        .get(pk=int(case_id))
    )
    if sample.closed_at:
        raise Conflict(_("该核实任务已记录结果"), code="already_recorded")
    now = timezone.now()
    sample.result = str(data.get("result") or "")
    notes = str(data.get("notes") or "")
    method = str(data.get("method") or "")
    sample.notes = f"{sample.notes}\n{notes}".strip() if sample.attempts else notes
    sample.follow_up_method = method if method in FollowUpMethod.values else sample.follow_up_method
    sample.verified_by = actor if getattr(actor, "is_authenticated", False) else None
    follow_up = False
    customer = sample.customer
    with audit_batch():
        if sample.result == VerificationResult.CONFIRMED:
            locked = Customer.objects.select_for_update().get(pk=customer.pk)
            locked.last_verified_at = now
            locked.save(update_fields=["last_verified_at"])
        elif sample.result == VerificationResult.WRONG:
            proposed = {f: data[f] for f in CONTACT_FIELDS if str(data.get(f) or "").strip()}
            sample.amendment = customer_amendment_request(
                actor=actor,
                customer=customer,
                proposed=proposed,
                reason=_("抽样核实:%(notes)s") % {"notes": notes},
            )
        elif sample.result == VerificationResult.UNREACHABLE:
            sample.attempts += 1
            if sample.attempts >= settings.CUSTFLOW["VERIFY_UNREACHABLE_ATTEMPTS"]:
                sample.unreachable_at = now
            else:
                follow_up = True
        if not follow_up:
            sample.closed_at = now
        sample.save(
            update_fields=[
                "result",
                "notes",
                "verified_by",
                "closed_at",
                "amendment",
                "attempts",
                "follow_up_method",
                "unreachable_at",
            ]
        )
        audit_event_record(
            actor=actor,
            action="verification.unreachable_marked"
            if sample.unreachable_at
            else f"verification.{sample.result}",
            obj=customer,
            org_unit=sample.org_unit,
            data={
                "sample": sample.pk,
                "period": sample.period,
                "notes": notes,
                "method": method,
                "attempt": sample.attempts,
                "amendment": sample.amendment_id,
            },
        )
    return {"verification_result": sample.result, "follow_up": follow_up, "attempts": sample.attempts}

"""客户分群与预警: gathering each customer's figures, running the rules (`rules.py`) and keeping the
result; the branch thresholds' reviewed change (process `segment_threshold_change`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.cases import case_cancel, case_decide
from backend.common.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from backend.common.outbox import outbox_enqueue
from backend.organisation.models import OrgUnit, Role
from backend.organisation.selectors import user_role_assignments
from backend.policies.models import ANNUAL_PREMIUM, Claim, ClaimStatus, Policy, policies_in_force, policy_end
from backend.segments.models import ChangeStatus, CustomerSegment, SegmentThresholds, ThresholdChange
from backend.segments.rules import (
    CustomerFigures,
    months_back,
    segments_judge,
    threshold_defaults,
    thresholds_clean,
)
from forms.validation import control_character_fields
from processes.services import process_instance_start

THRESHOLD_PROCESS = "segment_threshold_change"
THRESHOLD_CASE = "segments.thresholdchange"
ASSIGN_UNIT_JOB = "segments.assign_unit"
REASON_MAX = 500
# Who proposes a branch's thresholds: its officers and customer service (客服管理部); the head of
# the branch (机构负责人) approves.
PROPOSER_ROLES = frozenset({Role.OFFICER, Role.CUSTOMER_SERVICE})
APPROVER_ROLE = Role.UNIT_HEAD
DAYS_PER_YEAR = Decimal(365)


# ---- thresholds ---------------------------------------------------------------------------------


def _ancestor_paths(unit: OrgUnit) -> list[str]:
    parts = unit.path.rstrip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def thresholds_effective(unit: OrgUnit) -> tuple[dict[str, str], SegmentThresholds | None]:
    """The values that judge the customers of `unit`: the newest version of the unit itself or of
    its nearest ancestor that has one; the defaults (no row) otherwise."""
    rows = list(
        SegmentThresholds.objects.select_related("org_unit")
        .filter(org_unit__path__in=_ancestor_paths(unit))
        .order_by("-version")
    )
    if not rows:
        return threshold_defaults(), None
    nearest = max(rows, key=lambda r: (len(r.org_unit.path), r.version))
    return {**threshold_defaults(), **nearest.values}, nearest


def thresholds_own_version(unit: OrgUnit) -> int:
    row = SegmentThresholds.objects.filter(org_unit=unit).order_by("-version").first()
    return row.version if row else 0


# ---- figures and the run -----------------------------------------------------------------------


def _figures(customer_ids: Iterable[int], *, today: date, window_months: int) -> dict[int, CustomerFigures]:
    ids = list(customer_ids)
    figures: dict[int, CustomerFigures] = defaultdict(CustomerFigures)
    window_start = months_back(today, window_months)
    rows = (
        Policy.objects.filter(policyholder_id__in=ids)
        .annotate(annual=ANNUAL_PREMIUM)
        .values_list("policyholder_id", "annual", "effective_date", "term_months", "status")
    )
    in_force = dict(
        policies_in_force(Policy.objects.filter(policyholder_id__in=ids), today)
        .values("policyholder_id")
        .annotate(total=Sum(ANNUAL_PREMIUM))
        .values_list("policyholder_id", "total")
    )
    for customer_id, annual, effective, term, _status in rows:
        fig = figures[customer_id]
        if fig.first_policy_on is None or effective < fig.first_policy_on:
            fig.first_policy_on = effective
        start, end = max(effective, window_start), min(policy_end(effective, term), today)
        if end > start:
            fig.premium_earned += Decimal(annual or 0) * Decimal((end - start).days) / DAYS_PER_YEAR
    for customer_id, total in in_force.items():
        figures[customer_id].premium_in_force = Decimal(total or 0)
    claims = (
        Claim.objects.filter(customer_id__in=ids)
        .exclude(status=ClaimStatus.WITHDRAWN)
        .values_list("customer_id", "occurred_on", "amount_paid", "status")
    )
    for customer_id, occurred, paid, status in claims:
        fig = figures[customer_id]
        fig.claim_dates.append(occurred)
        if occurred >= window_start and status != ClaimStatus.DECLINED:
            fig.paid_in_window += paid
    return figures


def _branch_premium(unit: OrgUnit, today: date) -> Decimal:
    total = policies_in_force(Policy.objects.filter(policyholder__org_unit=unit), today).aggregate(
        total=Sum(ANNUAL_PREMIUM)
    )["total"]
    return Decimal(total or 0)


def _judge_unit(unit: OrgUnit, customer_ids: list[int], *, today: date) -> list[CustomerSegment]:
    thresholds, version = thresholds_effective(unit)
    figures = _figures(customer_ids, today=today, window_months=int(thresholds["loss_ratio_window_months"]))
    branch = _branch_premium(unit, today)
    now = timezone.now()
    results = []
    for customer_id in customer_ids:
        segments, alerts = segments_judge(
            figures.get(customer_id) or CustomerFigures(), thresholds, branch_premium=branch, branch_name=unit.name, today=today
        )
        codes = {s["code"] for s in segments}
        results.append(
            CustomerSegment(
                customer_id=customer_id,
                org_unit=unit,
                segments=segments,
                alerts=alerts,
                good="good" in codes,
                key="key" in codes,
                alerted=bool(alerts),
                thresholds_version=version.version if version else 0,
                computed_at=now,
            )
        )
    return results


def _store(results: list[CustomerSegment]) -> None:
    CustomerSegment.objects.bulk_create(
        results,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=["org_unit", "segments", "alerts", "good", "key", "alerted", "thresholds_version", "computed_at"],
        batch_size=500,
    )


def customer_segment_refresh(customer, *, today: date | None = None) -> CustomerSegment:
    """Judge one customer now (after a claim arrives, say)."""
    today = today or timezone.localdate()
    (result,) = _judge_unit(customer.org_unit, [customer.pk], today=today)
    _store([result])
    return CustomerSegment.objects.get(customer_id=customer.pk)


CHUNK = 2000


def segments_assign_unit(unit: OrgUnit, *, today: date | None = None) -> int:
    """Judge every customer of `unit` who holds a policy or was judged before; returns the count."""
    today = today or timezone.localdate()
    holders = set(Policy.objects.filter(policyholder__org_unit=unit).values_list("policyholder_id", flat=True))
    holders |= set(CustomerSegment.objects.filter(customer__org_unit=unit).values_list("customer_id", flat=True))
    ids = sorted(holders)
    for start in range(0, len(ids), CHUNK):
        with transaction.atomic():
            _store(_judge_unit(unit, ids[start : start + CHUNK], today=today))
    return len(ids)


def segments_assign_all(*, today: date | None = None, under: OrgUnit | None = None) -> int:
    """The nightly run (every unit, or the subtree `under`): returns the customers judged."""
    units = OrgUnit.objects.all() if under is None else OrgUnit.objects.filter(path__startswith=under.path)
    return sum(segments_assign_unit(unit, today=today) for unit in units)


# ---- the reviewed change of a branch's thresholds -----------------------------------------------


def user_may_propose_thresholds(user, unit: OrgUnit) -> bool:
    return any(
        ra.role in PROPOSER_ROLES and unit.path.startswith(ra.org_unit.path) for ra in user_role_assignments(user)
    )


def threshold_units_for(user) -> list[OrgUnit]:
    """The units whose thresholds the user may propose (his proposer units and their subtrees)."""
    paths = [ra.org_unit.path for ra in user_role_assignments(user) if ra.role in PROPOSER_ROLES]
    if not paths:
        return []
    units = OrgUnit.objects.all().order_by("path")
    return [u for u in units if any(u.path.startswith(p) for p in paths)]


def _unit_for(actor, code: Any) -> OrgUnit:
    text = code.strip() if isinstance(code, str) else ""
    if not text:
        units = threshold_units_for(actor)
        if not units:
            raise Forbidden(_("只有客户信息管理岗或客服管理部可以申请调整分群阈值"), code="thresholds_not_allowed")
        return units[0]
    unit = OrgUnit.objects.filter(code=text[:32]).first()
    if unit is None or not any(unit.path.startswith(ra.org_unit.path) for ra in user_role_assignments(actor)):
        raise ValidationFailed.field("org_unit", _("机构不存在"), code="org_unit_not_found")
    if not user_may_propose_thresholds(actor, unit):
        raise Forbidden(_("只有该机构的客户信息管理岗或客服管理部可以申请调整分群阈值"), code="thresholds_not_allowed")
    return unit


def threshold_change_request(*, actor, data: Any) -> ThresholdChange:
    """Propose new thresholds for a branch (the fields not given keep their current values)."""
    get = data.get if isinstance(data, dict) else (lambda _name, _default=None: None)
    if not isinstance(data, dict):
        raise ValidationFailed.field("non_field_errors", _("请求体须为 JSON 对象"))
    unit = _unit_for(actor, get("org_unit"))
    current, _row = thresholds_effective(unit)
    errors: dict[str, list[str]] = {}
    reason = get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        errors["reason"] = [_("请填写调整理由")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("理由不能超过 %(n)s 个字符") % {"n": REASON_MAX}]
    elif control_character_fields(reason):
        errors["reason"] = [_("不能包含控制字符")]
    try:
        values = thresholds_clean(data, current)
    except ValidationFailed as exc:
        raise ValidationFailed("", field_errors={**exc.field_errors, **errors}, code="invalid_thresholds") from None
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_thresholds")
    try:
        with transaction.atomic(), audit_batch():
            case = ThresholdChange.objects.create(
                org_unit=unit,
                values=values,
                base_version=thresholds_own_version(unit),
                reason=reason,
                requested_by=actor,
            )
            audit_event_record(
                actor=actor,
                action="segment_thresholds.change_requested",
                obj=case,
                org_unit=unit,
                data={"values": values, "current": current},
            )
            instance = process_instance_start(
                actor=actor,
                key=THRESHOLD_PROCESS,
                org_unit=unit,
                data={"case_id": case.pk},
                subject_type=THRESHOLD_CASE,
                subject_id=case.pk,
            )
            case.process_instance = instance
            case.save(update_fields=["process_instance"])
    except IntegrityError:
        raise Conflict(_("该机构已有一笔审批中的阈值调整"), code="threshold_change_pending") from None
    return ThresholdChange.objects.select_related("org_unit", "requested_by").get(pk=case.pk)


def _locked(case_id: Any) -> ThresholdChange:
    try:
        return ThresholdChange.objects.select_for_update(of=("self",)).select_related("org_unit").get(pk=int(case_id))
    except (ThresholdChange.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("阈值调整不存在"), code="threshold_change_not_found") from None


def _check_decider(actor, case: ThresholdChange) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Forbidden(_("阈值调整须由机构负责人审批"), code="not_unit_head")
    if actor.pk == case.requested_by_id:
        raise Forbidden(_("不能审批本人提出的阈值调整"), code="self_approval")
    if not any(
        ra.role == APPROVER_ROLE and case.org_unit.path.startswith(ra.org_unit.path) for ra in user_role_assignments(actor)
    ):
        raise Forbidden(_("阈值调整须由该机构的负责人审批"), code="not_unit_head")


def threshold_change_approve(*, actor, case_id: Any, comment: str = "") -> dict:
    case = _locked(case_id)
    if case.status != ChangeStatus.PENDING:
        raise Conflict(_("该阈值调整已办结"), code="threshold_change_closed")
    _check_decider(actor, case)
    version = thresholds_own_version(case.org_unit) + 1
    if version - 1 != case.base_version:
        raise Conflict(_("该机构的阈值已被另一笔调整修改，请拒绝后重新申请"), code="threshold_change_stale")
    now = timezone.now()
    row = SegmentThresholds.objects.create(
        org_unit=case.org_unit, version=version, values=case.values, change=case, approved_by=actor, effective_from=now
    )
    case_decide(case, status=ChangeStatus.APPROVED, actor=actor, comment=comment)
    audit_event_record(
        actor=actor,
        action="segment_thresholds.approved",
        obj=case,
        org_unit=case.org_unit,
        data={"version": version, "values": case.values},
    )
    # The branch's customers are judged again by the new version once this commits.
    outbox_enqueue(job=ASSIGN_UNIT_JOB, args=[case.org_unit_id], key=f"{ASSIGN_UNIT_JOB}:{row.pk}", fresh=True)
    return {"status": str(case.status), "version": version}


def threshold_change_reject(*, actor, case_id: Any, comment: str) -> dict:
    case = _locked(case_id)
    if case.status != ChangeStatus.PENDING:
        raise Conflict(_("该阈值调整已办结"), code="threshold_change_closed")
    _check_decider(actor, case)
    case_decide(case, status=ChangeStatus.REJECTED, actor=actor, comment=comment)
    audit_event_record(actor=actor, action="segment_thresholds.rejected", obj=case, org_unit=case.org_unit, data={"reason": comment})
    return {"status": str(case.status)}


def threshold_change_cancel(*, actor, case_id: Any, reason: str, withdrawn: bool) -> None:
    case = _locked(case_id)
    case_cancel(case, status=ChangeStatus.CANCELLED, reason=reason)
    audit_event_record(
        actor=actor, action="segment_thresholds.cancelled", obj=case, org_unit=case.org_unit, data={"reason": reason, "withdrawn": withdrawn}
    )

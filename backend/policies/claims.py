"""理赔 (claims) as the claims system reports them: the rules for one claim record. The
integration around it (the API client, its key, idempotency) is `backend.integrations.claims`;
the segment and alert rules that read claims are `backend.segments`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import ValidationFailed
from backend.organisation.models import OrgUnit
from backend.policies.models import Claim, ClaimStatus, Policy
from forms.validation import control_character_fields

CLAIM_FIELDS = (
    "claim_number",
    "policy_number",
    "occurred_on",
    "reported_on",
    "status",
    "amount_claimed",
    "amount_paid",
    "cause",
)
CLAIM_NUMBER_MAX = 32
CAUSE_MAX = 200
AMOUNT_MAX = Decimal("999999999999.99")
CENT = Decimal("0.01")
# A declined or withdrawn claim pays nothing.
UNPAID_STATUSES = frozenset({ClaimStatus.DECLINED, ClaimStatus.WITHDRAWN})


def _text(raw: Any) -> str:
    return raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw).strip())


def _day(raw: Any, field: str, errors: dict[str, list[str]], *, required: bool) -> date | None:
    text = _text(raw)
    if not text:
        if required:
            errors[field] = [_("请填写日期（YYYY-MM-DD）")]
        return None
    try:
        day = parse_date(text[:10]) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        errors[field] = [_("日期格式应为 YYYY-MM-DD")]
    return day


def _money(raw: Any, field: str, errors: dict[str, list[str]]) -> Decimal:
    text = _text(raw)
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text) if len(text) <= 20 else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        errors[field] = [_("金额格式不正确")]
        return Decimal(0)
    if value < 0 or value > AMOUNT_MAX or value != value.quantize(CENT):
        errors[field] = [_("金额须在 0 到 %(max)s 之间，最多两位小数") % {"max": AMOUNT_MAX}]
        return Decimal(0)
    return value.quantize(CENT)


def claim_clean(data: Any, *, scope: OrgUnit, today: date | None = None) -> tuple[dict[str, Any], Policy]:
    """Every field checked at once; a policy outside `scope`'s subtree reads as unknown."""
    if not isinstance(data, dict):
        raise ValidationFailed.field("non_field_errors", _("请求体须为 JSON 对象"))
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    bad = control_character_fields({k: data.get(k) for k in CLAIM_FIELDS if isinstance(data.get(k), str)})
    for field in bad:
        errors[field] = [_("不能包含控制字符")]
    number = _text(data.get("claim_number"))
    if not number:
        errors.setdefault("claim_number", [_("请填写赔案号")])
    elif len(number) > CLAIM_NUMBER_MAX or not number.isprintable():
        errors.setdefault("claim_number", [_("赔案号为 1–%(n)s 个可打印字符") % {"n": CLAIM_NUMBER_MAX}])
    policy_number = _text(data.get("policy_number"))
    policy = None
    if not policy_number:
        errors.setdefault("policy_number", [_("请填写保单号")])
    elif len(policy_number) <= 32 and "policy_number" not in errors:
        policy = (
            Policy.objects.select_related("policyholder", "org_unit")
            .filter(policy_number=policy_number, org_unit__path__startswith=scope.path)
            .first()
        )
    if policy is None and "policy_number" not in errors:
        errors["policy_number"] = [_("保单不存在")]
    occurred = _day(data.get("occurred_on"), "occurred_on", errors, required=True)
    reported = _day(data.get("reported_on"), "reported_on", errors, required=False) or (
        None if "reported_on" in errors else today
    )
    if occurred and occurred > today:
        errors["occurred_on"] = [_("出险日期不能晚于今天")]
    elif occurred and policy and not (policy.effective_date <= occurred < policy.end_date):
        errors["occurred_on"] = [
            _("出险日期不在保险期间内（%(start)s 至 %(end)s）")
            % {"start": policy.effective_date, "end": policy.end_date}
        ]
    if reported and reported > today:
        errors["reported_on"] = [_("报案日期不能晚于今天")]
    elif reported and occurred and reported < occurred:
        errors["reported_on"] = [_("报案日期不能早于出险日期")]
    status = _text(data.get("status")) or ClaimStatus.REPORTED
    if status not in ClaimStatus.values:
        errors["status"] = [_("赔案状态无效，可选：%(choices)s") % {"choices": "、".join(ClaimStatus.values)}]
    claimed = _money(data.get("amount_claimed"), "amount_claimed", errors)
    paid = _money(data.get("amount_paid"), "amount_paid", errors)
    if paid and status in UNPAID_STATUSES:
        errors.setdefault("amount_paid", [_("拒赔或撤案的赔案赔付金额应为 0")])
    cause = _text(data.get("cause"))
    if len(cause) > CAUSE_MAX:
        errors.setdefault("cause", [_("出险原因不能超过 %(n)s 个字符") % {"n": CAUSE_MAX}])
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_claim")
    fields = {
        "occurred_on": occurred,
        "reported_on": reported,
        "status": status,
        "amount_claimed": claimed,
        "amount_paid": paid,
        "cause": cause,
    }
    return {"claim_number": number, **fields}, policy


def claim_record(*, actor, source: str, scope: OrgUnit, data: Any) -> tuple[Claim, bool]:
    """Record a new claim, or the claim system's latest word on one we hold (same number, same
    policy: its status and amounts move on). Returns (claim, created)."""
    clean, policy = claim_clean(data, scope=scope)
    number = clean.pop("claim_number")
    with transaction.atomic():
        claim = Claim.objects.select_for_update().filter(claim_number=number).first()
        if claim is not None and claim.policy_id != policy.pk:
            raise ValidationFailed.field("claim_number", _("该赔案号已用于另一张保单"), code="claim_number_taken")
        created = claim is None
        if created:
            claim = Claim.objects.create(
                claim_number=number,
                policy=policy,
                customer=policy.policyholder,
                org_unit=policy.org_unit,
                source=source[:100],
                **clean,
            )
        else:
            for name, value in clean.items():
                setattr(claim, name, value)
            claim.save(update_fields=[*clean, "updated_at"])
        audit_event_record(
            actor=actor,
            action="claim.reported" if created else "claim.updated",
            obj=claim,
            org_unit=policy.org_unit,
            data={
                "policy": policy.policy_number,
                "status": clean["status"],
                "amount_paid": str(clean["amount_paid"]),
                "source": source[:100],
            },
        )
    return claim, created


def claim_view(claim: Claim) -> dict[str, Any]:
    return {
        "claim_number": claim.claim_number,
        "policy_number": claim.policy.policy_number,
        "customer_id": claim.customer_id,
        "occurred_on": claim.occurred_on.isoformat(),
        "reported_on": claim.reported_on.isoformat(),
        "status": str(claim.status),
        "amount_claimed": str(claim.amount_claimed),
        "amount_paid": str(claim.amount_paid),
        "cause": claim.cause,
    }

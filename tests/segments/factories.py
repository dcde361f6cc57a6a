"""Policies and claims for the segment tests, written straight to the tables (the rules read them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count

from backend.policies.models import Claim, ClaimStatus, Policy

_seq = count(1)


def policy_make(holder, *, premium="10000", effective=date(2018, 1, 1), term_months=360, mode="annual", status="in_force") -> Policy:
    n = next(_seq)
    return Policy.objects.create(
        policy_number=f"SEG-{n:06d}",
        product="测试寿险",
        policyholder=holder,
        insured=holder,
        effective_date=effective,
        term_months=term_months,
        sum_insured=Decimal("100000"),
        premium=Decimal(premium),
        payment_mode=mode,
        status=status,
        org_unit=holder.org_unit,
    )


def claim_make(policy, *, occurred, paid="0", status=ClaimStatus.SETTLED) -> Claim:
    n = next(_seq)
    return Claim.objects.create(
        claim_number=f"CLM-{n:06d}",
        policy=policy,
        customer=policy.policyholder,
        org_unit=policy.org_unit,
        occurred_on=occurred,
        reported_on=occurred,
        status=status,
        amount_paid=Decimal(paid),
        source="test",
    )

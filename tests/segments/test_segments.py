"""客户分群与预警: the nightly rules (优质客户, 大客户, 多次理赔, 高赔付率) with their reasons, by the
thresholds of the customer's branch (the nearest unit above him that has a version)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from backend.organisation.models import OrgUnit
from backend.segments.jobs import assign_nightly
from backend.segments.models import CustomerSegment, SegmentThresholds
from backend.segments.rules import THRESHOLDS, months_back, threshold_defaults
from backend.segments.services import customer_segment_refresh, segments_assign_all, thresholds_effective
from tests.customers.factories import customer_make
from tests.segments.factories import claim_make, policy_make

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 7)


def _codes(customer):
    row = CustomerSegment.objects.get(customer=customer)
    return sorted(s["code"] for s in row.segments), sorted(a["code"] for a in row.alerts), row


def test_a_long_standing_customer_without_claims_is_good(demo):
    loyal = customer_make()
    policy_make(loyal, effective=date(2019, 3, 1))
    newcomer = customer_make()
    policy_make(newcomer, effective=date(2025, 3, 1))
    segments_assign_all(today=TODAY)
    segments, alerts, row = _codes(loyal)
    assert "good" in segments and alerts == []
    assert "近 3 年无理赔" in row.segments[0]["reasons"][0] and row.good
    assert "good" not in _codes(newcomer)[0]


def test_a_recent_claim_takes_good_away_unless_the_loss_ratio_stays_very_low(demo):
    small = customer_make()
    p1 = policy_make(small, premium="100000", effective=date(2019, 1, 1))
    claim_make(p1, occurred=date(2026, 5, 1), paid="1000")  # 1000 / 300000 earned: 0.3 %
    big = customer_make()
    p2 = policy_make(big, premium="1000", effective=date(2019, 1, 1))
    claim_make(p2, occurred=date(2026, 5, 1), paid="1000")  # 1000 / 3000: 33 %
    segments_assign_all(today=TODAY)
    segments, _alerts, row = _codes(small)
    assert "good" in segments and "赔付率" in row.segments[0]["reasons"][0]
    assert "good" not in _codes(big)[0]


def test_the_key_customer_holds_a_large_share_of_his_branch_premium(demo):
    whale = customer_make()
    policy_make(whale, premium="90000")
    for _ in range(3):
        policy_make(customer_make(), premium="1000")
    segments_assign_all(today=TODAY)
    segments, _a, row = _codes(whale)
    assert "key" in segments and row.key
    reason = next(s for s in row.segments if s["code"] == "key")["reasons"][0]
    assert "96.8%" in reason  # 90000 of 93000
    lapsed = customer_make()
    policy_make(lapsed, premium="500000", status="lapsed")
    segments_assign_all(today=TODAY)
    assert "key" not in _codes(lapsed)[0]


def test_alerts_count_claims_in_the_window_and_the_loss_ratio(demo):
    holder = customer_make()
    policy = policy_make(holder, premium="2000", effective=date(2024, 1, 1))
    for months in (1, 4, 7):
        claim_make(policy, occurred=months_back(TODAY, months), paid="2000")
    segments_assign_all(today=TODAY)
    _s, alerts, row = _codes(holder)
    assert alerts == ["high_loss_ratio", "multiple_claims"], row.alerts
    assert row.alerted
    old_only = customer_make()
    policy2 = policy_make(old_only, premium="2000", effective=date(2019, 1, 1))
    for months in (13, 14, 15):  # outside the 12-month window
        claim_make(policy2, occurred=months_back(TODAY, months), paid="0", status="declined")
    segments_assign_all(today=TODAY)
    assert _codes(old_only)[1] == []


def test_a_withdrawn_claim_does_not_count(demo):
    holder = customer_make()
    policy = policy_make(holder, effective=date(2019, 1, 1))
    for months in (1, 2, 3):
        claim_make(policy, occurred=months_back(TODAY, months), status="withdrawn")
    segments_assign_all(today=TODAY)
    segments, alerts, _row = _codes(holder)
    assert alerts == [] and "good" in segments


def test_the_branch_thresholds_judge_and_the_nearest_version_wins(demo):
    holder = customer_make()
    policy = policy_make(holder, premium="100000", effective=date(2024, 1, 1))
    for months in (1, 2):
        claim_make(policy, occurred=months_back(TODAY, months))
    segments_assign_all(today=TODAY)
    assert _codes(holder)[1] == []  # 2 claims: under the default 3
    gd, sz = OrgUnit.objects.get(code="GD"), OrgUnit.objects.get(code="GD-SZ")
    SegmentThresholds.objects.create(org_unit=gd, version=1, values={**threshold_defaults(), "alert_claims_count": "2"}, effective_from=timezone.now())
    assert thresholds_effective(sz)[0]["alert_claims_count"] == "2"
    segments_assign_all(today=TODAY)
    _s, alerts, row = _codes(holder)
    assert alerts == ["multiple_claims"] and row.thresholds_version == 1
    SegmentThresholds.objects.create(org_unit=sz, version=1, values={**threshold_defaults(), "alert_claims_count": "5"}, effective_from=timezone.now())
    customer_segment_refresh(holder, today=TODAY)
    assert _codes(holder)[1] == []


def test_a_customer_without_policies_is_not_judged_and_the_job_runs(demo):
    customer_make()
    policy_make(customer_make())
    assert assign_nightly() == 1
    assert CustomerSegment.objects.count() == 1


def test_the_defaults_are_inside_their_ranges():
    for t in THRESHOLDS:
        assert t.minimum <= t.default <= t.maximum, t.name


def test_months_back_clamps_to_the_month_end():
    assert months_back(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert months_back(date(2026, 1, 15), 13) == date(2024, 12, 15)
    assert months_back(date(2024, 2, 29), 12) == date(2023, 2, 28)

"""客户分群 page and the customer page's 客户分群与预警 section: who sees them, what they show, and
the proposal form's errors next to the fields."""

from __future__ import annotations

from datetime import date

import pytest

from backend.segments.models import ThresholdChange
from backend.segments.services import segments_assign_all
from tests.customers.factories import customer_make
from tests.segments.factories import claim_make, policy_make

pytestmark = pytest.mark.django_db


def test_the_customer_page_shows_segments_and_alerts_with_reasons(login):
    customer = customer_make()
    policy_make(customer, effective=date(2019, 1, 1))
    client = login("officer.sz")
    before = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="segment-pending"' in before
    segments_assign_all()
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="segment-good"' in html and "近 3 年无理赔" in html
    assert 'data-testid="head-segment-good"' in html


def test_the_segments_page_lists_alerted_customers_masked_and_in_scope(login):
    mine = customer_make(name="王大明")
    policy = policy_make(mine, effective=date(2024, 1, 1))
    for month in (1, 2, 3):
        claim_make(policy, occurred=date(2026, month, 5))
    other = customer_make("GD-GZ", name="李广州")
    policy2 = policy_make(other, effective=date(2024, 1, 1))
    for month in (1, 2, 3):
        claim_make(policy2, occurred=date(2026, month, 5))
    segments_assign_all(today=date(2026, 6, 1))
    client = login("officer.sz")
    html = client.get("/segments/").content.decode()
    assert "王*明" in html and "王大明" not in html
    assert "李*州" not in html  # another branch's customer
    assert client.get("/segments/?org_unit=GD-GZ").status_code == 404
    client = login("collector.sz")
    assert client.get("/segments/").status_code == 403


def test_an_out_of_range_threshold_comes_back_next_to_the_field(login):
    client = login("officer.sz")
    resp = client.post("/segments/", {"org_unit": "GD-SZ", "alert_claims_count": "99", "reason": "调整"})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "须在 2次 到 50次 之间" in html and 'value="99"' in html
    assert not ThresholdChange.objects.exists()
    ok = client.post("/segments/", {"org_unit": "GD-SZ", "alert_claims_count": "2", "reason": "调整"})
    assert ok.status_code == 302 and ThresholdChange.objects.count() == 1


def test_the_head_and_compliance_read_but_do_not_propose(login):
    client = login("head.sz")
    html = client.get("/segments/").content.decode()
    assert 'data-testid="threshold-table"' in html and 'data-testid="threshold-form"' not in html
    resp = client.post("/segments/", {"org_unit": "GD-SZ", "alert_claims_count": "2", "reason": "调整"})
    assert resp.status_code == 403
    assert not ThresholdChange.objects.exists()

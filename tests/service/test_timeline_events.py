"""客户动态 (issue 20 item 2: the dynamic part — visits, changes, events): a customer's major events
and his claims join his timeline, each only for those who may see it."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from tests.customers.factories import customer_make
from tests.segments.factories import claim_make, policy_make

pytestmark = pytest.mark.django_db


def _types(api, username, customer):
    resp = api(username).get(f"/api/customers/{customer.pk}/timeline/")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {r["type"]: r for r in rows}


def test_a_major_event_and_a_claim_show_in_the_timeline(api):
    customer = customer_make()
    policy = policy_make(customer, effective=date(2020, 1, 1))
    claim_make(policy, occurred=date(2026, 3, 1), paid="1200")
    reported = api("manager.sz").post("/api/major-events/", {
        "customer_id": customer.pk, "kind": "large_claim", "occurred_on": timezone.localdate().isoformat(), "description": "客户车辆全损",
    }, format="json")
    assert reported.status_code == 201, reported.content
    seen = _types(api, "officer.sz", customer)
    assert "重大事件" in seen["event"]["title"] and seen["event"]["detail"] == "客户车辆全损"
    assert policy.policy_number in seen["claim"]["title"] and "1200" in seen["claim"]["outcome"]


def test_a_major_event_stays_hidden_from_those_who_may_not_read_it(api):
    customer = customer_make()
    api("manager.sz").post("/api/major-events/", {
        "customer_id": customer.pk, "kind": "large_claim", "occurred_on": timezone.localdate().isoformat(), "description": "客户车辆全损",
    }, format="json")
    assert "event" not in _types(api, "collector.sz", customer)

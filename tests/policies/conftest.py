"""Fixtures of the policy tests: active customers opened through the API, a policy on them."""

from __future__ import annotations

from datetime import date

import pytest

from backend.customers.models import Customer
from tests.conftest import inbox
from tests.factories import resident_id


@pytest.fixture
def open_customer(submit, api):
    """open_customer(name) → an active advanced-level 深圳 customer (opened and approved)."""

    def _open(name: str = "王小明", birth: date = date(1985, 6, 15), phone: str = "13812345678") -> Customer:
        resp = submit("advanced", name=name, id_number=resident_id(birth=birth), phone=phone)
        assert resp.status_code == 201, resp.content
        body = resp.json()
        task = next(t for t in inbox(api("reviewer.sz")) if t["case_id"] == body["id"])
        done = api("reviewer.sz").post(
            f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json"
        )
        assert done.status_code == 200, done.content
        customer = Customer.objects.get(pk=body["customer_id"])
        assert customer.status == "active"
        return customer

    return _open


def policy_payload(holder: Customer, insured: Customer, **overrides) -> dict:
    data = {
        "policy_number": "P4403-2026-0001",
        "product": "安心终身寿险",
        "policyholder_id": holder.pk,
        "insured_id": insured.pk,
        "effective_date": "2026-01-01",
        "term_months": 240,
        "sum_insured": "500000.00",
        "premium": "12000.00",
        "payment_mode": "annual",
        "beneficiaries": [
            {
                "name": "王小红",
                "id_type": "resident_id",
                "id_number": resident_id(birth=date(2010, 3, 1)),
                "relationship": "child",
                "share": "60",
            },
            {
                "name": "李芳",
                "id_type": "resident_id",
                "id_number": resident_id(birth=date(1986, 8, 8)),
                "relationship": "spouse",
                "share": "40",
            },
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def parties(open_customer):
    return open_customer("王小明"), open_customer("王大明", birth=date(1955, 2, 2), phone="13912345678")


@pytest.fixture
def policy(api, parties):
    holder, insured = parties
    resp = api("collector.sz").post("/api/policies/", policy_payload(holder, insured), format="json")
    assert resp.status_code == 201, resp.content
    return resp.json()

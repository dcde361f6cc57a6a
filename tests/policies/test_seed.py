"""`seed_demo --with-policies`: a few demo policies on active demo customers, idempotent."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from backend.customers.models import Customer
from backend.policies.models import Policy

pytestmark = pytest.mark.django_db


def test_seed_demo_with_policies_is_idempotent(db):
    call_command("seed_demo", stdout=io.StringIO())
    assert Policy.objects.count() == 0 and Customer.objects.count() == 0
    for _ in range(2):
        call_command("seed_demo", "--with-policies", stdout=io.StringIO())
    assert sorted(Policy.objects.values_list("policy_number", flat=True)) == [
        "DEMO-SZ-0001",
        "DEMO-SZ-0002",
        "DEMO-SZ-0003",
    ]
    assert Customer.objects.count() == 4
    assert set(Customer.objects.values_list("status", flat=True)) == {"active"}
    first = Policy.objects.get(policy_number="DEMO-SZ-0001")
    assert list(first.beneficiaries.values_list("relationship", "share")) == [
        ("spouse", 50),
        ("child", 50),
    ]
    assert first.org_unit.code == "GD-SZ"

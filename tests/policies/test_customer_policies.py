"""customer_policies: a customer's policies as holder, insured and beneficiary, scoped."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from backend.customers.models import Customer
from backend.policies.selectors import customer_policies

pytestmark = pytest.mark.django_db


def numbers(rows):
    return [r["policy_number"] for r in rows]


def test_roles_of_a_customer_across_policies(db):
    call_command("seed_demo", "--with-policies", stdout=io.StringIO())
    users = get_user_model().objects
    father = Customer.objects.get(name="陈建国")
    son = Customer.objects.get(name="陈思远")
    got = customer_policies(user=users.get(username="reviewer.sz"), customer=father)
    assert sorted(numbers(got["holder"])) == ["DEMO-SZ-0001", "DEMO-SZ-0002"]
    assert numbers(got["insured"]) == ["DEMO-SZ-0001"]
    assert numbers(got["beneficiary"]) == ["DEMO-SZ-0002"]
    row = got["insured"][0]
    assert set(row) == {"id", "policy_number", "product", "status", "status_label", "effective_date"}
    assert (row["product"], row["status"], row["effective_date"]) == (
        "安心终身寿险",
        "in_force",
        "2025-07-01",
    )
    son_view = customer_policies(user=users.get(username="reviewer.gd"), customer=son)
    assert (numbers(son_view["holder"]), numbers(son_view["insured"]), numbers(son_view["beneficiary"])) == (
        [],
        ["DEMO-SZ-0002"],
        ["DEMO-SZ-0001"],
    )
    # 广州 sees none of 深圳's policies.
    assert customer_policies(user=users.get(username="reviewer.gz"), customer=father) == {
        "holder": [],
        "insured": [],
        "beneficiary": [],
    }


def test_customer_page_and_linkage_api_show_policies_by_role(api, policy, parties):
    holder, insured = parties
    body = api("reviewer.sz").get(f"/api/customers/{holder.pk}/linkage/").json()
    assert [p["policy_number"] for p in body["policies_by_role"]["holder"]] == [policy["policy_number"]]
    assert body["policies_by_role"]["insured"] == []
    insured_body = api("reviewer.sz").get(f"/api/customers/{insured.pk}/linkage/").json()
    assert [p["id"] for p in insured_body["policies_by_role"]["insured"]] == [policy["id"]]
    from django.test import Client

    client = Client()
    assert client.login(username="reviewer.sz", password="demo-pass-2026")
    page = client.get(f"/customers/{holder.pk}/").content.decode()
    assert f'data-testid="policy-{policy["id"]}"' in page and policy["policy_number"] in page

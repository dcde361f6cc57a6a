"""Issue 16 item 2: no policy is written or endorsed for a person on the active blacklist.

Creating a policy whose policyholder, insured or a named beneficiary is on the active
blacklist, or endorsing a policy so that (or while) one of them is, is refused with 400 and a
field message naming the list; nothing is written. A pending (not yet approved) entry does not
block."""

from __future__ import annotations

from datetime import date

import pytest

from backend.policies.models import Endorsement, Policy
from tests.customers.test_blacklist import approve_blacklist, propose
from tests.factories import resident_id
from tests.policies.conftest import policy_payload

pytestmark = pytest.mark.django_db


def blacklist(api, id_number: str) -> None:
    resp = propose(api, id_number=id_number, source="反洗钱名单")
    assert resp.status_code == 201, resp.content
    approve_blacklist(api, resp.json()["id"])


def assert_refused(resp, field: str) -> None:
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["code"] == "blacklisted"
    [message] = body[field]
    assert "黑名单" in message and "反洗钱名单" in message


@pytest.mark.parametrize("party", ["policyholder", "insured"])
def test_policy_for_a_blacklisted_party_is_refused(api, parties, party):
    holder, insured = parties
    blacklist(api, (holder if party == "policyholder" else insured).id_number)
    resp = api("collector.sz").post("/api/policies/", policy_payload(holder, insured), format="json")
    assert_refused(resp, party)
    assert Policy.objects.count() == 0


def test_policy_naming_a_blacklisted_beneficiary_is_refused(api, parties):
    holder, insured = parties
    payload = policy_payload(holder, insured)
    blacklist(api, payload["beneficiaries"][1]["id_number"])
    resp = api("collector.sz").post("/api/policies/", payload, format="json")
    assert_refused(resp, "beneficiaries.1")
    assert "beneficiaries.0" not in resp.json()
    assert Policy.objects.count() == 0


def test_a_pending_entry_does_not_block(api, parties):
    holder, insured = parties
    assert propose(api, id_number=holder.id_number).status_code == 201  # proposed, not approved
    resp = api("collector.sz").post("/api/policies/", policy_payload(holder, insured), format="json")
    assert resp.status_code == 201, resp.content


def test_endorsement_naming_a_blacklisted_beneficiary_is_refused(api, policy):
    listed = resident_id(birth=date(1990, 9, 9))
    blacklist(api, listed)
    resp = api("collector.sz").post(
        f"/api/policies/{policy['id']}/endorsements/",
        {
            "policy_changes": {
                "beneficiaries": [
                    {
                        "name": "赵黑",
                        "id_type": "resident_id",
                        "id_number": listed,
                        "relationship": "other",
                        "share": "100",
                    }
                ]
            },
            "reason": "变更受益人",
        },
        format="json",
    )
    assert_refused(resp, "beneficiaries.0")
    assert Endorsement.objects.count() == 0


def test_endorsement_changing_the_insured_to_a_blacklisted_id_is_refused(api, policy, parties):
    _holder, insured = parties
    listed = resident_id(birth=date(1955, 2, 2), serial=321)
    blacklist(api, listed)
    resp = api("collector.sz").post(
        f"/api/policies/{policy['id']}/endorsements/",
        {"customer_changes": {"insured": {"id_number": listed}}, "reason": "更正证件号码"},
        format="json",
    )
    assert_refused(resp, "insured")
    assert Endorsement.objects.count() == 0


def test_any_endorsement_of_a_policy_whose_holder_became_blacklisted_is_refused(api, policy, parties):
    holder, _insured = parties
    blacklist(api, holder.id_number)
    resp = api("collector.sz").post(
        f"/api/policies/{policy['id']}/endorsements/",
        {"policy_changes": {"payment_mode": "monthly"}, "reason": "改为月缴"},
        format="json",
    )
    assert_refused(resp, "policyholder")
    assert Endorsement.objects.count() == 0
    assert Policy.objects.get(pk=policy["id"]).payment_mode == "annual"

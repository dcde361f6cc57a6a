"""Nothing a user types into the policy and endorsement endpoints may produce a 5xx."""

from __future__ import annotations

import pytest

from backend.policies.models import Endorsement
from tests.policies.conftest import policy_payload

pytestmark = pytest.mark.django_db

JUNK = [
    None,
    "",
    " ",
    "null",
    "0",
    "-1",
    "9" * 40,
    "1e999999",
    "NaN",
    "Infinity",
    "💥" * 50,
    "\x00",
    "a" * 5000,
    [],
    {},
    [1],
    {"x": 1},
    12,
    1.5,
    True,
]


def test_policy_create_never_500s(api, parties):
    holder, insured = parties
    client = api("collector.sz")
    for field in (
        "policy_number",
        "product",
        "policyholder_id",
        "insured_id",
        "effective_date",
        "term_months",
        "sum_insured",
        "premium",
        "payment_mode",
        "beneficiaries",
    ):
        for value in JUNK:
            resp = client.post(
                "/api/policies/", policy_payload(holder, insured, **{field: value}), format="json"
            )
            assert resp.status_code < 500, (field, value, resp.content[:300])
    for value in JUNK:
        rows = [
            {
                "customer_id": value,
                "name": value,
                "id_type": value,
                "id_number": value,
                "relationship": value,
                "share": value,
            }
        ]
        resp = client.post(
            "/api/policies/", policy_payload(holder, insured, beneficiaries=rows), format="json"
        )
        assert resp.status_code < 500, (value, resp.content[:300])
    for body in [None, [], "text", 12, [1, 2]]:
        assert client.post("/api/policies/", body, format="json").status_code < 500
    for query in ("?customer=abc", "?customer=" + "9" * 40, "?customer=-1", "?page=abc", "?page=999"):
        assert client.get(f"/api/policies/{query}").status_code < 500


def test_endorsement_request_never_500s(api, policy):
    client = api("collector.sz")
    url = f"/api/policies/{policy['id']}/endorsements/"
    for value in JUNK:
        bodies = [
            {"customer_changes": value, "policy_changes": {}, "reason": "x"},
            {"customer_changes": {"policyholder": value}, "reason": "x"},
            {
                "customer_changes": {
                    "insured": {
                        "phone": value,
                        "name": value,
                        "birth_date": value,
                        "id_type": value,
                        "id_number": value,
                    }
                },
                "reason": "x",
            },
            {"policy_changes": value, "reason": "x"},
            {
                "policy_changes": {"payment_mode": value, "sum_insured": value, "premium": value},
                "reason": "x",
            },
            {
                "policy_changes": {
                    "beneficiaries": [{"customer_id": value, "share": value, "relationship": value}]
                },
                "reason": "x",
            },
        ]
        if value != []:  # an empty list is a real change: beneficiaries by law (法定受益人)
            bodies.append({"policy_changes": {"beneficiaries": value}, "reason": "x"})
        for body in bodies:
            resp = client.post(url, body, format="json")
            assert resp.status_code == 400, (body, resp.content[:300])
    assert Endorsement.objects.count() == 0
    # Any text is a reason: some of these start an endorsement, the rest are refused (400/409).
    for value in JUNK:
        resp = client.post(
            url, {"policy_changes": {"payment_mode": "monthly"}, "reason": value}, format="json"
        )
        assert resp.status_code in (201, 400, 409), (value, resp.content[:300])
    for path in (
        "/api/policies/" + "9" * 30 + "/",
        "/api/endorsements/" + "9" * 30 + "/",
    ):
        assert client.get(path).status_code == 404
    assert client.post("/api/endorsements/0/form.pdf", format="json").status_code == 404

"""POST /api/integrations/claims/: the claims system reports claims, idempotently, scoped to the
client's org unit like the opening; bad input (an unknown policy included) is a 400 at the field
that writes nothing; the customer's alerts follow at once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.integrations.models import IdempotencyRecord
from backend.policies.models import Claim
from tests.customers.factories import customer_make
from tests.segments.factories import policy_make

pytestmark = pytest.mark.django_db
URL = "/api/integrations/claims/"


def _post(http, body, key="k-1"):
    return http.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _body(policy, **overrides):
    today = timezone.localdate()
    return {
        "claim_number": "CLM-2026-0001",
        "policy_number": policy.policy_number,
        "occurred_on": (today - timedelta(days=10)).isoformat(),
        "reported_on": (today - timedelta(days=9)).isoformat(),
        "status": "settled",
        "amount_claimed": "5000.00",
        "amount_paid": "4800.00",
        "cause": "住院医疗",
        **overrides,
    }


def test_a_claim_is_recorded_once_and_the_same_key_returns_the_same_answer(make_client):
    _client, http, _t = make_client(scopes=("claims",), name="理赔系统")
    policy = policy_make(customer_make())
    first = _post(http, _body(policy))
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] is True and body["claim"]["customer_id"] == policy.policyholder_id
    assert body["claim"]["amount_paid"] == "4800.00"
    again = _post(http, _body(policy))
    assert again.status_code == 201 and again.json() == body
    assert Claim.objects.count() == 1
    other_body = _post(http, _body(policy, amount_paid="1.00"))
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"
    assert AuditEvent.objects.filter(action="claim.reported").count() == 1


def test_a_later_report_of_the_same_claim_updates_it(make_client):
    _client, http, _t = make_client(scopes=("claims",))
    policy = policy_make(customer_make())
    assert _post(http, _body(policy, status="reported", amount_paid="0"), key="a").status_code == 201
    resp = _post(http, _body(policy, status="settled", amount_paid="3000"), key="b")
    assert resp.status_code == 200, resp.content
    assert resp.json()["created"] is False
    claim = Claim.objects.get()
    assert claim.status == "settled" and str(claim.amount_paid) == "3000.00"


def test_an_open_scope_client_may_report_and_a_query_only_client_may_not(make_client):
    policy = policy_make(customer_make())
    _c, opener, _t = make_client(scopes=("open",), name="承保系统")
    assert _post(opener, _body(policy)).status_code == 201
    _c, query, _t = make_client(scopes=("query",), name="查询系统")
    refused = _post(query, _body(policy, claim_number="CLM-X"), key="q")
    assert refused.status_code == 403
    assert Claim.objects.count() == 1


def test_a_policy_of_another_branch_reads_as_unknown(make_client):
    _client, http, _t = make_client(org_unit="GD-GZ", scopes=("claims",))
    policy = policy_make(customer_make("GD-SZ"))
    resp = _post(http, _body(policy))
    assert resp.status_code == 400 and "policy_number" in resp.json()
    unknown = _post(http, _body(policy, policy_number="NO-SUCH-POLICY"), key="k-2")
    assert unknown.status_code == 400
    assert unknown.json()["policy_number"] == resp.json()["policy_number"]
    assert not Claim.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"policy_number": ""}, "policy_number"),
        ({"policy_number": "X" * 5000}, "policy_number"),
        ({"claim_number": ""}, "claim_number"),
        ({"claim_number": "C" * 33}, "claim_number"),
        ({"claim_number": "C\x00"}, "claim_number"),
        ({"occurred_on": ""}, "occurred_on"),
        ({"occurred_on": "2026-02-30"}, "occurred_on"),
        ({"occurred_on": "yesterday"}, "occurred_on"),
        ({"occurred_on": "2099-01-01"}, "occurred_on"),
        ({"occurred_on": "2017-06-01"}, "occurred_on"),  # before the policy began
        ({"reported_on": "2000-01-01"}, "reported_on"),  # before it happened
        ({"status": "paid"}, "status"),
        ({"amount_paid": "-1"}, "amount_paid"),
        ({"amount_paid": "1e400"}, "amount_paid"),
        ({"amount_paid": "12.345"}, "amount_paid"),
        ({"amount_claimed": "NaN"}, "amount_claimed"),
        ({"status": "declined", "amount_paid": "100"}, "amount_paid"),
        ({"cause": "因" * 201}, "cause"),
    ],
)
def test_bad_input_is_a_400_at_the_field_and_writes_nothing(make_client, overrides, field):
    _client, http, _t = make_client(scopes=("claims",))
    policy = policy_make(customer_make(), effective=date(2018, 1, 1))
    resp = _post(http, _body(policy, **overrides))
    assert resp.status_code == 400, resp.content
    assert field in resp.json(), resp.json()
    assert not Claim.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_a_refused_claim_can_be_sent_again_corrected_under_the_same_key(make_client):
    _client, http, _t = make_client(scopes=("claims",))
    policy = policy_make(customer_make())
    assert _post(http, _body(policy, status="paid")).status_code == 400
    assert _post(http, _body(policy)).status_code == 201


def test_a_claim_number_used_on_another_policy_is_refused(make_client):
    _client, http, _t = make_client(scopes=("claims",))
    holder = customer_make()
    first, second = policy_make(holder), policy_make(holder)
    assert _post(http, _body(first), key="a").status_code == 201
    resp = _post(http, _body(second), key="b")
    assert resp.status_code == 400 and "claim_number" in resp.json()
    assert Claim.objects.get().policy_id == first.pk


def test_the_third_claim_raises_the_multiple_claims_alert_at_once(make_client, api):
    _client, http, _t = make_client(scopes=("claims",))
    holder = customer_make()
    policy = policy_make(holder, premium="100000")
    today = timezone.localdate()
    for i in range(3):
        day = (today - timedelta(days=30 * (i + 1))).isoformat()
        resp = _post(http, _body(policy, claim_number=f"C-{i}", occurred_on=day, reported_on=day, amount_paid="100"), key=f"k{i}")
        assert resp.status_code == 201, resp.content
    segment = api("officer.sz").get(f"/api/customers/{holder.pk}/").json()["segment"]
    codes = [a["code"] for a in segment["alerts"]]
    assert codes == ["multiple_claims"], segment
    assert "3 次" in segment["alerts"][0]["reasons"][0]


def test_without_a_key_the_claim_number_keeps_it_idempotent(make_client):
    _client, http, _t = make_client(scopes=("claims",))
    policy = policy_make(customer_make())
    first = http.post(URL, _body(policy), format="json")
    again = http.post(URL, _body(policy), format="json")
    assert (first.status_code, again.status_code) == (201, 200), again.content
    assert Claim.objects.count() == 1 and not IdempotencyRecord.objects.exists()
    blank = http.post(URL, _body(policy), format="json", HTTP_IDEMPOTENCY_KEY="")
    assert blank.status_code == 400 and "Idempotency-Key" in blank.json()

"""Control 9, upstream answers tell nothing, and control 2 for the upstream check: the check is
a POST with a JSON body, recorded as a look-up of the client's service user under the hourly
limit; an id number held by another branch answers like any other refused request."""

from __future__ import annotations

import json

import pytest

from backend.customers.lookups import lookup_value_hash
from backend.customers.models import Customer, RevealEvent
from backend.organisation.models import OrgUnit
from tests.customers.factories import customer_make
from tests.factories import resident_id
from tests.integrations.conftest import open_payload

pytestmark = pytest.mark.django_db

CHECK = "/api/integrations/customers/check"
OPEN = "/api/integrations/customers/"


def check(http, body):
    return http.post(CHECK, body, format="json")


def test_check_is_a_post_and_a_recorded_lookup(make_client):
    client, http, _t = make_client("ZJ-HZ")
    mine = customer_make("ZJ-HZ")
    theirs = customer_make("GD-SZ")
    assert (
        check(http, {"id_type": "resident_id", "id_number": mine.id_number.lower()}).json()["exists"] is True
    )
    assert check(http, {"id_type": "resident_id", "id_number": theirs.id_number}).json()["exists"] is False
    events = list(RevealEvent.objects.filter(kind="lookup").order_by("id"))
    assert [(e.user_id, e.field, e.result_count, e.org_unit.code) for e in events] == [
        (client.service_user_id, "id_number", 1, "ZJ-HZ"),
        (client.service_user_id, "id_number", 0, "ZJ-HZ"),
    ]
    assert events[1].value_hash == lookup_value_hash(theirs.id_number)
    assert theirs.id_number not in json.dumps(list(RevealEvent.objects.values()), default=str)


def test_the_old_get_is_refused(make_client):
    _c, http, _t = make_client()
    number = resident_id()
    resp = http.get(CHECK, {"id_type": "resident_id", "id_number": number})
    assert resp.status_code == 400
    assert resp.json()["code"] == "use_post"
    assert "POST /api/integrations/customers/check" in resp.json()["detail"]
    assert RevealEvent.objects.count() == 0


def test_check_enumeration_stops_at_the_hourly_limit(make_client, settings):
    settings.LOOKUP_LIMIT_PER_HOUR = 3
    _c, http, _t = make_client()
    codes = [
        check(http, {"id_type": "resident_id", "id_number": resident_id(serial=i)}).status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    refused = check(http, {"uscc": "91440300MA5FXXXX0U"})
    assert refused.status_code == 429
    assert 3590 <= int(refused["Retry-After"]) <= 3600
    assert refused.json()["code"] == "lookup_rate_limited"


def test_check_answers_out_of_scope_exactly_like_not_found(make_client):
    _c, http, _t = make_client("ZJ-HZ")
    held_in_shenzhen = customer_make("GD-SZ")
    out_of_scope = check(http, {"id_type": "resident_id", "id_number": held_in_shenzhen.id_number})
    missing = check(http, {"id_type": "resident_id", "id_number": resident_id(region="110101", serial=777)})
    assert out_of_scope.status_code == missing.status_code == 200
    assert out_of_scope.json() == missing.json()
    assert out_of_scope.content == missing.content


def _open(http, key, **overrides):
    return http.post(OPEN, open_payload(**overrides), format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_opening_an_id_held_by_another_branch_answers_like_any_refusal(make_client):
    """The attack: 杭州's client opens 深圳's customer's id number and reads the answer."""
    sz_unit = OrgUnit.objects.get(code="GD-SZ")
    _c, http, _t = make_client("ZJ-HZ")
    held = customer_make("GD-SZ")
    elsewhere = _open(http, "k-held", id_number=held.id_number)
    bad_id = _open(http, "k-bad", id_number=held.id_number[:-1] + ("1" if held.id_number[-1] != "1" else "2"))
    assert elsewhere.status_code == bad_id.status_code == 202
    a, b = elsewhere.json(), bad_id.json()
    assert set(a) == set(b)
    assert a["errors"] == b["errors"] == {"id_number": ["未能自动开户,已转人工处理"]}
    assert {k: v for k, v in a.items() if k not in ("request_id", "case_id")} == {
        k: v for k, v in b.items() if k not in ("request_id", "case_id")
    }
    text = elsewhere.content.decode()
    for leak in ("其他机构", sz_unit.name, sz_unit.code, "深圳"):
        assert leak not in text
    assert a["customer_id"] is None
    # Polling the request reads the same.
    polled = http.get(f"/api/integrations/requests/{a['request_id']}/").json()
    assert polled["errors"] == {"id_number": ["未能自动开户,已转人工处理"]}
    assert "其他机构" not in json.dumps(polled, ensure_ascii=False)
    # Nothing was handed out or created, and the officer's task keeps the real reason.
    assert Customer.objects.filter(id_number=held.id_number).count() == 1
    from backend.integrations.models import IntegrationRequest

    assert IntegrationRequest.objects.get(pk=a["request_id"]).errors == {
        "id_number": ["该证件已在其他机构开户,需人工处理"]
    }

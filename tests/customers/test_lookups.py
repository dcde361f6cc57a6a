"""Control 2, look-ups are records: POST /api/customers/search/ (and the web form, and the
upstream check) writes a look-up event (user, field, result count, time; the value only as a
keyed hash) and an audit event, listed at GET /api/reveal-events/?kind=lookup; each user gets
LOOKUP_LIMIT_PER_HOUR look-ups an hour, then 429 with the real Retry-After; identifiers in a
URL are refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.customers.lookups import lookup_value_hash
from backend.customers.models import RevealEvent
from tests.customers.factories import corporate_make, customer_make

pytestmark = pytest.mark.django_db

SEARCH = "/api/customers/search/"


@pytest.fixture
def people(users):
    return {
        "sz": customer_make("GD-SZ", name="陈静", phone="+8613812340001"),
        "gz": customer_make("GD-GZ", name="陈静", phone="+8613812340001"),
        "corp": corporate_make("GD-SZ"),
    }


def lookup(client, field, value, **extra):
    return client.post(SEARCH, {"field": field, "value": value}, format="json", **extra)


def test_every_search_writes_a_lookup_event_without_the_value(api, users, people):
    sz = people["sz"]
    client = api("reviewer.sz")
    with time_machine.travel("2026-12-01 02:00:00+00:00", tick=False):
        found = lookup(client, "id_number", "  " + sz.id_number.lower())
    assert found.status_code == 200
    assert [r["id"] for r in found.json()["results"]] == [sz.pk]
    assert lookup(client, "phone", "138 1234 0001").json()["count"] == 1  # 广州's twin is out of scope
    assert lookup(client, "uscc", people["corp"].id_number).json()["count"] == 1
    assert lookup(client, "name", "无此人").json()["count"] == 0

    events = list(RevealEvent.objects.filter(kind="lookup").order_by("id"))
    assert [(e.user.username, e.field, e.result_count, e.customer_id) for e in events] == [
        ("reviewer.sz", "id_number", 1, None),
        ("reviewer.sz", "phone", 1, None),
        ("reviewer.sz", "uscc", 1, None),
        ("reviewer.sz", "name", 0, None),
    ]
    assert events[0].created_at.isoformat() == "2026-12-01T02:00:00+00:00"
    # The keyed hash of the normalised value: compliance can ask "was this value looked up".
    assert events[0].value_hash == lookup_value_hash(sz.id_number)
    assert events[1].value_hash == lookup_value_hash("+8613812340001")
    assert events[0].value_hash != lookup_value_hash(people["gz"].id_number)
    # The value itself is stored nowhere: not in the event, not in the audit trail.
    audits = list(AuditEvent.objects.filter(action="lookup").order_by("id"))
    assert [(a.actor.username, a.data["field"], a.data["result_count"]) for a in audits] == [
        ("reviewer.sz", "id_number", 1),
        ("reviewer.sz", "phone", 1),
        ("reviewer.sz", "uscc", 1),
        ("reviewer.sz", "name", 0),
    ]
    stored = json.dumps(
        [list(RevealEvent.objects.values()), [a.data for a in audits]], default=str, ensure_ascii=False
    )
    for secret in (sz.id_number, "13812340001", people["corp"].id_number, "无此人"):
        assert secret not in stored


def test_bad_input_is_a_400_and_records_nothing(api, people):
    client = api("reviewer.sz")
    assert lookup(client, "email", "x@example.com").json() == {
        "field": ["查询字段无效,可选: phone, id_number, uscc, name"],
        "code": "invalid_field",
    }
    assert lookup(client, "phone", " ").json() == {"value": ["请填写查询内容"], "code": "value_required"}
    assert lookup(client, "id_number", "1" * 101).status_code == 400
    assert lookup(client, "phone", ["13812340001"]).status_code == 400
    assert client.post(SEARCH, [1], format="json").status_code == 400
    assert RevealEvent.objects.count() == 0


@pytest.mark.parametrize(
    "params",
    [
        {"phone": "13812340001"},
        {"id_number": "440305198001020019"},
        {"uscc": "91440300MA5FXXXX0U"},
        {"q": "440305198001020019"},
        {"q": "+8613812340001"},
        {"name": "陈静", "phone": "13812340001"},
    ],
)
def test_identifiers_in_the_query_are_refused(api, people, params):
    resp = api("reviewer.sz").get("/api/customers/", params)
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "use_search_endpoint"
    assert body["search_endpoint"] == "/api/customers/search/"
    assert body["method"] == "POST"
    assert "/api/customers/search/" in body["detail"]
    assert RevealEvent.objects.count() == 0


def test_name_and_customer_number_still_list_by_get(api, people):
    client = api("reviewer.sz")
    assert client.get("/api/customers/", {"name": "陈静"}).json()["count"] == 1
    assert client.get("/api/customers/", {"q": str(people["sz"].pk)}).json()["count"] == 1


# ---- the hourly limit ----------------------------------------------------------------------------------


def test_enumeration_stops_at_the_hourly_limit(api, users, people, settings):
    """The attack: walk phone numbers until the masked one is found. The limit stops it."""
    settings.LOOKUP_LIMIT_PER_HOUR = 5
    client = api("reviewer.sz")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        codes = [lookup(client, "phone", f"1381234{i:04d}").status_code for i in range(5)]
        refused = lookup(client, "phone", "13812340001")
    assert codes == [200] * 5
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    body = refused.json()
    assert body["code"] == "lookup_rate_limited"
    assert body["retry_after"] == 3600
    assert body["detail"].startswith("查询过于频繁:每小时最多查询 5 次")
    assert "results" not in body
    # The refused look-up wrote nothing; the others are all on record.
    assert RevealEvent.objects.filter(kind="lookup", user=users["reviewer.sz"]).count() == 5
    # Another user has his own budget.
    assert lookup(api("officer.sz"), "phone", "13812340001").status_code == 200


def test_retry_after_is_the_real_time_until_a_slot_frees(api, users, people, settings):
    settings.LOOKUP_LIMIT_PER_HOUR = 3
    client = api("reviewer.sz")
    t0 = timezone.now().replace(microsecond=0)
    for minutes in (0, 20, 50):
        with time_machine.travel(t0 + timedelta(minutes=minutes), tick=False):
            assert lookup(client, "name", "陈静").status_code == 200
    with time_machine.travel(t0 + timedelta(minutes=55), tick=False):
        refused = lookup(client, "name", "陈静")
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(5 * 60)  # the look-up of t0 leaves the window at t0 + 60 min
    with time_machine.travel(t0 + timedelta(minutes=60, seconds=1), tick=False):
        assert lookup(client, "name", "陈静").status_code == 200
        refused = lookup(client, "name", "陈静")
    assert refused["Retry-After"] == str(20 * 60 - 1)
    # Reveals have their own limit: look-ups never use it up.
    assert RevealEvent.objects.filter(kind="reveal").count() == 0


def test_the_limit_is_a_setting_with_default_60(settings):
    from backend.customers.lookups import lookup_limit_per_hour

    assert settings.LOOKUP_LIMIT_PER_HOUR == 60
    assert lookup_limit_per_hour() == 60


# ---- the compliance listing ---------------------------------------------------------------------------


def test_compliance_lists_lookups_by_user(api, users, people):
    for username in ("reviewer.sz", "reviewer.sz", "reviewer.hz"):
        assert lookup(api(username), "phone", "13812340001").status_code == 200
    compliance = api("compliance.ho")
    body = compliance.get("/api/reveal-events/", {"kind": "lookup", "user": "reviewer.sz"}).json()
    assert body["count"] == 2
    assert {"count", "next", "previous", "results"} <= set(body)
    row = body["results"][0]
    assert row["kind"] == "lookup"
    assert row["user"] == "reviewer.sz"
    assert row["field"] == "phone"
    assert row["result_count"] == 1
    assert row["customer_id"] is None
    assert row["value_hash"] == lookup_value_hash("+8613812340001")
    assert row["org_unit"] == "深圳市分公司"
    assert "13812340001" not in json.dumps(body, ensure_ascii=False)
    assert compliance.get("/api/reveal-events/", {"kind": "lookup"}).json()["count"] == 3
    # Without kind the listing is the reveal log it always was.
    assert compliance.get("/api/reveal-events/").json()["count"] == 0
    assert compliance.get("/api/reveal-events/", {"kind": "other"}).status_code == 400
    # Level-scoped: 广东's compliance does not see 杭州's look-up.
    assert api("compliance.gd").get("/api/reveal-events/", {"kind": "lookup"}).json()["count"] == 2
    assert api("reviewer.sz").get("/api/reveal-events/", {"kind": "lookup"}).status_code == 403


def test_lookup_listing_is_paged(api, users, people, settings):
    settings.LOOKUP_LIMIT_PER_HOUR = 100
    client = api("reviewer.sz")
    for i in range(55):
        assert lookup(client, "name", f"客户{i}").status_code == 200
    compliance = api("compliance.ho")
    first = compliance.get("/api/reveal-events/", {"kind": "lookup", "user": "reviewer.sz"}).json()
    assert (first["count"], len(first["results"])) == (55, 50)
    second = compliance.get(
        "/api/reveal-events/", {"kind": "lookup", "user": "reviewer.sz", "page": 2}
    ).json()
    assert len(second["results"]) == 5


# ---- the web search form ------------------------------------------------------------------------------


def test_web_search_is_a_recorded_post_with_the_limit_next_to_the_field(users, people, settings):
    from django.test import Client

    settings.LOOKUP_LIMIT_PER_HOUR = 2
    client = Client()
    client.force_login(users["reviewer.sz"])
    sz = people["sz"]
    for _ in range(2):
        found = client.post("/customers/", {"field": "id_number", "value": sz.id_number})
        assert found.status_code == 200
        assert f'data-testid="customer-link-{sz.pk}"' in found.content.decode()
    refused = client.post("/customers/", {"field": "id_number", "value": sz.id_number})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    body = refused.content.decode()
    assert "customer-link-" not in body
    value_input = body.index('name="value"')
    message = body.index('<ul class="field-errors"><li>查询过于频繁:每小时最多查询 2 次')
    assert value_input < message < body.index('data-testid="linkage-search-submit"')
    assert (
        list(RevealEvent.objects.values_list("user__username", "kind", "field", "result_count"))
        == [("reviewer.sz", "lookup", "id_number", 1)] * 2
    )


def test_web_search_needs_the_csrf_token(users, people):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(users["reviewer.sz"])
    assert client.post("/customers/", {"field": "phone", "value": "13812340001"}).status_code == 403
    assert RevealEvent.objects.count() == 0


def test_web_reveal_log_lists_lookups(api, users, people):
    from django.test import Client

    assert lookup(api("reviewer.sz"), "phone", "13812340001").status_code == 200
    event = RevealEvent.objects.get(kind="lookup")
    web = Client()
    web.force_login(users["compliance.ho"])
    page = web.get("/compliance/reveals/", {"kind": "lookup", "user": "reviewer.sz"})
    assert page.status_code == 200
    body = page.content.decode()
    assert f'data-testid="reveal-row-{event.pk}"' in body
    assert f'<span data-testid="lookup-count-{event.pk}">1</span>' in body
    assert "13812340001" not in body
    # The reveal log without kind does not list look-ups; a bad kind is the form again.
    assert f'data-testid="reveal-row-{event.pk}"' not in web.get("/compliance/reveals/").content.decode()
    assert web.get("/compliance/reveals/", {"kind": "x"}).status_code == 400


def test_a_form_body_is_read_too(api, people):
    # Not the contract (JSON), but a form-encoded body also keeps the value out of the URL.
    resp = api("reviewer.sz").post(SEARCH, {"field": "phone", "value": "13812340001"})
    assert resp.status_code == 200
    assert resp.json()["count"] == 1
    assert RevealEvent.objects.filter(kind="lookup").count() == 1


def test_compliance_finds_a_value_by_its_hash(api, users, people, monkeypatch):
    import io

    from django.core.management import call_command

    assert lookup(api("reviewer.sz"), "phone", "138-1234-0001").status_code == 200
    assert lookup(api("reviewer.sz"), "phone", "13900000009").status_code == 200
    monkeypatch.setattr("sys.stdin", io.StringIO("+86 138 1234 0001\n"))
    out = io.StringIO()
    call_command("lookup_hash", "--field", "phone", stdout=out)
    digest = out.getvalue().strip()
    assert digest == lookup_value_hash("+8613812340001")
    body = api("compliance.ho").get("/api/reveal-events/", {"kind": "lookup", "value_hash": digest}).json()
    assert [(r["user"], r["field"], r["result_count"]) for r in body["results"]] == [
        ("reviewer.sz", "phone", 1)
    ]
    bad = api("compliance.ho").get("/api/reveal-events/", {"kind": "lookup", "value_hash": "not-a-digest"})
    assert bad.status_code == 400

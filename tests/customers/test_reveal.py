"""查看完整信息: POST /api/customers/<id>/reveal/ and the compliance log GET /api/reveal-events/."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.customers.models import RevealEvent
from backend.organisation.models import OrgUnit, RoleAssignment
from tests.customers.factories import corporate_make, customer_make

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def reveal(api, username, customer, field="phone", reason="客户来电核实身份"):
    return api(username).post(
        f"/api/customers/{customer.pk}/reveal/", {"field": field, "reason": reason}, format="json"
    )


def test_reveal_returns_full_value_and_writes_one_event_and_audit(api, users):
    customer = customer_make("GD-SZ", phone="+8613812345678")
    resp = reveal(api, "reviewer.sz", customer)
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"field": "phone", "value": "+8613812345678"}
    events = list(
        RevealEvent.objects.values_list("user__username", "customer_id", "field", "reason", "org_unit__code")
    )
    assert events == [("reviewer.sz", customer.pk, "phone", "客户来电核实身份", "GD-SZ")]
    audit = AuditEvent.objects.get(action="customer.field_revealed")
    assert (audit.actor.username, audit.object_type, audit.object_id) == (
        "reviewer.sz",
        "customers.customer",
        str(customer.pk),
    )
    assert audit.data == {
        "field": "phone",
        "reason": "客户来电核实身份",
        "reveal_event": RevealEvent.objects.get().pk,
    }


def test_reveal_of_each_individual_field_and_corporate_legal_rep_id(api, users):
    customer = customer_make("GD-SZ")
    for field in ("id_number", "phone", "address", "email"):
        resp = reveal(api, "officer.sz", customer, field=field)
        assert resp.json() == {"field": field, "value": getattr(customer, field)}
    corporate = corporate_make("GD-SZ")
    resp = reveal(api, "compliance.ho", corporate, field="legal_rep_id_number")
    assert resp.json() == {"field": "legal_rep_id_number", "value": corporate.legal_rep_id_number}
    assert RevealEvent.objects.count() == 5


@pytest.mark.parametrize(
    "reason, message",
    [
        (None, "请填写查看原因"),
        ("", "请填写查看原因"),
        ("   ", "请填写查看原因"),
        ("太短", "查看原因应为 4 至 500 个字符"),
        ("x" * 501, "查看原因应为 4 至 500 个字符"),
        ("核实\x07身份", "查看原因不能包含控制字符"),
    ],
)
def test_bad_reason_is_a_field_error_and_writes_nothing(api, users, reason, message):
    customer = customer_make("GD-SZ")
    body = {"field": "phone"} if reason is None else {"field": "phone", "reason": reason}
    resp = api("reviewer.sz").post(f"/api/customers/{customer.pk}/reveal/", body, format="json")
    assert resp.status_code == 400
    assert resp.json()["reason"] == [message]
    assert RevealEvent.objects.count() == 0
    assert not AuditEvent.objects.filter(action="customer.field_revealed").exists()


@pytest.mark.parametrize("field", ["", "name", "password", "legal_rep_name"])
def test_field_must_be_personal(api, users, field):
    customer = customer_make("GD-SZ")
    resp = reveal(api, "reviewer.sz", customer, field=field)
    assert resp.status_code == 400
    assert list(resp.json()) == ["field", "code"]
    assert resp.json()["code"] == "invalid_field"
    assert RevealEvent.objects.count() == 0


@pytest.mark.parametrize("username", ["collector.sz", "owner.ho", "admin"])
def test_roles_without_reveal_are_refused(api, users, username):
    customer = customer_make("GD-SZ")
    resp = reveal(api, username, customer)
    assert resp.status_code == 403
    assert resp.json()["code"] == "reveal_not_allowed"
    assert RevealEvent.objects.count() == 0


def test_sibling_branch_gets_404(api, users):
    customer = customer_make("GD-SZ")
    resp = reveal(api, "reviewer.gz", customer)
    assert resp.status_code == 404
    assert resp.json()["code"] == "customer_not_found"
    assert reveal(api, "reviewer.hz", customer).status_code == 404
    assert RevealEvent.objects.count() == 0


def test_rate_limit_refuses_the_21st_within_an_hour(api, users, settings):
    assert settings.CUSTFLOW["REVEAL_RATE_LIMIT"] == {"count": 20, "minutes": 60}
    customer = customer_make("GD-SZ")
    for _ in range(20):
        assert reveal(api, "reviewer.sz", customer).status_code == 200
    resp = reveal(api, "reviewer.sz", customer)
    assert resp.status_code == 429
    body = resp.json()
    assert body["code"] == "reveal_rate_limited"
    first = RevealEvent.objects.order_by("created_at").first().created_at
    retry = timezone.localtime(first + timedelta(minutes=60))
    assert body["detail"] == f"查看完整信息过于频繁:每 60 分钟最多 20 次,请于 {retry:%Y-%m-%d %H:%M} 后再试"
    assert body["retry_at"] == retry.isoformat()
    assert RevealEvent.objects.count() == 20
    # Another user is not limited by reviewer.sz's reveals.
    assert reveal(api, "officer.sz", customer).status_code == 200
    # An hour later the window is free again.
    RevealEvent.objects.filter(user__username="reviewer.sz").update(
        created_at=timezone.now() - timedelta(minutes=61)
    )
    assert reveal(api, "reviewer.sz", customer).status_code == 200


def test_rate_limit_counts_only_the_window(api, users):
    customer = customer_make("GD-SZ")
    user = users["reviewer.sz"]
    old = timezone.now() - timedelta(minutes=60, seconds=5)
    recent = timezone.now() - timedelta(minutes=5)
    RevealEvent.objects.bulk_create(
        [
            RevealEvent(
                user=user,
                customer=customer,
                field="phone",
                reason="旧的查看",
                org_unit=customer.org_unit,
                created_at=old,
            )
            for _ in range(30)
        ]
        + [
            RevealEvent(
                user=user,
                customer=customer,
                field="phone",
                reason="近期查看",
                org_unit=customer.org_unit,
                created_at=recent,
            )
            for _ in range(19)
        ]
    )
    assert reveal(api, "reviewer.sz", customer).status_code == 200  # the 20th in the window
    assert reveal(api, "reviewer.sz", customer).status_code == 429


# ---- compliance log -------------------------------------------------------------------------------


@pytest.fixture
def compliance_gd(users):
    """The demo's 广东省合规 (compliance at the GD province branch)."""
    user = users["compliance.gd"]
    assert RoleAssignment.objects.filter(
        user=user, role="compliance", org_unit=OrgUnit.objects.get(code="GD")
    ).exists()
    return user


def _event(user, customer, *, at, field="phone", reason="核实身份"):
    return RevealEvent.objects.create(
        user=user, customer=customer, field=field, reason=reason, org_unit=customer.org_unit, created_at=at
    )


def test_compliance_list_is_scoped_and_newest_first(api, users, compliance_gd):
    sz = customer_make("GD-SZ", name="深圳客户")
    hz = customer_make("ZJ-HZ", name="杭州客户")
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
    e1 = _event(users["reviewer.sz"], sz, at=t0)
    e2 = _event(users["reviewer.hz"], hz, at=t0 + timedelta(hours=1))
    e3 = _event(users["officer.sz"], sz, at=t0 + timedelta(hours=2), field="address", reason="寄送保单")

    body = api("compliance.ho").get("/api/reveal-events/").json()
    assert body["count"] == 3
    assert [r["id"] for r in body["results"]] == [e3.pk, e2.pk, e1.pk]
    assert body["results"][0] == {
        "id": e3.pk,
        "kind": "reveal",
        "user": "officer.sz",
        "user_name": "深圳客户信息管理岗",
        "customer_id": sz.pk,
        "customer_name": "深圳客户",
        "field": "address",
        "reason": "寄送保单",
        "result_count": None,
        "value_hash": None,
        "org_unit": "深圳市分公司",
        "created_at": "2026-11-20T11:00:00+08:00",
    }
    gd = api("compliance.gd").get("/api/reveal-events/").json()
    assert [r["id"] for r in gd["results"]] == [e3.pk, e1.pk]  # no 浙江 events


@pytest.mark.parametrize("username", ["reviewer.sz", "officer.sz", "collector.sz", "owner.ho", "admin"])
def test_compliance_list_refuses_other_roles(api, users, username):
    resp = api(username).get("/api/reveal-events/")
    assert resp.status_code == 403
    assert resp.json()["code"] == "compliance_only"


def test_compliance_list_filters(api, users):
    a = customer_make("GD-SZ")
    b = customer_make("GD-GZ")
    # 2026-11-20 23:30 Shanghai is 15:30 UTC: the Shanghai calendar day decides.
    late = _event(users["reviewer.sz"], a, at=datetime(2026, 11, 20, 23, 30, tzinfo=SHANGHAI))
    next_day = _event(
        users["reviewer.gz"], b, at=datetime(2026, 11, 21, 0, 30, tzinfo=SHANGHAI), field="email"
    )
    other = _event(
        users["reviewer.sz"], b, at=datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI), field="id_number"
    )
    client = api("compliance.ho")

    def ids(**params):
        resp = client.get("/api/reveal-events/", params)
        assert resp.status_code == 200, resp.content
        return [r["id"] for r in resp.json()["results"]]

    assert ids(user="reviewer.sz") == [other.pk, late.pk]
    assert ids(user="nobody") == []
    assert ids(customer=b.pk) == [other.pk, next_day.pk]
    assert ids(field="email") == [next_day.pk]
    assert ids(date_from="2026-11-21") == [other.pk, next_day.pk]
    assert ids(date_to="2026-11-20") == [late.pk]
    assert ids(date_from="2026-11-21", date_to="2026-11-21") == [next_day.pk]
    assert ids(user="reviewer.sz", customer=b.pk, field="id_number") == [other.pk]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"date_from": "2026/11/20"}, "date_from"),
        ({"date_to": "2026-13-01"}, "date_to"),
        ({"date_from": "2026-11-21", "date_to": "2026-11-20"}, "date_to"),
        ({"customer": "abc"}, "customer"),
        ({"customer": "9" * 40}, "customer"),
        ({"field": "name"}, "field"),
        ({"user": "a\x00b"}, "user"),
    ],
)
def test_compliance_list_bad_filters_are_field_errors(api, users, params, field):
    resp = api("compliance.ho").get("/api/reveal-events/", params)
    assert resp.status_code == 400
    assert field in resp.json()


def test_compliance_list_is_paginated(api, users):
    customer = customer_make("GD-SZ")
    t0 = timezone.now() - timedelta(days=1)
    RevealEvent.objects.bulk_create(
        [
            RevealEvent(
                user=users["reviewer.sz"],
                customer=customer,
                field="phone",
                reason=f"核实 {i}",
                org_unit=customer.org_unit,
                created_at=t0 + timedelta(minutes=i),
            )
            for i in range(55)
        ]
    )
    first = api("compliance.ho").get("/api/reveal-events/").json()
    assert (first["count"], len(first["results"]), first["results"][0]["reason"]) == (55, 50, "核实 54")
    second = api("compliance.ho").get("/api/reveal-events/?page=2").json()
    assert [r["reason"] for r in second["results"]] == [f"核实 {i}" for i in range(4, -1, -1)]


JUNK = [
    "",
    " ",
    "null",
    "0",
    "-1",
    "9" * 40,
    "💥" * 50,
    "<script>alert(1)</script>",
    "'; DROP TABLE x; --",
    "\x00",
    "a" * 5000,
]


@pytest.mark.parametrize("username", ["reviewer.sz", "collector.sz", "compliance.ho", "admin"])
def test_reveal_search_and_log_never_500(api, users, username):
    customer = customer_make("GD-SZ")
    client = api(username)
    for value in JUNK:
        for body in ({"field": value, "reason": value}, {"field": "phone", "reason": value}):
            resp = client.post(f"/api/customers/{customer.pk}/reveal/", body, format="json")
            assert resp.status_code < 500, (body, resp.content[:200])
        for key in ("q", "name", "id_number", "uscc", "phone", "status", "page"):
            assert client.get("/api/customers/", {key: value}).status_code < 500, (key, value)
        for key in ("user", "customer", "field", "date_from", "date_to", "page", "kind"):
            assert client.get("/api/reveal-events/", {key: value}).status_code < 500, (key, value)
        assert client.get("/api/reveal-events/", {"kind": "lookup", "field": value}).status_code < 500
        for body in (
            {"field": value, "value": value},
            *({"field": f, "value": value} for f in ("phone", "id_number", "uscc", "name")),
        ):
            resp = client.post("/api/customers/search/", body, format="json")
            assert resp.status_code < 500, (body, resp.content[:200])
    for body in (None, [], [1], "text", 12, {"field": ["phone"]}, {"reason": {"x": 1}, "field": "phone"}):
        resp = client.post(f"/api/customers/{customer.pk}/reveal/", body, format="json")
        assert resp.status_code < 500, (body, resp.content[:200])
        resp = client.post("/api/customers/search/", body, format="json")
        assert resp.status_code < 500, (body, resp.content[:200])
    assert not [r for r in RevealEvent.objects.values_list("reason", flat=True) if "\x00" in r]

"""客户业务关联查询: exact search on POST /api/customers/search/ (identifiers never in the URL;
the look-up records themselves are tested in test_lookups.py), GET /api/customers/<id>/linkage/
and GET /api/customers/<id>/history/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.customers.amendments import AMENDMENT_CASE, customer_changes_apply
from backend.customers.models import Customer, CustomerFieldChange
from tests.conftest import inbox
from tests.customers.factories import corporate_make, customer_make

pytestmark = pytest.mark.django_db


def search(api, username, page=None, **params):
    """One exact search: a single {"field", "value"} body; `q`/`status` go to the GET list."""
    if set(params) <= {"q", "status"}:
        resp = api(username).get("/api/customers/", params)
    else:
        ((field, value),) = params.items()
        url = "/api/customers/search/" + (f"?page={page}" if page else "")
        resp = api(username).post(url, {"field": field, "value": value}, format="json")
    assert resp.status_code == 200, resp.content
    return resp.json()


# ---- search -----------------------------------------------------------------------------------------


@pytest.fixture
def population(users):
    return {
        "target": customer_make("GD-SZ", name="陈静", phone="+8613812340001"),
        "same_name": customer_make("GD-SZ", name="陈静", phone="+8613812340002"),
        "other": customer_make("GD-SZ", name="陈静怡", phone="+8613812340003"),
        "corp": corporate_make("GD-SZ", phone="+8675512345678"),
        "gz": customer_make("GD-GZ", name="陈静", phone="+8613812340001"),
    }


def test_search_by_id_number_normalises_and_masks(api, population):
    target = population["target"]
    typed = "  " + target.id_number.lower().replace("x", "x")[:6] + " " + target.id_number[6:].lower()
    # Full-width digits and spaces are folded by NFKC.
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in target.id_number)
    for value in (target.id_number, typed, full_width):
        body = search(api, "reviewer.sz", id_number=value)
        assert [r["id"] for r in body["results"]] == [target.pk]
    row = body["results"][0]
    assert row["masked"] is True
    assert row["id_number"] == target.id_number[0] + "*" * 16 + target.id_number[-1]
    assert row["phone"] == "138****0001"


def test_search_by_name_is_exact(api, population):
    body = search(api, "reviewer.sz", name=" 陈静 ")
    assert [r["id"] for r in body["results"]] == [population["same_name"].pk, population["target"].pk]
    assert search(api, "reviewer.sz", name="陈")["count"] == 0


def test_search_by_phone_normalises_to_e164(api, population):
    for value in ("13812340001", "138 1234 0001", "+86 138-1234-0001", "８６１３８１２３４０００１"):
        body = search(api, "reviewer.sz", phone=value)
        assert [r["id"] for r in body["results"]] == [population["target"].pk], value
    assert search(api, "reviewer.sz", phone="0755-12345678")["results"][0]["id"] == population["corp"].pk


def test_search_by_uscc(api, population):
    corp = population["corp"]
    body = search(api, "reviewer.sz", uscc=corp.id_number.lower())
    assert [r["id"] for r in body["results"]] == [corp.pk]
    assert body["results"][0]["id_number"] == "9" + "*" * 16 + "U"
    # A USCC is not an individual id: the same text under id_number of another type finds nothing.
    assert search(api, "reviewer.sz", uscc=population["target"].id_number)["count"] == 0


def test_one_key_per_search(api, population):
    # The body names one field: the other customer sharing the name is found by name alone,
    # the phone alone finds exactly one.
    assert {r["id"] for r in search(api, "reviewer.sz", name="陈静")["results"]} == {
        population["same_name"].pk,
        population["target"].pk,
    }
    assert [r["id"] for r in search(api, "reviewer.sz", phone="13812340002")["results"]] == [
        population["same_name"].pk
    ]


@pytest.mark.parametrize("value", ["abc", "123", "+1 555", "1" * 40])
def test_unparsable_phone_is_a_400(api, population, value):
    resp = api("reviewer.sz").post(
        "/api/customers/search/", {"field": "phone", "value": value}, format="json"
    )
    assert resp.status_code == 400
    assert resp.json() == {
        "value": ["请输入有效的电话号码(手机号码,或带区号的固定电话)"],
        "code": "invalid_phone",
    }


@pytest.mark.parametrize("field", ["name", "id_number"])
def test_control_characters_are_refused(api, population, field):
    resp = api("reviewer.sz").post(
        "/api/customers/search/", {"field": field, "value": "陈\x00静"}, format="json"
    )
    assert resp.status_code == 400
    assert resp.json() == {"value": ["不能包含控制字符"], "code": "invalid_search"}


def test_search_is_level_scoped(api, population):
    target = population["target"]
    assert search(api, "reviewer.gz", id_number=target.id_number)["count"] == 0
    assert search(api, "reviewer.hz", phone="13812340001")["count"] == 0
    assert [r["id"] for r in search(api, "reviewer.gz", phone="13812340001")["results"]] == [
        population["gz"].pk
    ]
    assert {r["id"] for r in search(api, "reviewer.gd", phone="13812340001")["results"]} == {
        target.pk,
        population["gz"].pk,
    }


def test_lists_are_masked_even_for_full_view_roles(api, population):
    row = search(api, "officer.sz", phone="13812340001")["results"][0]
    assert (row["masked"], row["phone"]) == (True, "138****0001")


def test_q_and_status_keep_working(api, population):
    target = population["target"]
    # q is a name or a customer number; an id number in it is refused (never in a URL).
    assert [r["id"] for r in search(api, "reviewer.sz", q=str(target.pk))["results"]] == [target.pk]
    assert api("reviewer.sz").get("/api/customers/", {"q": target.id_number}).status_code == 400
    assert search(api, "reviewer.sz", q="陈静")["count"] == 3
    assert search(api, "reviewer.sz", status="pending_review")["count"] == 0
    assert search(api, "reviewer.sz", status="active")["count"] == 4


def test_search_is_paginated(api, users):
    for _ in range(55):
        customer_make("GD-SZ", name="同名")
    first = search(api, "reviewer.sz", name="同名")
    assert (first["count"], len(first["results"])) == (55, 50)
    assert len(search(api, "reviewer.sz", name="同名", page=2)["results"]) == 5


# ---- linkage -----------------------------------------------------------------------------------------


def _amend(customer, changes, *, by, approver, reason="客户申请", case_id=7):
    customer_changes_apply(
        actor=by,
        approved_by=approver,
        customer_id=customer.pk,
        changes=changes,
        base_version=Customer.objects.get(pk=customer.pk).version,
        reason=reason,
        case_type=AMENDMENT_CASE,
        case_id=case_id,
    )


@pytest.fixture
def amended(users):
    customer = customer_make("GD-SZ", phone="+8613812340001", address="深圳市福田区福华路 1 号")
    _amend(
        customer,
        {
            "phone": {"old": "+8613812340001", "new": "+8613912340009"},
            "email": {"old": customer.email, "new": "new@example.com"},
        },
        by=users["officer.sz"],
        approver=users["reviewer.sz"],
    )
    _amend(
        customer,
        {"address": {"old": "深圳市福田区福华路 1 号", "new": "深圳市南山区科技园 8 号"}},
        by=users["officer.sz"],
        approver=users["reviewer.sz"],
        reason="搬家",
        case_id=8,
    )
    return Customer.objects.get(pk=customer.pk)


def test_linkage_field_history_equals_the_change_rows(api, amended):
    body = api("reviewer.sz").get(f"/api/customers/{amended.pk}/linkage/").json()
    rows = CustomerFieldChange.objects.filter(customer=amended).order_by("-changed_at", "-id")
    assert [(h["id"], h["field"], h["reason"], h["case_id"]) for h in body["field_history"]] == [
        (c.pk, c.field, c.reason, c.case_id) for c in rows
    ]
    old_email = rows[1].old_value
    assert [(h["field"], h["old_value"], h["new_value"]) for h in body["field_history"]] == [
        ("address", "深圳市福田区*******", "深圳市南山区*******"),
        ("email", old_email[0] + "*" * (len(old_email) - 1), "n**************"),
        ("phone", "138****0001", "139****0009"),
    ]
    history = {h["field"]: h for h in body["field_history"]}
    assert history["phone"]["old_value"] == "138****0001"
    assert history["phone"]["new_value"] == "139****0009"
    assert history["phone"]["masked"] is True
    assert history["phone"]["changed_by"] == "officer.sz"
    assert history["phone"]["approved_by"] == "reviewer.sz"
    assert history["phone"]["field_label"] == "联系电话"
    assert history["address"]["reason"] == "搬家"
    # A full-view role sees the values as stored.
    full = api("officer.sz").get(f"/api/customers/{amended.pk}/linkage/").json()
    assert [(h["id"], h["old_value"], h["new_value"], h["masked"]) for h in full["field_history"]] == [
        (c.pk, c.old_value, c.new_value, False) for c in rows
    ]


def test_history_api_is_paginated_and_audits_full_views(api, amended, users):
    rows = list(CustomerFieldChange.objects.filter(customer=amended).order_by("-changed_at", "-id"))
    body = api("reviewer.sz").get(f"/api/customers/{amended.pk}/history/").json()
    assert body["count"] == 3
    assert [h["id"] for h in body["results"]] == [c.pk for c in rows]
    assert not AuditEvent.objects.filter(action="customer.viewed_full").exists()
    full = api("officer.sz").get(f"/api/customers/{amended.pk}/history/").json()
    assert [h["new_value"] for h in full["results"]] == [c.new_value for c in rows]
    assert AuditEvent.objects.filter(action="customer.viewed_full", data__purpose="history").count() == 1
    assert api("reviewer.gz").get(f"/api/customers/{amended.pk}/history/").status_code == 404
    assert api("reviewer.gz").get(f"/api/customers/{amended.pk}/linkage/").status_code == 404


def test_linkage_of_an_opened_customer(api, submit, users):
    resp = submit("advanced", phone="13812345678")
    assert resp.status_code == 201, resp.content
    customer = Customer.objects.get(pk=resp.json()["customer_id"])
    gz = customer_make("GD-GZ", phone="+8613812345678")
    task = inbox(api("reviewer.sz"))[0]

    body = api("reviewer.sz").get(f"/api/customers/{customer.pk}/linkage/").json()
    assert body["status"]["status"] == "pending_review"
    assert [(h["action"], h["status"], h["actor"]) for h in body["status"]["history"]] == [
        ("account_opening.submitted", "pending_review", "深圳采集人")
    ]
    opening = customer.openings.get()
    assert [(c["case_type"], c["id"], c["open"], c["open_task_id"]) for c in body["cases"]["open"]] == [
        ("customers.accountopening", opening.pk, True, task["id"])
    ]
    assert body["cases"]["past"] == []
    assert body["freshness"] == {
        "verified_at": None,
        "source": "",
        "age_days": None,
        "freshness_days": 365,
        "stale": False,
    }
    assert body["completeness"]["percent"] == 100
    assert body["completeness"]["missing"] == []
    # The 广州 customer with the same phone is outside 深圳's scope: counted, not listed.
    assert (body["shared_phone"]["visible"], body["shared_phone"]["hidden_count"]) == ([], 1)
    province = api("reviewer.gd").get(f"/api/customers/{customer.pk}/linkage/").json()
    assert [(c["id"], c["id_number"]) for c in province["shared_phone"]["visible"]] == [
        (gz.pk, gz.id_number[0] + "*" * 16 + gz.id_number[-1])
    ]
    assert province["shared_phone"]["hidden_count"] == 0
    assert body["policies_by_role"] == {"holder": [], "insured": [], "beneficiary": []}
    assert body["complaints"] == []

    done = api("reviewer.sz").post(
        f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json"
    )
    assert done.status_code == 200, done.content
    body = api("reviewer.sz").get(f"/api/customers/{customer.pk}/linkage/").json()
    assert [(h["action"], h["status"]) for h in body["status"]["history"]] == [
        ("account_opening.submitted", "pending_review"),
        ("customer.activated", "active"),
    ]
    assert body["status"]["history"][1]["actor"] == "深圳审核岗"
    assert body["cases"]["open"] == []
    assert [(c["id"], c["open_task_id"]) for c in body["cases"]["past"]] == [(opening.pk, None)]
    customer = Customer.objects.get(pk=customer.pk)
    assert body["freshness"]["source"] == "activated"
    assert body["freshness"]["verified_at"] == timezone.localtime(customer.activated_at).isoformat()


def test_completeness_and_freshness(api, users):
    old = timezone.now() - timedelta(days=400)
    individual = customer_make("GD-SZ", email="", address="", activated_at=old, last_verified_at=None)
    body = api("reviewer.sz").get(f"/api/customers/{individual.pk}/linkage/").json()
    assert (
        body["completeness"]["filled"],
        body["completeness"]["total"],
        body["completeness"]["percent"],
    ) == (4, 6, 67)
    assert body["completeness"]["missing"] == ["通讯地址", "电子邮箱"]
    assert (body["freshness"]["source"], body["freshness"]["stale"], body["freshness"]["age_days"]) == (
        "activated",
        True,
        400,
    )

    corp = corporate_make(
        "GD-SZ",
        contact_person="",
        legal_rep_id_number="",
        last_verified_at=timezone.now() - timedelta(days=10),
    )
    body = api("reviewer.sz").get(f"/api/customers/{corp.pk}/linkage/").json()
    assert [f["field"] for f in body["completeness"]["fields"]] == [
        "name",
        "id_type",
        "id_number",
        "legal_rep_name",
        "legal_rep_id_number",
        "address",
        "contact_person",
        "phone",
    ]
    assert body["completeness"]["missing"] == ["法定代表人证件号码", "联系人"]
    assert body["completeness"]["percent"] == 75
    assert (body["freshness"]["source"], body["freshness"]["stale"]) == ("last_verified", False)

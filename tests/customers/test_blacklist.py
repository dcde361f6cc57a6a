"""黑名单: changes reviewed by a second person; hits route cases to province review."""

from __future__ import annotations

import pytest

from backend.customers.models import BlacklistChange, BlacklistEntry, Customer, CustomerAmendment
from tests.conftest import inbox, officer_confirm
from tests.factories import corporate_payload, resident_id, uscc

pytestmark = pytest.mark.django_db


def propose(api, as_user="officer.sz", **data):
    payload = {"id_type": "resident_id", "id_number": resident_id(serial=99), "name": "黑名单人", "reason": "骗保记录", "source": "理赔调查"}
    payload.update(data)
    return api(as_user).post("/api/blacklist/", payload, format="json")


def approve_blacklist(api, change_id, reviewer="reviewer.gd"):
    [task] = [t for t in inbox(api(reviewer)) if t["process"] == "blacklist_change" and t["case_id"] == change_id]
    resp = api(reviewer).post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json")
    assert resp.status_code == 200, resp.content


def test_addition_takes_effect_only_after_review(api):
    resp = propose(api)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    entry = BlacklistEntry.objects.get(pk=body["entry"]["id"])
    assert entry.status == "pending" and body["entry"]["id_number"] != entry.id_number  # masked
    approve_blacklist(api, body["id"])
    assert BlacklistEntry.objects.get(pk=entry.pk).status == "active"
    assert BlacklistChange.objects.get(pk=body["id"]).decided_by.username == "reviewer.gd"


def test_requester_cannot_review_own_change(api, users):
    from backend.organisation.models import OrgUnit, Role, RoleAssignment

    RoleAssignment.objects.create(user=users["officer.gd"], role=Role.REVIEWER, org_unit=OrgUnit.objects.get(code="GD"))
    body = propose(api, as_user="officer.gd").json()
    assert all(t["case_id"] != body["id"] for t in inbox(api("officer.gd")) if t["process"] == "blacklist_change")
    from tasks.models import HumanTask

    task = HumanTask.objects.get(case_type="customers.blacklistchange", case_id=body["id"], status="ready")
    assert api("officer.gd").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json").status_code in (403, 404)
    assert BlacklistEntry.objects.get(pk=body["entry"]["id"]).status == "pending"


@pytest.mark.parametrize(
    "data, field",
    [({"id_number": "123"}, "id_number"), ({"id_type": "licence"}, "id_type"), ({"reason": ""}, "reason"), ({"source": ""}, "source")],
)
def test_bad_blacklist_input_is_a_field_error(api, data, field):
    resp = propose(api, **data)
    assert resp.status_code == 400 and field in resp.json(), resp.content
    assert BlacklistEntry.objects.count() == 0


def test_only_officers_and_compliance_may_propose(api):
    assert propose(api, as_user="collector.sz").status_code == 403
    assert propose(api, as_user="compliance.ho").status_code == 201


def test_duplicate_live_entry_is_refused(api):
    assert propose(api).status_code == 201
    resp = propose(api)
    assert resp.status_code == 400 and "id_number" in resp.json()


def test_blacklisted_primary_opening_goes_to_province_special_review(api, submit):
    approve_blacklist(api, propose(api, id_number=resident_id(serial=42)).json()["id"])
    body = submit("primary", id_number=resident_id(serial=42)).json()
    assert body["status"] == "pending_review" and "blacklist_hit" in body["flags"]
    assert inbox(api("reviewer.sz")) == []
    [task] = [t for t in inbox(api("reviewer.gd")) if t["process"] == "individual_account_opening"]
    detail = api("reviewer.gd").get(f"/api/tasks/{task['id']}/").json()
    assert detail["case"]["checks"]["blacklist"][0]["source"] == "理赔调查"
    resp = api("reviewer.gd").post(f"/api/tasks/{task['id']}/complete/", {"decision": "reject", "comment": "黑名单客户"}, format="json")
    assert resp.status_code == 200
    assert Customer.objects.get(pk=body["customer_id"]).status == "rejected"


def test_legal_representative_on_blacklist_routes_corporate_opening(api):
    rep = resident_id(serial=43)
    approve_blacklist(api, propose(api, id_number=rep).json()["id"])
    resp = api("collector.sz").post(
        "/api/account-openings/", corporate_payload("advanced", legal_rep_id_number=rep, id_number=uscc("91440300MA5DC0QY0")), format="multipart"
    )
    assert resp.status_code == 201, resp.content
    assert "blacklist_hit" in resp.json()["flags"]
    officer_confirm(api, resp.json()["id"])  # a collector's opening: the officer first (issue 16 item 4)
    assert [t["process"] for t in inbox(api("reviewer.gd"))] == ["corporate_account_opening"]
    assert inbox(api("reviewer.sz")) == []


def test_amendment_to_a_blacklisted_id_goes_to_province(api, submit):
    body = submit("primary").json()
    approve_blacklist(api, propose(api, id_number=resident_id(serial=44)).json()["id"])
    resp = api("collector.sz").post(
        f"/api/customers/{body['customer_id']}/amendments/", {"id_number": resident_id(serial=44), "reason": "更正"}, format="json"
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["flags"] == ["blacklist_hit"] and resp.json()["review_level"] == "province"
    assert CustomerAmendment.objects.get().checks["blacklist"][0]["reason"] == "骗保记录"


def test_removal_is_reviewed_too(api):
    change = propose(api).json()
    approve_blacklist(api, change["id"])
    entry_id = change["entry"]["id"]
    resp = api("officer.sz").post(f"/api/blacklist/{entry_id}/remove/", {"reason": "已结案"}, format="json")
    assert resp.status_code == 201, resp.content
    assert BlacklistEntry.objects.get(pk=entry_id).status == "active"
    approve_blacklist(api, resp.json()["id"])
    assert BlacklistEntry.objects.get(pk=entry_id).status == "removed"


def test_blacklist_is_level_scoped(api):
    change = propose(api).json()
    assert api("officer.gz").get(f"/api/blacklist/{change['entry']['id']}/").status_code == 404
    assert api("officer.gd").get(f"/api/blacklist/{change['entry']['id']}/").status_code == 200
    assert api("collector.sz").get("/api/blacklist/").status_code == 403


@pytest.mark.parametrize("status", ["a\x00b", "unknown", "💥"])
def test_list_refuses_an_unknown_status_filter_with_400(api, status):
    # Found by the schemathesis fuzz: a NUL byte in ?status= reached PostgreSQL (500).
    resp = api("officer.sz").get("/api/blacklist/", {"status": status})
    assert resp.status_code == 400, resp.content
    assert "status" in resp.json()


def test_list_filters_by_a_known_status(api):
    body = propose(api).json()
    assert [e["id"] for e in api("officer.sz").get("/api/blacklist/", {"status": "pending"}).json()["results"]] == [body["entry"]["id"]]
    assert api("officer.sz").get("/api/blacklist/", {"status": "active"}).json()["results"] == []

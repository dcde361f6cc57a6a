"""The reviewer's side: inbox, claim, approve / reject / return → resubmit, four eyes, scope."""

from __future__ import annotations

import pytest

from backend.common.models import AuditEvent
from backend.customers.models import Customer
from backend.organisation.models import OrgUnit, Role, RoleAssignment
from tasks.models import HumanTask
from tests.conftest import inbox, officer_confirm

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(submit, api):
    body = submit("advanced").json()
    task = inbox(api("reviewer.sz"))[0]
    return body, task


def complete(client, task_id, **data):
    return client.post(f"/api/tasks/{task_id}/complete/", data, format="json")


def test_claim_then_approve_activates_customer(opened, api):
    body, task = opened
    reviewer = api("reviewer.sz")
    claimed = reviewer.post(f"/api/tasks/{task['id']}/claim/")
    assert claimed.status_code == 200
    assert claimed.json()["assignee"] == "reviewer.sz"
    resp = complete(reviewer, task["id"], decision="approve", comment="资料齐全")
    assert resp.status_code == 200, resp.content
    assert Customer.objects.get(pk=body["customer_id"]).status == "active"
    assert inbox(reviewer) == []
    assert api("reviewer.sz").get(f"/api/customers/{body['customer_id']}/").json()["status"] == "active"


def test_reject_closes_case_with_reason(opened, api):
    body, task = opened
    resp = complete(api("reviewer.sz"), task["id"], decision="reject", comment="证件与本人不符")
    assert resp.status_code == 200, resp.content
    customer = Customer.objects.get(pk=body["customer_id"])
    assert customer.status == "rejected"
    assert customer.openings.get().decision_comment == "证件与本人不符"
    assert HumanTask.objects.filter(status="ready").count() == 0


def test_reject_and_return_need_a_comment(opened, api):
    body, task = opened
    for decision in ("reject", "return"):
        resp = complete(api("reviewer.sz"), task["id"], decision=decision)
        assert resp.status_code == 400, resp.content
        assert "comment" in resp.json()
    assert Customer.objects.get(pk=body["customer_id"]).status == "pending_review"


@pytest.mark.parametrize("data, field", [({"decision": "maybe"}, "decision"), ({}, "decision"), ({"decision": "approve", "extra": 1}, "extra"), ({"decision": "approve", "comment": 5}, "comment")])
def test_form_value_outside_schema_is_400_and_changes_nothing(opened, api, data, field):
    body, task = opened
    resp = api("reviewer.sz").post(f"/api/tasks/{task['id']}/complete/", data, format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json()
    assert HumanTask.objects.get(pk=task["id"]).status == "ready"
    assert Customer.objects.get(pk=body["customer_id"]).status == "pending_review"


def test_return_goes_to_collector_and_loops_back_to_review(opened, api):
    body, task = opened
    assert complete(api("reviewer.sz"), task["id"], decision="return", comment="请补充地址").status_code == 200
    assert Customer.objects.get(pk=body["customer_id"]).status == "returned"
    assert inbox(api("reviewer.sz")) == []
    fix = inbox(api("collector.sz"))
    assert len(fix) == 1 and fix[0]["step"] == "fix_submission" and fix[0]["assignee"] == "collector.sz"
    customer = Customer.objects.get(pk=body["customer_id"])
    resp = complete(
        api("collector.sz"),
        fix[0]["id"],
        name=customer.name,
        id_type=customer.id_type,
        id_number=customer.id_number,
        phone="13812345679",
        address="深圳市福田区 2 号",
        comment="已补充地址",
    )
    assert resp.status_code == 200, resp.content
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.status == "pending_review"
    assert customer.address == "深圳市福田区 2 号"
    assert customer.phone == "+8613812345679"
    officer_confirm(api, body["id"])  # the collector's changed data passes the officer again (issue 16 item 4)
    again = inbox(api("reviewer.sz"))
    assert len(again) == 1 and again[0]["step"] == "review" and again[0]["id"] != task["id"]
    assert complete(api("reviewer.sz"), again[0]["id"], decision="approve").status_code == 200
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.status == "active"
    changes = AuditEvent.objects.get(action="customer.resubmitted").data["changes"]
    assert changes["address"] == {"old": "深圳市南山区科技园 1 号", "new": "深圳市福田区 2 号"}


def test_fix_form_rejects_bad_id_number(opened, api):
    body, task = opened
    complete(api("reviewer.sz"), task["id"], decision="return", comment="请核对证件")
    fix = inbox(api("collector.sz"))[0]
    resp = complete(api("collector.sz"), fix["id"], name="王小明", id_type="resident_id", id_number="123", phone="13812345678")
    assert resp.status_code == 400
    assert "id_number" in resp.json()
    assert HumanTask.objects.get(pk=fix["id"]).status == "ready"


def test_collector_never_approves_own_submission_even_as_reviewer(users, submit, api):
    collector = users["collector.sz"]
    RoleAssignment.objects.create(user=collector, role=Role.REVIEWER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    submit("advanced", as_user="collector.sz")
    task = HumanTask.objects.get(step="review")
    assert [t["id"] for t in inbox(api("collector.sz"))] == []
    assert api("collector.sz").post(f"/api/tasks/{task.pk}/claim/").status_code == 403
    resp = complete(api("collector.sz"), task.pk, decision="approve")
    assert resp.status_code == 403
    assert resp.json()["code"] == "four_eyes"
    assert Customer.objects.get().status == "pending_review"


def test_completed_task_gets_409(opened, api):
    body, task = opened
    assert complete(api("reviewer.sz"), task["id"], decision="approve").status_code == 200
    resp = complete(api("reviewer.sz"), task["id"], decision="reject", comment="x")
    assert resp.status_code == 409
    assert Customer.objects.get(pk=body["customer_id"]).status == "active"
    # Once: the review (the officer's step, issue 16 item 4, is another task of the case).
    assert AuditEvent.objects.filter(action="task.completed", task_id=task["id"]).count() == 1


def test_task_claimed_by_someone_else_is_409(opened, api, users):
    body, task = opened
    second = users["reviewer.gz"]
    RoleAssignment.objects.create(user=second, role=Role.REVIEWER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    assert api("reviewer.sz").post(f"/api/tasks/{task['id']}/claim/").status_code == 200
    assert api("reviewer.gz").post(f"/api/tasks/{task['id']}/claim/").status_code == 409
    assert complete(api("reviewer.gz"), task["id"], decision="approve").status_code == 409


def test_inbox_sorted_by_due_with_counts(submit, api):
    for _ in range(3):
        assert submit("advanced").status_code == 201
    resp = api("reviewer.sz").get("/api/tasks/")
    body = resp.json()
    assert body["count"] == 3
    assert body["counts"]["total"] == 3 and body["counts"]["group"] == 3 and body["counts"]["mine"] == 0
    dues = [t["due_at"] for t in body["results"]]
    assert dues == sorted(dues)


@pytest.mark.parametrize("route", ["/api/tasks/{task}/", "/api/customers/{customer}/", "/api/customers/{customer}/collection-card.pdf", "/api/account-openings/{case}/"])
def test_guangzhou_reviewer_gets_404_for_shenzhen_reads(opened, api, route):
    body, task = opened
    url = route.format(task=task["id"], customer=body["customer_id"], case=body["id"])
    # Printing is a POST (control 13); the scope rule is the same.
    call = (lambda c: c.post(url, format="json")) if url.endswith(".pdf") else (lambda c: c.get(url))
    assert call(api("reviewer.gz")).status_code == 404
    assert call(api("reviewer.sz")).status_code == 200


@pytest.mark.parametrize("action", ["claim", "unclaim", "complete"])
def test_guangzhou_reviewer_gets_404_for_shenzhen_actions(opened, api, action):
    body, task = opened
    resp = api("reviewer.gz").post(f"/api/tasks/{task['id']}/{action}/", {"decision": "approve"}, format="json")
    assert resp.status_code == 404
    assert HumanTask.objects.get(pk=task["id"]).status == "ready"
    assert Customer.objects.get(pk=body["customer_id"]).status == "pending_review"


def test_customer_personal_fields_are_masked(opened, api):
    body, _ = opened
    data = api("reviewer.sz").get(f"/api/customers/{body['customer_id']}/").json()
    customer = Customer.objects.get(pk=body["customer_id"])
    assert data["id_number"] == customer.id_number[0] + "*" * 16 + customer.id_number[-1]
    # Mainland numbers are shown in their national form, first 3 + last 4: 138****5678.
    assert data["phone"] == "138****5678"
    assert customer.id_number not in str(data)


def test_province_reviewer_sees_but_cannot_claim_city_task(opened, api):
    body, task = opened
    assert api("reviewer.gd").get(f"/api/tasks/{task['id']}/").status_code == 200
    assert api("reviewer.gd").post(f"/api/tasks/{task['id']}/claim/").status_code == 403


def test_fix_form_fields_left_empty_keep_their_values(opened, api):
    body, task = opened
    before = Customer.objects.get(pk=body["customer_id"])
    complete(api("reviewer.sz"), task["id"], decision="return", comment="请更正地址")
    fix = inbox(api("collector.sz"))[0]
    resp = complete(api("collector.sz"), fix["id"], address="深圳市罗湖区 3 号", phone="", email="")
    assert resp.status_code == 200, resp.content
    after = Customer.objects.get(pk=body["customer_id"])
    assert after.address == "深圳市罗湖区 3 号"
    assert (after.phone, after.email, after.id_number, after.name) == (before.phone, before.email, before.id_number, before.name)
    assert after.status == "pending_review"


def test_officer_sees_full_values_and_each_full_view_is_audited(opened, api):
    body, _ = opened
    customer = Customer.objects.get(pk=body["customer_id"])
    data = api("officer.sz").get(f"/api/customers/{body['customer_id']}/").json()
    assert data["masked"] is False and data["id_number"] == customer.id_number
    assert AuditEvent.objects.filter(action="customer.viewed_full", object_id=str(customer.pk)).count() == 1
    listed = api("officer.sz").get("/api/customers/").json()["results"]
    assert listed[0]["masked"] is True and listed[0]["id_number"] != customer.id_number
    assert AuditEvent.objects.filter(action="customer.viewed_full").count() == 1

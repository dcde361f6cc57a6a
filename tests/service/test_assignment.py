"""客户分配与移交 (seed 001 §二, 一户一经理): a customer has at most one manager; assigning or
transferring one is a request with a reason, approved by the head of the receiving manager's
unit; four eyes; bad input and a second open request are refused with nothing written."""

from __future__ import annotations

import pytest

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from backend.service.models import CustomerAssignment, CustomerManager, ManagedCustomer
from backend.service.services import customer_manager_ensure
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.customers.factories import customer_make

pytestmark = pytest.mark.django_db

PROCESS = "customer_assignment"
CASE = "service.customerassignment"


def request_(api, customer_id, as_user="manager.sz", manager="manager.sz", reason="客户为本人开发的新客户，由本人负责一站式服务"):
    return api(as_user).post("/api/customer-assignments/", {"customer_id": customer_id, "manager": manager, "reason": reason}, format="json")


def _task(client, case_id):
    return next((t for t in inbox(client) if t["process"] == PROCESS and t["case_id"] == case_id), None)


def _approve(api, case_id, decision="approve", comment="同意"):
    task = _task(api("head.sz"), case_id)
    assert task is not None
    return api("head.sz").post(f"/api/tasks/{task['id']}/complete/", {"decision": decision, "comment": comment}, format="json")


def _second_manager(users):
    colleague = user_ensure(username="manager2.sz", password="demo-pass-2026", full_name="深圳客户经理二")
    unit = OrgUnit.objects.get(code="GD-SZ")
    role_assign(user=colleague, role=Role.CUSTOMER_MANAGER, org_unit=unit)
    customer_manager_ensure(user=colleague, org_unit=unit, grade="regular")
    return colleague


def test_the_unit_head_approves_and_the_customer_has_its_manager(api, users):
    customer = customer_make()
    assert api("officer.sz").get(f"/api/customers/{customer.pk}/").json()["manager"] is None
    resp = request_(api, customer.pk)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "pending" and body["transfer"] is False and body["manager"]["username"] == "manager.sz"
    assert not ManagedCustomer.objects.exists()
    done = _approve(api, body["id"])
    assert done.status_code == 200, done.content
    detail = api("officer.sz").get(f"/api/customers/{customer.pk}/").json()
    assert detail["manager"]["username"] == "manager.sz" and detail["manager"]["grade"] == "junior"
    after = api("manager.sz").get(f"/api/customer-assignments/{body['id']}/").json()
    assert after["status"] == "approved" and after["decided_by"] == "head.sz"
    actions = set(AuditEvent.objects.filter(object_type=CASE, object_id=str(body["id"])).values_list("action", flat=True))
    assert "customer_assignment.approved" in actions


def test_a_transfer_keeps_one_manager_and_the_reason(api, users):
    customer = customer_make()
    _approve(api, request_(api, customer.pk).json()["id"])
    _second_manager(users)
    resp = request_(api, customer.pk, as_user="officer.sz", manager="manager2.sz", reason="原客户经理调岗，客户移交")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["transfer"] is True and body["previous_manager"]["username"] == "manager.sz"
    assert _approve(api, body["id"]).status_code == 200
    assert ManagedCustomer.objects.filter(customer=customer).count() == 1
    assert ManagedCustomer.objects.get(customer=customer).manager.user.username == "manager2.sz"
    assert CustomerAssignment.objects.get(pk=body["id"]).reason == "原客户经理调岗，客户移交"


def test_a_rejection_keeps_the_customer_as_it_was(api):
    customer = customer_make()
    body = request_(api, customer.pk).json()
    assert _approve(api, body["id"], decision="reject", comment="客户已由营业部服务").status_code == 200
    assert not ManagedCustomer.objects.exists()
    assert CustomerAssignment.objects.get(pk=body["id"]).status == "rejected"


def test_the_same_manager_again_and_a_second_open_request_are_refused(api, users):
    customer = customer_make()
    _approve(api, request_(api, customer.pk).json()["id"])
    again = request_(api, customer.pk)
    assert again.status_code == 400 and "manager" in again.json()
    _second_manager(users)
    assert request_(api, customer.pk, manager="manager2.sz").status_code == 201
    twice = request_(api, customer.pk, as_user="officer.sz", manager="manager2.sz")
    assert twice.status_code == 409 and twice.json()["code"] == "assignment_pending"
    assert CustomerAssignment.objects.filter(customer=customer).count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"manager": ""}, "manager"),
        ({"manager": "reviewer.sz"}, "manager"),
        ({"manager": "nobody"}, "manager"),
        ({"manager": "x" * 5000}, "manager"),
        ({"manager": ["manager.sz"]}, "manager"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "理由\x07"}, "reason"),
    ],
)
def test_bad_input_is_a_400_next_to_the_field_and_writes_nothing(api, overrides, field):
    customer = customer_make()
    data = {"customer_id": customer.pk, "manager": "manager.sz", "reason": "新客户", **overrides}
    resp = api("manager.sz").post("/api/customer-assignments/", data, format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json(), resp.json()
    assert not CustomerAssignment.objects.exists() and not HumanTask.objects.filter(case_type=CASE).exists()


def test_a_manager_of_another_branch_cannot_receive_the_customer(api, users):
    far = user_ensure(username="manager.gz", password="demo-pass-2026")
    unit = OrgUnit.objects.get(code="GD-GZ")
    role_assign(user=far, role=Role.CUSTOMER_MANAGER, org_unit=unit)
    customer_manager_ensure(user=far, org_unit=unit, grade="regular")
    resp = request_(api, customer_make().pk, manager="manager.gz")
    assert resp.status_code == 400 and "manager" in resp.json()
    assert not CustomerAssignment.objects.exists()


def test_out_of_scope_is_404_and_other_roles_are_403(api):
    missing = request_(api, 987654321)
    other = request_(api, customer_make(org="GD-GZ").pk)
    assert other.status_code == 404 and other.json() == missing.json()
    refused = request_(api, customer_make().pk, as_user="reviewer.sz")
    assert refused.status_code == 403 and refused.json()["code"] == "assignment_not_allowed"
    assert not CustomerAssignment.objects.exists()


def test_nobody_approves_a_request_he_made_or_that_names_him(api, users):
    me = users["manager.sz"]
    role_assign(user=me, role=Role.UNIT_HEAD, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    body = request_(api, customer_make().pk).json()
    assert _task(api("manager.sz"), body["id"]) is None
    task = HumanTask.objects.get(case_type=CASE, case_id=body["id"], status="ready")
    resp = api("manager.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json")
    assert resp.status_code in (403, 404), resp.content
    # An officer's request naming manager.sz: he is not its requester, yet it names him.
    customer = customer_make()
    named = request_(api, customer.pk, as_user="officer.sz").json()
    task = HumanTask.objects.get(case_type=CASE, case_id=named["id"], status="ready")
    resp = api("manager.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json")
    assert resp.status_code in (403, 404), resp.content
    assert not ManagedCustomer.objects.exists()


def test_reading_is_scoped(api):
    body = request_(api, customer_make().pk).json()
    url = f"/api/customer-assignments/{body['id']}/"
    for username in ("manager.sz", "head.sz", "officer.sz", "compliance.ho", "cs.ho"):
        assert api(username).get(url).status_code == 200, username
    missing = api("reviewer.gz").get("/api/customer-assignments/987654321/")
    for username in ("reviewer.gz", "collector.sz", "handler.hz", "officer.gz", "reviewer.sz"):
        got = api(username).get(url)
        assert got.status_code == 404 and got.content == missing.content, username
    assert CustomerManager.objects.filter(user__username="manager.sz").exists()

"""客户信息修改: contact changes at city level, identity changes at province level, stale
requests refused, history exactly the applied changes, four eyes and scope."""

from __future__ import annotations

import pytest

from backend.common.models import AuditEvent
from backend.customers.models import Customer, CustomerAmendment, CustomerFieldChange
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.factories import resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(submit, api):
    """An active advanced customer of 深圳."""
    body = submit("advanced").json()
    [task] = inbox(api("reviewer.sz"))
    assert api("reviewer.sz").post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json").status_code == 200
    return Customer.objects.get(pk=body["customer_id"])


def request_change(api, customer_id, as_user="collector.sz", **data):
    return api(as_user).post(f"/api/customers/{customer_id}/amendments/", data, format="json")


def complete(api, username, task_id, **data):
    return api(username).post(f"/api/tasks/{task_id}/complete/", data, format="json")


def test_contact_change_is_reviewed_at_city_level_and_applied_with_history(api, customer):
    resp = request_change(api, customer.pk, phone="13900001111", address="深圳市福田区 8 号", reason="客户来电更新")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["scope"], body["review_level"], body["status"]) == ("contact", "city", "pending")
    assert {c["field"] for c in body["changes"]} == {"phone", "address"}
    assert inbox(api("reviewer.gd")) == []
    [task] = inbox(api("reviewer.sz"))
    assert task["process"] == "customer_amendment" and task["case_id"] == body["id"]
    assert complete(api, "reviewer.sz", task["id"], decision="approve").status_code == 200

    changed = Customer.objects.get(pk=customer.pk)
    assert (changed.phone, changed.address, changed.version) == ("+8613900001111", "深圳市福田区 8 号", customer.version + 1)
    history = {(h.field, h.old_value, h.new_value, h.reason, h.changed_by.username, h.approved_by.username, h.case_id) for h in CustomerFieldChange.objects.all()}
    assert history == {
        ("phone", customer.phone, "+8613900001111", "客户来电更新", "collector.sz", "reviewer.sz", body["id"]),
        ("address", customer.address, "深圳市福田区 8 号", "客户来电更新", "collector.sz", "reviewer.sz", body["id"]),
    }
    assert CustomerAmendment.objects.get(pk=body["id"]).status == "applied"
    assert AuditEvent.objects.filter(action="customer.amended", object_id=str(customer.pk)).count() == 1


def test_identity_change_goes_to_province_and_never_to_city(api, customer):
    new_id = resident_id(serial=77, birth=__import__("datetime").date(1985, 6, 16))
    body = request_change(api, customer.pk, name="王晓明", id_number=new_id, reason="更正证件号码").json()
    assert (body["scope"], body["review_level"]) == ("identity", "province")
    assert inbox(api("reviewer.sz")) == []
    [task] = inbox(api("reviewer.gd"))
    # A city reviewer can neither claim nor approve it.
    assert api("reviewer.sz").post(f"/api/tasks/{task['id']}/claim/").status_code in (403, 404)
    assert complete(api, "reviewer.sz", task["id"], decision="approve").status_code in (403, 404)
    assert Customer.objects.get(pk=customer.pk).id_number == customer.id_number
    assert complete(api, "reviewer.gd", task["id"], decision="approve").status_code == 200
    changed = Customer.objects.get(pk=customer.pk)
    assert (changed.name, changed.id_number, changed.birth_date.isoformat()) == ("王晓明", new_id, "1985-06-16")
    new_gender = "M" if int(new_id[16]) % 2 else "F"
    expected = {"name", "id_number", "birth_date"} | ({"gender"} if new_gender != customer.gender else set())
    assert set(CustomerFieldChange.objects.values_list("field", flat=True)) == expected
    assert changed.gender == new_gender


def test_escalated_identity_change_cannot_be_approved_by_a_city_reviewer_even_if_transferred(api, customer):
    body = request_change(api, customer.pk, name="王晓明", reason="更名").json()
    amendment = CustomerAmendment.objects.get(pk=body["id"])
    task = HumanTask.objects.get(instance_id=amendment.process_instance_id, status="ready")
    # Even with the task handed to them directly, the validator refuses a city-level approval.
    HumanTask.objects.filter(pk=task.pk).update(assignee=__import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model().objects.get(username="reviewer.sz"))
    resp = complete(api, "reviewer.sz", task.pk, decision="approve")
    assert resp.status_code in (400, 403, 404), resp.content
    assert Customer.objects.get(pk=customer.pk).name == customer.name


def test_requester_cannot_approve_their_own_request(api, customer, users):
    from backend.organisation.models import OrgUnit, Role, RoleAssignment

    RoleAssignment.objects.create(user=users["collector.sz"], role=Role.REVIEWER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    body = request_change(api, customer.pk, email="new@example.com", reason="更新邮箱").json()
    assert inbox(api("collector.sz")) == [] or all(t["case_id"] != body["id"] for t in inbox(api("collector.sz")))
    task = HumanTask.objects.get(instance_id=CustomerAmendment.objects.get(pk=body["id"]).process_instance_id, status="ready")
    resp = complete(api, "collector.sz", task.pk, decision="approve")
    assert resp.status_code in (403, 404)
    assert Customer.objects.get(pk=customer.pk).email == customer.email


def test_stale_request_cannot_be_approved_and_changes_nothing(api, customer):
    first = request_change(api, customer.pk, email="first@example.com", reason="甲").json()
    amendment = CustomerAmendment.objects.get(pk=first["id"])
    # The customer changes after the request was made (e.g. an endorsement applied meanwhile).
    Customer.objects.filter(pk=customer.pk).update(email="other@example.com", version=customer.version + 1)
    [task] = inbox(api("reviewer.sz"))
    assert api("reviewer.sz").get(f"/api/amendments/{amendment.pk}/").json()["stale"] is True
    resp = complete(api, "reviewer.sz", task["id"], decision="approve")
    assert resp.status_code == 400 and "decision" in resp.json()
    assert Customer.objects.get(pk=customer.pk).email == "other@example.com"
    assert CustomerFieldChange.objects.count() == 0
    assert complete(api, "reviewer.sz", task["id"], decision="reject", comment="信息已变更,请重新申请").status_code == 200
    assert CustomerAmendment.objects.get(pk=amendment.pk).status == "rejected"


def test_rejected_request_changes_nothing(api, customer):
    body = request_change(api, customer.pk, phone="13900002222", reason="更新").json()
    [task] = inbox(api("reviewer.sz"))
    assert complete(api, "reviewer.sz", task["id"], decision="reject", comment="号码未核实").status_code == 200
    after = Customer.objects.get(pk=customer.pk)
    assert (after.phone, after.version) == (customer.phone, customer.version)
    assert CustomerFieldChange.objects.count() == 0
    assert CustomerAmendment.objects.get(pk=body["id"]).decision_comment == "号码未核实"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"reason": "无变化"}, "non_field_errors"),
        ({"phone": "13812345678", "reason": "同号"}, "non_field_errors"),  # the current phone
        ({"phone": "12345", "reason": "错号"}, "phone"),
        ({"email": "not-an-email", "reason": "错"}, "email"),
        ({"id_number": "440305198502301234", "reason": "错"}, "id_number"),
        ({"birth_date": "1990-13-01", "reason": "错"}, "birth_date"),
        ({"phone": "13900003333"}, "reason"),
        ({"id_type": "uscc", "reason": "个人不可改为信用代码"}, "id_type"),
    ],
)
def test_bad_amendment_is_a_field_error_and_creates_nothing(api, customer, data, field):
    resp = request_change(api, customer.pk, **data)
    assert resp.status_code == 400, resp.content
    assert field in resp.json(), resp.json()
    assert CustomerAmendment.objects.count() == 0


def test_one_pending_request_per_customer(api, customer):
    assert request_change(api, customer.pk, phone="13900004444", reason="一").status_code == 201
    resp = request_change(api, customer.pk, email="x@example.com", reason="二")
    assert resp.status_code == 409
    assert CustomerAmendment.objects.count() == 1


def test_out_of_scope_customer_is_404_and_reviewer_cannot_request(api, customer):
    assert request_change(api, customer.pk, as_user="collector.gz", phone="13900005555", reason="越权").status_code == 404
    assert api("reviewer.gz").get(f"/api/customers/{customer.pk}/amendments/").status_code == 404
    assert request_change(api, customer.pk, as_user="reviewer.sz", phone="13900005555", reason="审核岗").status_code == 403
    assert CustomerAmendment.objects.count() == 0


def test_frozen_customer_cannot_be_amended(api, customer):
    assert api("officer.sz").post(f"/api/customers/{customer.pk}/freeze/", {"reason": "涉嫌欺诈"}, format="json").status_code == 200
    assert Customer.objects.get(pk=customer.pk).status == "frozen"
    resp = request_change(api, customer.pk, phone="13900006666", reason="更新")
    assert resp.status_code == 400 and "customer" in resp.json()
    assert CustomerAmendment.objects.count() == 0
    assert api("collector.sz").post(f"/api/customers/{customer.pk}/unfreeze/", {"reason": "x"}, format="json").status_code == 403
    assert api("officer.sz").post(f"/api/customers/{customer.pk}/unfreeze/", {"reason": "已核实"}, format="json").status_code == 200
    assert Customer.objects.get(pk=customer.pk).status == "active"


def test_switching_to_a_passport_keeps_the_recorded_birth_date(api, customer):
    body = request_change(api, customer.pk, id_type="passport", id_number="E12345678", reason="改用护照").json()
    assert {c["field"] for c in body["changes"]} == {"id_type", "id_number"}
    [task] = inbox(api("reviewer.gd"))
    assert complete(api, "reviewer.gd", task["id"], decision="approve").status_code == 200
    changed = Customer.objects.get(pk=customer.pk)
    assert (changed.id_type, changed.id_number, changed.birth_date, changed.gender) == ("passport", "E12345678", customer.birth_date, customer.gender)

"""客户经理离岗移交 (issue 20 item 1: "a manager's departure moves his customers through a bulk
transfer task"): an officer asks to move every customer of a departing manager to another
manager; the head of the departing manager's unit approves once; every customer moves."""

from __future__ import annotations

import pytest
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from backend.service.models import BulkTransfer, CustomerAssignment, CustomerManager, ManagedCustomer
from backend.service.services import customer_manager_ensure
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.customers.factories import customer_make

pytestmark = pytest.mark.django_db

PROCESS = "customer_bulk_transfer"
CASE = "service.bulktransfer"


def _manager(username, code="GD-SZ", grade="regular"):
    user = user_ensure(username=username, password="demo-pass-2026", full_name=username)
    unit = OrgUnit.objects.get(code=code)
    role_assign(user=user, role=Role.CUSTOMER_MANAGER, org_unit=unit)
    return customer_manager_ensure(user=user, org_unit=unit, grade=grade)


def _serve(manager, n=3):
    customers = [customer_make() for _ in range(n)]
    for customer in customers:
        case = CustomerAssignment.objects.create(
            customer=customer, manager=manager, reason="测试", requested_by=manager.user, org_unit=manager.org_unit, status="approved"
        )
        ManagedCustomer.objects.create(customer=customer, manager=manager, since=timezone.now(), assignment=case)
    return customers


def ask(api, as_user="officer.sz", **over):
    data = {"manager": "manager.sz", "to_manager": "manager2.sz", "reason": "客户经理离职，名下客户整体移交", **over}
    return api(as_user).post("/api/manager-transfers/", data, format="json")


def _decide(api, case_id, decision="approve"):
    task = next(t for t in inbox(api("head.sz")) if t["process"] == PROCESS and t["case_id"] == case_id)
    return api("head.sz").post(f"/api/tasks/{task['id']}/complete/", {"decision": decision, "comment": "同意"}, format="json")


@pytest.fixture
def two_managers(users):
    source = CustomerManager.objects.get(user__username="manager.sz")
    target = _manager("manager2.sz")
    return source, target


def test_one_approval_moves_every_customer(api, two_managers):
    source, target = two_managers
    customers = _serve(source, 3)
    resp = ask(api)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["customer_count"] == 3 and body["status"] == "pending"
    # A customer assigned to him while the request waits moves too.
    customers += _serve(source, 1)
    assert _decide(api, body["id"]).status_code == 200
    assert set(ManagedCustomer.objects.filter(customer__in=customers).values_list("manager_id", flat=True)) == {target.pk}
    after = api("officer.sz").get(f"/api/manager-transfers/{body['id']}/").json()
    assert after["status"] == "approved" and after["moved_count"] == 4 and after["decided_by"] == "head.sz"
    assert api("officer.sz").get(f"/api/customers/{customers[0].pk}/").json()["manager"]["username"] == "manager2.sz"
    assert AuditEvent.objects.filter(action="bulk_transfer.approved", object_id=str(body["id"])).exists()


def test_a_rejection_moves_nothing(api, two_managers):
    source, _target = two_managers
    _serve(source, 2)
    body = ask(api).json()
    assert _decide(api, body["id"], decision="reject").status_code == 200
    assert set(ManagedCustomer.objects.values_list("manager_id", flat=True)) == {source.pk}


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"manager": ""}, "manager"),
        ({"manager": "nobody"}, "manager"),
        ({"to_manager": "manager.sz"}, "to_manager"),
        ({"to_manager": ""}, "to_manager"),
        ({"to_manager": ["x"]}, "to_manager"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
    ],
)
def test_bad_input_is_a_400_next_to_the_field_and_writes_nothing(api, two_managers, over, field):
    _serve(two_managers[0], 1)
    resp = ask(api, **over)
    assert resp.status_code == 400, resp.content
    assert field in resp.json(), resp.json()
    assert not BulkTransfer.objects.exists() and not HumanTask.objects.filter(case_type=CASE).exists()


def test_a_manager_without_customers_and_a_receiver_who_does_not_cover_them_are_refused(api, two_managers):
    assert "manager" in ask(api).json()  # nobody served yet
    _serve(two_managers[0], 1)
    _manager("manager.gz", code="GD-GZ")
    resp = ask(api, to_manager="manager.gz")
    assert resp.status_code == 400 and "to_manager" in resp.json()
    assert not BulkTransfer.objects.exists()


def test_one_open_transfer_per_manager_and_only_officers_ask(api, two_managers):
    _serve(two_managers[0], 1)
    assert ask(api).status_code == 201
    again = ask(api)
    assert again.status_code == 409 and again.json()["code"] == "bulk_transfer_pending"
    refused = ask(api, as_user="reviewer.sz")
    assert refused.status_code == 403
    # Another branch's officer does not see Shenzhen's managers at all.
    foreign = ask(api, as_user="officer.gz")
    assert foreign.status_code == 400 and "manager" in foreign.json()
    assert BulkTransfer.objects.count() == 1


def test_the_approver_is_never_one_of_the_managers_or_the_requester(api, users, two_managers):
    source, _target = two_managers
    _serve(source, 1)
    role_assign(user=users["manager.sz"], role=Role.UNIT_HEAD, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    body = ask(api).json()
    task = HumanTask.objects.get(case_type=CASE, case_id=body["id"], status="ready")
    resp = api("manager.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json")
    assert resp.status_code in (403, 404), resp.content
    assert set(ManagedCustomer.objects.values_list("manager_id", flat=True)) == {source.pk}


def test_reading_is_scoped_and_the_page_is_for_officers_and_unit_heads(api, client, users, two_managers):
    _serve(two_managers[0], 1)
    body = ask(api).json()
    url = f"/api/manager-transfers/{body['id']}/"
    for username in ("officer.sz", "head.sz", "manager.sz", "manager2.sz", "compliance.ho"):
        assert api(username).get(url).status_code == 200, username
    missing = api("reviewer.gz").get("/api/manager-transfers/987654321/")
    for username in ("reviewer.gz", "officer.gz", "collector.sz", "reviewer.sz"):
        got = api(username).get(url)
        assert got.status_code == 404 and got.content == missing.content, username
    client.force_login(users["officer.sz"])
    page = client.get("/manager-transfers/")
    assert page.status_code == 200 and "manager2.sz" in page.content.decode()
    client.force_login(users["reviewer.sz"])
    assert client.get("/manager-transfers/").status_code == 403

"""POST /api/account-openings/: checks A–D, statuses, field errors, nothing created on failure."""

from __future__ import annotations

import pytest

from backend.common.models import AuditEvent
from backend.customers.models import AccountOpening, Customer, ScanDocument
from processes.models import ProcessInstance
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.factories import resident_id, scan_upload

pytestmark = pytest.mark.django_db


def bad_check_digit_id() -> str:
    good = resident_id()
    return good[:-1] + ("1" if good[-1] != "1" else "2")


def _nothing_created():
    assert Customer.objects.count() == 0
    assert AccountOpening.objects.count() == 0
    assert ScanDocument.objects.count() == 0
    assert ProcessInstance.objects.count() == 0
    assert HumanTask.objects.count() == 0


def test_primary_level_becomes_active_without_review(submit, api):
    # An officer's own primary-level opening (a collector's waits for the officer first:
    # tests/customers/test_officer_opens.py).
    resp = submit("primary", as_user="officer.sz")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "active"
    assert set(body) >= {"id", "status", "customer_id", "process_instance_id"}
    customer = Customer.objects.get(pk=body["customer_id"])
    assert customer.status == "active"
    assert ProcessInstance.objects.get(pk=body["process_instance_id"]).status == "completed"
    assert HumanTask.objects.count() == 0
    assert inbox(api("reviewer.sz")) == []


def test_advanced_level_waits_for_review_in_shenzhen_inbox(submit, api):
    resp = submit("advanced")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "pending_review"
    tasks = inbox(api("reviewer.sz"))
    assert len(tasks) == 1
    task = tasks[0]
    assert task["step"] == "review"
    assert task["process"] == "individual_account_opening"
    assert task["case_id"] == body["id"]
    assert task["customer_id"] == body["customer_id"]
    assert task["org_unit"] == "GD-SZ"
    assert task["assignee"] is None
    assert task["form"] == "account_opening/review"
    assert task["due_at"] is not None
    for other in ("reviewer.gz", "reviewer.hz", "reviewer.gd", "collector.sz"):
        assert inbox(api(other)) == [], other


def test_phone_is_stored_e164(submit):
    resp = submit("advanced", phone="138 1234 5678")
    assert resp.status_code == 201, resp.content
    assert Customer.objects.get().phone == "+8613812345678"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"id_number": bad_check_digit_id()}, "id_number"),
        ({"id_number": "440305" + "20990101" + "1234"}, "id_number"),
        ({"id_type": "driving_licence"}, "id_type"),
        ({"scan": None}, "scan"),
        ({"scan": scan_upload("id.png", b"this is plain text, not an image")}, "scan"),
        ({"phone": "12345"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"name": ""}, "name"),
        ({"info_level": "expert"}, "info_level"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_bad_input_gets_field_error_and_creates_nothing(submit, overrides, field):
    resp = submit("advanced", **overrides)
    assert resp.status_code == 400, resp.content
    assert field in resp.json(), resp.json()
    assert isinstance(resp.json()[field], list) and resp.json()[field][0]
    _nothing_created()


def test_bad_check_digit_is_reported_on_id_number(submit):
    resp = submit("primary", id_number=bad_check_digit_id())
    assert resp.status_code == 400
    assert set(resp.json()) == {"id_number", "code"}
    _nothing_created()


def test_future_birth_date_rejected(submit):
    from datetime import date

    resp = submit("primary", id_number=resident_id(birth=date(2099, 1, 1)))
    assert resp.status_code == 400
    assert "id_number" in resp.json()
    _nothing_created()


def test_duplicate_id_gets_409_naming_existing_customer(submit):
    number = resident_id()
    first = submit("primary", id_number=number)
    assert first.status_code == 201
    second = submit("advanced", id_number=number)
    assert second.status_code == 409, second.content
    assert second.json()["customer_id"] == first.json()["customer_id"]
    assert Customer.objects.count() == 1


def test_rejected_customer_does_not_block_a_new_opening(submit, api):
    number = resident_id()
    first = submit("advanced", id_number=number)
    task = inbox(api("reviewer.sz"))[0]
    resp = api("reviewer.sz").post(f"/api/tasks/{task['id']}/complete/", {"decision": "reject", "comment": "证件模糊"}, format="json")
    assert resp.status_code == 200, resp.content
    assert Customer.objects.get(pk=first.json()["customer_id"]).status == "rejected"
    again = submit("advanced", id_number=number)
    assert again.status_code == 201, again.content


def test_check_d_flags_phone_shared_with_customer_and_agent(submit, api):
    first = submit("advanced", phone="13900000001")  # also a sales agent's phone (seed_demo)
    assert first.status_code == 201
    second = submit("advanced", phone="13900000001")
    assert second.status_code == 201
    tasks = {t["case_id"]: t for t in inbox(api("reviewer.sz"))}
    assert "shared_phone" in tasks[second.json()["id"]]["flags"]
    assert "agent_phone" in tasks[second.json()["id"]]["flags"]
    detail = api("reviewer.sz").get(f"/api/tasks/{tasks[second.json()['id']]['id']}/").json()
    shared = detail["case"]["shared_phone"]
    assert [c["id"] for c in shared["customers"]["visible"]] == [first.json()["customer_id"]]
    assert shared["agent_codes"] == ["AG-SZ-0001"]


def test_unique_phone_has_no_flag(submit, api):
    submit("advanced", phone="13700000009")
    assert inbox(api("reviewer.sz"))[0]["flags"] == []


def test_reviewer_cannot_submit_openings(submit):
    resp = submit("primary", as_user="reviewer.sz")
    assert resp.status_code == 403
    _nothing_created()


def test_submission_is_audited(submit):
    body = submit("advanced").json()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"account_opening.submitted", "process.started", "account_opening.checked", "task.created"} <= actions
    assert AuditEvent.objects.filter(object_type="customers.customer", object_id=str(body["customer_id"])).exists()

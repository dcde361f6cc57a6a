"""Issue 16 item 4 (seed 003 §1.1.1): the collector collects, the customer-information officer
opens. A collector's submission at any level waits for an officer of the branch (confirm,
correct, or return to the collector); an officer's own primary-level opening is active at once
and his advanced-level one goes to review. The opening and the customer name the collector apart
from the officer who opened."""

from __future__ import annotations

from datetime import date

import pytest

from backend.customers.models import AccountOpening, Customer
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.factories import opening_payload, resident_id

pytestmark = pytest.mark.django_db


def officer_task(api, opening_id: int, username: str = "officer.sz") -> dict:
    [task] = [t for t in inbox(api(username)) if t["case_id"] == opening_id and t["step"] == "officer_check"]
    return task


def complete(api, username: str, task_id: int, **data):
    return api(username).post(f"/api/tasks/{task_id}/complete/", data, format="json")


def detail(api, opening_id: int, username: str = "collector.sz") -> dict:
    resp = api(username).get(f"/api/account-openings/{opening_id}/")
    assert resp.status_code == 200, resp.content
    return resp.json()


@pytest.mark.parametrize("level", ["primary", "advanced"])
def test_a_collectors_submission_waits_for_the_officer_of_the_branch(api, submit, level):
    body = submit(level, confirm_as=None).json()
    assert body["status"] == "pending_review"
    assert (body["collector"], body["opened_by"]) == ("collector.sz", None)
    task = officer_task(api, body["id"])
    assert task["process"] == "individual_account_opening" and task["org_unit"] == "GD-SZ"
    # Nobody else works it: not the reviewer, not the collector, not another branch's officer.
    assert [t for t in inbox(api("reviewer.sz")) if t["case_id"] == body["id"]] == []
    assert [t for t in inbox(api("collector.sz")) if t["case_id"] == body["id"]] == []
    assert [t for t in inbox(api("officer.gz")) if t["case_id"] == body["id"]] == []
    assert complete(api, "collector.sz", task["id"], decision="confirm").status_code in (403, 404)
    assert complete(api, "reviewer.sz", task["id"], decision="confirm").status_code == 403

    assert (
        complete(api, "officer.sz", task["id"], decision="confirm", comment="已核对证件").status_code == 200
    )
    after = detail(api, body["id"])
    assert (after["collector"], after["opened_by"]) == ("collector.sz", "officer.sz")
    assert after["opened_at"] is not None
    customer = api("officer.sz").get(f"/api/customers/{body['customer_id']}/").json()
    assert (customer["collector"], customer["opened_by"]) == ("collector.sz", "officer.sz")
    if level == "primary":
        assert after["status"] == "active"
        assert HumanTask.objects.filter(status="ready").count() == 0
    else:
        assert after["status"] == "pending_review"
        [review] = [t for t in inbox(api("reviewer.sz")) if t["case_id"] == body["id"]]
        assert review["step"] == "review"
        # Four eyes: the officer who opened it does not review it either.
        assert complete(api, "officer.sz", review["id"], decision="approve").status_code == 403
        assert complete(api, "reviewer.sz", review["id"], decision="approve").status_code == 200
        assert detail(api, body["id"])["status"] == "active"


def test_the_officer_corrects_and_the_checks_run_again(api, submit):
    agent_phone = "+8613900000001"  # the demo sales agent's phone (check D)
    body = submit("advanced", phone="13812349999", confirm_as=None).json()
    assert body["flags"] == []
    task = officer_task(api, body["id"])
    resp = complete(
        api,
        "officer.sz",
        task["id"],
        decision="correct",
        phone=agent_phone,
        address="深圳市福田区 2 号",
        comment="按客户口述更正",
    )
    assert resp.status_code == 200, resp.content
    after = detail(api, body["id"])
    assert {"agent_phone", "shared_phone"} <= set(after["flags"]) and after["opened_by"] == "officer.sz"
    customer = Customer.objects.get(pk=body["customer_id"])
    assert (customer.phone, customer.address) == (agent_phone, "深圳市福田区 2 号")
    # The review shows the new flags; the officer who corrected may not approve.
    review = HumanTask.objects.get(case_id=body["id"], step="review", status="ready")
    assert set(review.flags) >= {"agent_phone"}
    assert complete(api, "officer.sz", review.pk, decision="approve").status_code == 403
    trail = api("officer.sz").get(f"/api/tasks/{review.pk}/").json()["case"]["trail"]
    assert any(e["action"] == "完成任务: 客户信息管理岗确认开户 更正后开户" for e in trail)


def test_a_bad_correction_is_a_field_error_and_changes_nothing(api, submit):
    other = submit("primary", as_user="officer.sz", id_number=resident_id(birth=date(1970, 5, 5))).json()
    body = submit("advanced", confirm_as=None).json()
    task = officer_task(api, body["id"])
    before = Customer.objects.get(pk=body["customer_id"])
    for data, field in (
        ({"decision": "correct", "id_number": "440304199003071234", "comment": "x"}, "id_number"),  # check B
        ({"decision": "correct", "phone": "abc", "comment": "x"}, "phone"),
        ({"decision": "correct", "comment": "x"}, "decision"),  # nothing to correct
        (
            {"decision": "correct", "name": "王小明", "comment": "x"},
            "decision",
        ),  # the same value is no correction
        ({"decision": "correct", "phone": "13800001111"}, "comment"),  # a correction says why
        ({"decision": "confirm", "phone": "13800001111"}, "decision"),  # typed but not applied
        ({"decision": "return"}, "comment"),
        ({"decision": "approve"}, "decision"),
    ):
        resp = complete(api, "officer.sz", task["id"], **data)
        assert resp.status_code == 400 and field in resp.json(), (data, resp.content)
    # Check A: another customer's id document.
    held = Customer.objects.get(pk=other["customer_id"]).id_number
    resp = complete(api, "officer.sz", task["id"], decision="correct", id_number=held, comment="x")
    assert resp.status_code == 400 and "id_number" in resp.json()
    after = Customer.objects.get(pk=body["customer_id"])
    assert (after.id_number, after.phone, after.status) == (before.id_number, before.phone, "pending_review")
    assert HumanTask.objects.get(pk=task["id"]).status == "ready"
    assert detail(api, body["id"])["opened_by"] is None


def test_the_officer_returns_to_the_collector_and_sees_the_fix_again(api, submit):
    body = submit("primary", confirm_as=None).json()
    task = officer_task(api, body["id"])
    assert (
        complete(api, "officer.sz", task["id"], decision="return", comment="扫描件不清晰").status_code == 200
    )
    assert detail(api, body["id"])["status"] == "returned"
    [fix] = [t for t in inbox(api("collector.sz")) if t["case_id"] == body["id"]]
    assert fix["step"] == "fix_submission"
    assert complete(api, "collector.sz", fix["id"], comment="已重新拍摄").status_code == 200
    again = officer_task(api, body["id"])
    assert again["id"] != task["id"]
    assert complete(api, "officer.sz", again["id"], decision="confirm").status_code == 200
    after = detail(api, body["id"])
    assert (after["status"], after["return_count"], after["opened_by"]) == ("active", 1, "officer.sz")


def test_a_reviewers_return_goes_to_the_collector_then_the_officer_again(api, submit):
    body = submit("advanced").json()  # confirmed by officer.sz
    review = HumanTask.objects.get(case_id=body["id"], step="review", status="ready")
    assert complete(api, "reviewer.sz", review.pk, decision="return", comment="补充地址").status_code == 200
    fix = HumanTask.objects.get(case_id=body["id"], step="fix_submission", status="ready")
    assert (
        complete(api, "collector.sz", fix.pk, address="深圳市南山区 9 号", comment="已补充").status_code
        == 200
    )
    assert detail(api, body["id"])["opened_by"] is None  # the officer confirms the changed data again
    task = officer_task(api, body["id"])
    assert complete(api, "officer.sz", task["id"], decision="confirm").status_code == 200
    assert HumanTask.objects.filter(case_id=body["id"], step="review", status="ready").exists()


def test_an_officers_own_opening_primary_active_at_once_advanced_to_review(api, submit):
    primary = submit("primary", as_user="officer.sz").json()
    assert primary["status"] == "active"
    assert (primary["collector"], primary["opened_by"]) == ("officer.sz", "officer.sz")
    advanced = submit("advanced", as_user="officer.sz", id_number=resident_id(birth=date(1961, 2, 3))).json()
    assert advanced["status"] == "pending_review"
    steps = list(HumanTask.objects.filter(case_id=advanced["id"]).values_list("step", flat=True))
    assert steps == ["review"]


def test_an_officer_opens_on_behalf_of_a_named_collector(api, users):
    payload = opening_payload("advanced", collector="collector.sz")
    resp = api("officer.sz").post("/api/account-openings/", payload, format="multipart")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["collector"], body["opened_by"]) == ("collector.sz", "officer.sz")
    assert Customer.objects.get(pk=body["customer_id"]).collected_by.username == "collector.sz"
    # Four eyes: the collector holds a reviewer role too, and still may not review it.
    role_assign(user=users["collector.sz"], role=Role.REVIEWER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    review = HumanTask.objects.get(case_id=body["id"], step="review", status="ready")
    assert review.pk not in {t["id"] for t in inbox(api("collector.sz"))}
    resp = complete(api, "collector.sz", review.pk, decision="approve")
    assert resp.status_code == 403 and resp.json()["code"] == "four_eyes"
    assert complete(api, "reviewer.sz", review.pk, decision="approve").status_code == 200


@pytest.mark.parametrize(
    "as_user, collector",
    [
        ("officer.sz", "nobody.sz"),  # unknown
        ("officer.sz", "collector.gz"),  # a collector of another branch
        ("officer.sz", "reviewer.sz"),  # not a collector
        ("collector.sz", "collector.sz"),  # only an officer names a collector
    ],
)
def test_a_bad_collector_is_400_on_that_field_and_changes_nothing(api, as_user, collector):
    payload = opening_payload("advanced", collector=collector)
    resp = api(as_user).post("/api/account-openings/", payload, format="multipart")
    assert resp.status_code == 400 and "collector" in resp.json(), resp.content
    assert (Customer.objects.count(), AccountOpening.objects.count(), HumanTask.objects.count()) == (0, 0, 0)


def test_the_collector_may_withdraw_while_the_officer_has_not_started(api, submit):
    body = submit("advanced", confirm_as=None).json()
    instance = AccountOpening.objects.get(pk=body["id"]).process_instance_id
    resp = api("collector.sz").post(f"/api/cases/{instance}/withdraw/", {"reason": "客户改期"}, format="json")
    assert resp.status_code == 200, resp.content
    assert detail(api, body["id"])["status"] == "withdrawn"


def test_once_the_officer_confirmed_the_collector_can_no_longer_withdraw(api, submit):
    body = submit("advanced").json()
    instance = AccountOpening.objects.get(pk=body["id"]).process_instance_id
    resp = api("collector.sz").post(f"/api/cases/{instance}/withdraw/", {"reason": "客户改期"}, format="json")
    assert resp.status_code == 409 and resp.json()["code"] == "next_step_started"


def test_the_officer_corrects_the_documents_validity_and_a_past_date_is_refused(api, submit):
    body = submit("advanced", confirm_as=None).json()
    task = officer_task(api, body["id"])
    past = complete(
        api, "officer.sz", task["id"], decision="correct", id_valid_until="2001-01-01", comment="x"
    )
    assert past.status_code == 400 and "id_valid_until" in past.json(), past.content
    typed_not_applied = complete(api, "officer.sz", task["id"], decision="confirm", id_valid_until="长期")
    assert typed_not_applied.status_code == 400 and "decision" in typed_not_applied.json()
    resp = complete(
        api, "officer.sz", task["id"], decision="correct", id_valid_until="长期", comment="证件为长期有效"
    )
    assert resp.status_code == 200, resp.content
    customer = Customer.objects.get(pk=body["customer_id"])
    assert (customer.id_valid_long_term, customer.id_valid_until) == (True, None)
    assert detail(api, body["id"])["id_valid_until"] == "long_term"

"""客户重大事件 (seed 001 §二): a customer manager reports a major event of a customer in his
unit; it reaches the unit head and the customer-service centre at once, each within a working
day (reminded, then escalated); both acknowledge, the case closes. Scope, roles and bad input
are refused with nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.common.exceptions import Forbidden
from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign
from backend.service.major_events import major_event_head_acknowledge
from backend.service.models import MajorEvent
from processes.models import ProcessInstance, Timer
from processes.sweep import timers_sweep
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.customers.factories import customer_make

pytestmark = pytest.mark.django_db

PROCESS = "customer_major_event"
CASE = "service.majorevent"


def event(customer_id, **overrides):
    data = {
        "customer_id": customer_id,
        "kind": "illness",
        "occurred_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "description": "客户确诊重大疾病住院治疗，家属来电告知，需协助理赔材料准备",
    }
    data.update(overrides)
    return data


def report(api, customer_id, as_user="manager.sz", **overrides):
    return api(as_user).post("/api/major-events/", event(customer_id, **overrides), format="json")


def tasks_of(client, case_id):
    return [t for t in inbox(client) if t["process"] == PROCESS and t["case_id"] == case_id]


def nothing_written():
    assert MajorEvent.objects.count() == 0
    assert ProcessInstance.objects.filter(subject_type=CASE).count() == 0
    assert HumanTask.objects.filter(case_type=CASE).count() == 0
    assert not AuditEvent.objects.filter(action="major_event.reported").exists()


def test_the_report_reaches_the_unit_head_and_the_service_centre_and_closes_when_both_answered(api, users):
    customer = customer_make()
    resp = report(api, customer.pk)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "open" and body["org_unit"] == "GD-SZ" and body["reported_by"] == "manager.sz"

    [head_task] = tasks_of(api("head.sz"), body["id"])
    [centre_task] = tasks_of(api("cs.ho"), body["id"])
    assert head_task["step"] == "head_ack" and centre_task["step"] == "centre_ack"
    # Within a working day: both due at most ~4 calendar days ahead (a weekend or holiday between).
    for task in (head_task, centre_task):
        row = HumanTask.objects.get(pk=task["id"])
        assert row.working_days and timezone.now() < row.due_at < timezone.now() + timedelta(days=4)
    # Nobody else: not the reporter, not another branch's head.
    gz_head = users["head.sz"].__class__.objects.create_user(username="head.gz", password="demo-pass-2026")
    role_assign(user=gz_head, role=Role.UNIT_HEAD, org_unit=OrgUnit.objects.get(code="GD-GZ"))
    assert tasks_of(api("head.gz"), body["id"]) == [] and tasks_of(api("manager.sz"), body["id"]) == []

    done = api("head.sz").post(f"/api/tasks/{head_task['id']}/complete/", {"instruction": "请客户经理今日上门慰问，协助准备理赔材料"}, format="json")
    assert done.status_code == 200, done.content
    assert api("manager.sz").get(f"/api/major-events/{body['id']}/").json()["status"] == "open"
    done = api("cs.ho").post(f"/api/tasks/{centre_task['id']}/complete/", {"plan": "已登记，三日内电话回访并协调理赔绿色通道"}, format="json")
    assert done.status_code == 200, done.content

    after = api("manager.sz").get(f"/api/major-events/{body['id']}/").json()
    assert after["status"] == "closed" and after["closed_at"]
    assert after["head_by"] == "head.sz" and after["head_instruction"].startswith("请客户经理今日上门")
    assert after["centre_by"] == "cs.ho" and after["centre_plan"].startswith("已登记")
    assert ProcessInstance.objects.get(pk=body["process_instance_id"]).status == "completed"
    actions = set(AuditEvent.objects.filter(object_id=str(body["id"]), object_type=CASE).values_list("action", flat=True))
    assert {"major_event.head_acknowledged", "major_event.centre_acknowledged", "major_event.closed"} <= actions
    assert AuditEvent.objects.filter(action="major_event.reported", actor=users["manager.sz"]).exists()


def test_an_answer_is_required_and_bounded(api):
    body = report(api, customer_make().pk).json()
    [task] = tasks_of(api("head.sz"), body["id"])
    for bad in ({}, {"instruction": ""}, {"instruction": "x" * 1001}):
        resp = api("head.sz").post(f"/api/tasks/{task['id']}/complete/", bad, format="json")
        assert resp.status_code == 400, (bad, resp.content)
    assert MajorEvent.objects.get(pk=body["id"]).head_instruction == ""


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "rumour"}, "kind"),
        ({"kind": None}, "kind"),
        ({"occurred_on": (timezone.localdate() + timedelta(days=2)).isoformat()}, "occurred_on"),
        ({"occurred_on": "2019-01-01"}, "occurred_on"),
        ({"occurred_on": "yesterday"}, "occurred_on"),
        ({"occurred_on": "9" * 5000}, "occurred_on"),
        ({"description": "   "}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"description": "正常文字\x00控制字符"}, "description"),
        ({"description": ["a list"]}, "description"),
    ],
)
def test_bad_input_is_a_400_next_to_the_field_and_writes_nothing(api, overrides, field):
    resp = report(api, customer_make().pk, **overrides)
    assert resp.status_code == 400, resp.content
    assert field in resp.json(), resp.json()
    nothing_written()


def test_a_missing_customer_is_a_field_error(api):
    resp = api("manager.sz").post("/api/major-events/", {k: v for k, v in event(None).items() if k != "customer_id"}, format="json")
    assert resp.status_code == 400 and "customer_id" in resp.json()
    nothing_written()


def test_a_customer_out_of_scope_is_the_404_of_a_missing_one(api):
    other = customer_make(org="GD-GZ")
    missing = report(api, 987654321)
    resp = report(api, other.pk)
    assert resp.status_code == 404 and missing.status_code == 404
    assert resp.json() == missing.json()
    nothing_written()


@pytest.mark.parametrize("username", ["collector.sz", "reviewer.sz", "officer.sz", "head.sz", "cs.ho"])
def test_only_a_customer_manager_reports(api, username):
    resp = report(api, customer_make().pk, as_user=username)
    assert resp.status_code == 403, (username, resp.content)
    assert resp.json()["code"] == "major_event_not_allowed"
    nothing_written()


def test_reading_is_scoped(api):
    body = report(api, customer_make().pk).json()
    url = f"/api/major-events/{body['id']}/"
    for username in ("manager.sz", "head.sz", "cs.ho", "officer.sz", "compliance.ho"):
        assert api(username).get(url).status_code == 200, username
    missing = api("reviewer.gz").get("/api/major-events/987654321/")
    for username in ("reviewer.gz", "collector.gz", "handler.hz", "officer.gz", "collector.sz"):
        got = api(username).get(url)
        assert got.status_code == 404 and got.content == missing.content, username


def test_the_reporter_never_acknowledges_his_own_report(api, users):
    me = users["manager.sz"]
    role_assign(user=me, role=Role.UNIT_HEAD, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    body = report(api, customer_make().pk).json()
    task = HumanTask.objects.get(case_type=CASE, case_id=body["id"], step="head_ack", status="ready")
    resp = api("manager.sz").post(f"/api/tasks/{task.pk}/complete/", {"instruction": "自己批示"}, format="json")
    assert resp.status_code in (403, 404, 409), resp.content
    with pytest.raises(Forbidden):
        major_event_head_acknowledge(actor=me, case_id=body["id"], instruction="自己批示")
    assert MajorEvent.objects.get(pk=body["id"]).head_instruction == ""


def test_a_late_acknowledgement_is_reminded_then_escalated(api):
    body = report(api, customer_make().pk).json()
    instance = ProcessInstance.objects.get(pk=body["process_instance_id"])
    deadline = Timer.objects.filter(instance=instance, status="pending").order_by("-due_at").first()
    assert deadline is not None
    timers_sweep(now=deadline.due_at + timedelta(seconds=1))
    escalated = AuditEvent.objects.filter(process_instance_id=instance.pk, action="task.escalated")
    assert escalated.count() >= 1
    # The step waits again for the same people, with a new deadline.
    assert tasks_of(api("head.sz"), body["id"]) and tasks_of(api("cs.ho"), body["id"])


def test_the_task_page_shows_the_event_and_the_instance_page_the_diagram(api, client, users):
    customer = customer_make(name="林重大")
    body = report(api, customer.pk).json()
    [task] = tasks_of(api("head.sz"), body["id"])
    detail = api("head.sz").get(f"/api/tasks/{task['id']}/").json()
    assert detail["case"]["kind"] == "illness"
    client.force_login(users["head.sz"])
    page = client.get(f"/tasks/{task['id']}/").content.decode()
    assert "重大疾病或伤残" in page and "协助理赔材料准备" in page and "林重大" in page
    client.force_login(users["owner.ho"])
    diagram = client.get(f"/processes/instances/{body['process_instance_id']}/")
    assert diagram.status_code == 200
    assert "customer_major_event" in diagram.content.decode() or "客户重大事件报告" in diagram.content.decode()

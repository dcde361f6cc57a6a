"""Issue 16 item 8: head office customer service (客服管理部) supervises cross-province
hand-overs in the complaint diagram: its own task with its own deadline, next to the receiving
unit's work; same-province hand-overs do not reach it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.common.models import AuditEvent
from backend.complaints.models import Complaint
from tasks.models import HumanTask
from tests.complaints.factories import complaint_users
from tests.complaints.helpers import REGISTER, VERIFY, accept, complete, task_of, work
from tests.conftest import inbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed(api, users):
    complaint_users()

    def _hand(target: str, handler: str | None = None) -> dict:
        c = accept(api, complainant_phone="13900002222", complainant_name="李四", subject="保单迟迟未寄送")
        work(api, "handler.sz", c["id"], "verify", VERIFY)
        work(api, "handler.sz", c["id"], "register", REGISTER)
        data = {"decision": "hand_over", "target_org_unit": target, "reason": "被投诉机构在外地"}
        if handler:
            data["handler"] = handler
        work(api, "handler.sz", c["id"], "handover", data)
        return c

    return _hand


def _cs_tasks(api, complaint_id):
    return [
        t for t in inbox(api("cs.ho")) if t.get("case_id") == complaint_id and t["step"] == "ho_supervise"
    ]


def test_a_cross_province_hand_over_reaches_head_office_customer_service(api, handed):
    c = handed("ZJ-HZ")
    # The receiving unit works at once; head office supervises next to it.
    receiver = task_of(api, "handler.hz", c["id"], "handover")
    [cs] = _cs_tasks(api, c["id"])
    row = HumanTask.objects.get(pk=cs["id"])
    assert row.role == "customer_service" and row.org_unit.code == "HO"
    complaint = Complaint.objects.get(pk=c["id"])
    assert row.due_at is not None and row.due_at != complaint.due_at  # its own deadline (2 working days)
    assert row.due_at < complaint.due_at
    # A handler in a province may not do head office's step; an empty instruction is a 400.
    assert not [t for t in inbox(api("handler.hz")) if t["step"] == "ho_supervise"]
    complete(api, "cs.ho", cs["id"], {"ho_comment": ""}, expect=400)
    complete(api, "cs.ho", cs["id"], {"ho_comment": "请杭州中心支公司五个工作日内答复,抄报广东省分公司。"})
    event = AuditEvent.objects.get(action="complaint.cross_province_supervised", object_id=str(c["id"]))
    assert event.data["from"] == "GD-SZ" and event.data["to"] == "ZJ-HZ"
    assert _cs_tasks(api, c["id"]) == []
    # The receiver's task is untouched by head office's step.
    assert HumanTask.objects.get(pk=receiver["id"]).status == "ready"


def test_a_same_province_hand_over_stays_in_the_province(api, handed):
    c = handed("GD-GZ")
    task_of(api, "handler.gz", c["id"], "handover")
    assert _cs_tasks(api, c["id"]) == []


def test_head_office_missing_its_deadline_is_recorded_and_the_case_goes_on(api, handed):
    from processes.sweep import timers_sweep

    c = handed("ZJ-HZ")
    [cs] = _cs_tasks(api, c["id"])
    due = HumanTask.objects.get(pk=cs["id"]).due_at
    timers_sweep(now=due + timedelta(minutes=1))
    assert HumanTask.objects.get(pk=cs["id"]).outcome == "escalated"
    assert AuditEvent.objects.filter(action="task.escalated", task_id=cs["id"]).exists()
    task_of(api, "handler.hz", c["id"], "handover")  # the receiving unit still has its step


def test_cases_running_on_the_diagram_before_the_lane_keep_working(api, handed):
    """Versions are immutable: a case started on the diagram without the head office lane
    runs on to its end on that version, while new cases get the lane."""
    from pathlib import Path

    from django.conf import settings

    from processes.models import ProcessInstance
    from processes.services import process_version_deploy

    before = (Path(__file__).parents[1] / "fixtures" / "bpmn" / "complaint_handling_v1.bpmn").read_bytes()
    old, created = process_version_deploy(data=before, filename="complaint_handling.bpmn")
    assert created
    c_old = accept(api)
    assert (
        ProcessInstance.objects.get(pk=Complaint.objects.get(pk=c_old["id"]).process_instance_id).version_id
        == old.pk
    )
    current = (Path(settings.BASE_DIR) / "bpmn" / "complaints" / "complaint_handling.bpmn").read_bytes()
    new, created = process_version_deploy(
        data=current + b"\n<!-- redeployed -->\n", filename="complaint_handling.bpmn"
    )
    assert created and new.version > old.version

    work(api, "handler.sz", c_old["id"], "verify", VERIFY)
    work(api, "handler.sz", c_old["id"], "register", REGISTER)
    work(
        api,
        "handler.sz",
        c_old["id"],
        "handover",
        {"decision": "hand_over", "target_org_unit": "ZJ-HZ", "reason": "被投诉机构在外地"},
    )
    task_of(api, "handler.hz", c_old["id"], "handover")
    assert _cs_tasks(api, c_old["id"]) == []  # the old version has no head office step

    c_new = handed("ZJ-HZ")
    assert (
        ProcessInstance.objects.get(pk=Complaint.objects.get(pk=c_new["id"]).process_instance_id).version_id
        == new.pk
    )
    assert len(_cs_tasks(api, c_new["id"])) == 1

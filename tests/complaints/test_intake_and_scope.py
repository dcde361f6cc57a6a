"""受理 rules (validation, duplicates offered for merging, group complaints), recusal and
level scope."""

from __future__ import annotations

import pytest

from backend.complaints.models import Complaint, ComplaintMerge
from backend.organisation.models import SalesAgent
from tasks.models import HumanTask, Notification, TaskStatus
from tests.complaints.helpers import REGISTER, VERIFY, accept, complaint_payload, task_of, work

pytestmark = pytest.mark.django_db


def test_bad_intake_gets_field_errors_and_changes_nothing(api, users):
    resp = api("handler.sz").post(
        "/api/complaints/",
        complaint_payload(channel="fax", category="", complainant_phone="12", subject="", complainant_id_type="resident_id",
                          complainant_id_number="440305198506151234", received_at="2099-01-01T00:00:00+08:00", subject_agent="NOPE"),
        format="json",
    )
    assert resp.status_code == 400
    body = resp.json()
    for field in ("channel", "category", "complainant_phone", "subject", "complainant_id_number", "received_at", "subject_agent"):
        assert field in body, field
    assert not Complaint.objects.exists()
    assert api("handler.sz").post("/api/complaints/", ["not", "an", "object"], format="json").status_code == 400
    # Only complaint handlers and customer service accept complaints.
    assert api("collector.sz").post("/api/complaints/", complaint_payload(), format="json").status_code == 403


def test_the_same_complainant_on_the_same_subject_is_offered_for_merging(api, users):
    first = accept(api)
    resp = api("handler.sz").post("/api/complaints/", complaint_payload(subject=" 理赔款迟迟未到账 ", channel="online"), format="json")
    assert resp.status_code == 409 and resp.json()["code"] == "possible_duplicate"
    assert [d["id"] for d in resp.json()["duplicates"]] == [first["id"]]
    merged = api("handler.sz").post("/api/complaints/", complaint_payload(channel="online", merge_into=first["id"]), format="json")
    assert merged.status_code == 200 and merged.json()["merged"] is True and merged.json()["id"] == first["id"]
    assert ComplaintMerge.objects.filter(complaint_id=first["id"]).count() == 1
    assert Complaint.objects.count() == 1
    separate = api("handler.sz").post("/api/complaints/", complaint_payload(not_duplicate=True), format="json")
    assert separate.status_code == 201 and Complaint.objects.count() == 2
    # Another complainant on the same subject is not a duplicate.
    assert api("handler.sz").post("/api/complaints/", complaint_payload(complainant_phone="13800009999"), format="json").status_code == 201


def test_twenty_complainants_on_one_subject_make_a_major_complaint_and_alert_head_office(api, users):
    accept(api, subject="分红险收益远低于宣传", complainant_count=12)
    assert not Complaint.objects.filter(major=True).exists()
    assert not Notification.objects.filter(user=users["cs.ho"]).exists()
    accept(api, "handler.gz", subject="分红险收益远低于宣传", complainant_count=8, complainant_phone="13800003333")
    assert Complaint.objects.filter(major=True).count() == 2
    alerts = Notification.objects.filter(user=users["cs.ho"], kind="escalation")
    assert alerts.count() == 1 and "群体投诉" in alerts.get().message
    # A later complaint on the subject joins the major case; head office is told about it once.
    accept(api, subject="分红险收益远低于宣传", complainant_phone="13800004444")
    assert Complaint.objects.filter(major=True).count() == 3
    assert Notification.objects.filter(user=users["cs.ho"], kind="escalation").count() == 2


def test_an_interested_handler_can_neither_claim_nor_be_assigned_nor_be_transferred_the_task(api, users):
    agent = SalesAgent.objects.get(agent_code="AG-SZ-0001")
    agent.user = users["handler.sz"]
    agent.save()
    # handler.sz is also sales agent AG-SZ-0001, whom this complaint is about; handler2.sz
    # accepts it and verifies it themselves.
    c = accept(api, "handler2.sz", subject_agent="AG-SZ-0001")
    task = task_of(api, "handler2.sz", c["id"], "verify")
    api("handler2.sz").post(f"/api/tasks/{task['id']}/unclaim/")
    resp = api("handler.sz").post(f"/api/tasks/{task['id']}/claim/")
    assert resp.status_code == 403 and resp.json()["code"] == "recused"
    resp = api("handler.sz").post(f"/api/tasks/{task['id']}/complete/", VERIFY, format="json")
    assert resp.status_code == 403
    # Nobody can transfer it to them either.
    api("handler2.sz").post(f"/api/tasks/{task['id']}/claim/")
    resp = api("handler2.sz").post(f"/api/tasks/{task['id']}/transfer/", {"to": "handler.sz", "reason": "请协助"}, format="json")
    assert resp.status_code == 400 and resp.json()["code"] == "recused"
    work(api, "handler2.sz", c["id"], "verify", VERIFY)
    work(api, "handler2.sz", c["id"], "register", REGISTER)
    # Nor be named the handler in a hand-over.
    task = task_of(api, "handler2.sz", c["id"], "handover")
    resp = api("handler2.sz").post(
        f"/api/tasks/{task['id']}/complete/", {"decision": "hand_over", "target_org_unit": "GD-SZ", "handler": "handler.sz", "reason": "转"}, format="json"
    )
    assert resp.status_code == 400
    # Named employees are recused too.
    c2 = accept(api, "handler.sz", subject_employee="handler2.sz", complainant_phone="13800005555")
    work(api, "handler.sz", c2["id"], "verify", VERIFY)
    task = task_of(api, "handler.sz", c2["id"], "register")
    api("handler.sz").post(f"/api/tasks/{task['id']}/unclaim/")
    assert api("handler2.sz").post(f"/api/tasks/{task['id']}/claim/").json()["code"] == "recused"
    assert HumanTask.objects.get(pk=task["id"]).status == TaskStatus.READY


def test_level_scope_city_own_and_handed_in_province_subtree_head_office_all(api, users):
    sz = accept(api, "handler.sz")
    gz = accept(api, "handler.gz", complainant_phone="13800006666")
    hz = accept(api, "handler.hz", complainant_phone="13800007777")
    # Guangzhou hands its case over to Shenzhen.
    work(api, "handler.gz", gz["id"], "verify", VERIFY)
    work(api, "handler.gz", gz["id"], "register", REGISTER)
    work(api, "handler.gz", gz["id"], "handover", {"decision": "hand_over", "target_org_unit": "GD-SZ", "reason": "深圳承保"})

    def ids(username):
        resp = api(username).get("/api/complaints/")
        assert resp.status_code == 200
        return sorted(r["id"] for r in resp.json()["results"])

    assert ids("handler.sz") == sorted([sz["id"], gz["id"]])  # own + handed in
    assert ids("handler.gz") == [gz["id"]]  # accepted it, handed out
    assert ids("handler.hz") == [hz["id"]]
    assert ids("handler.gd") == sorted([sz["id"], gz["id"]])  # its subtree
    assert ids("handler.zj") == [hz["id"]]
    assert ids("cs.ho") == sorted([sz["id"], gz["id"], hz["id"]])
    assert api("handler.hz").get(f"/api/complaints/{sz['id']}/").status_code == 404
    assert api("handler.hz").post(f"/api/complaints/{sz['id']}/pause/", {"reason": "越权暂停"}, format="json").status_code == 404
    # Masked for lists; full for handlers of the responsible unit.
    listed = api("handler.gd").get("/api/complaints/").json()["results"][0]
    assert "*" in listed["complainant_phone"]
    assert api("handler.sz").get(f"/api/complaints/{sz['id']}/").json()["complainant_phone"] == "+8613800001111"

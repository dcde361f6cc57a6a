"""The whole path through the API: accept → verify → register → hand over (a city to another
province) → coordinate → handle → feedback → closed → upper-level review."""

from __future__ import annotations

import pytest
from django.utils import timezone

from backend.complaints.models import Complaint, ComplaintStatus
from tests.complaints.helpers import HANDLE, REGISTER, VERIFY, accept, complete, feedback, task_of, work
from tests.conftest import inbox

pytestmark = pytest.mark.django_db


def test_city_hands_over_to_another_province_which_handles_it_and_an_upper_review_follows(api, users):
    c = accept(api)
    assert c["status"] == "accepted" and c["clock"]["limit_days"] == 15 and c["clock"]["state"] == "running"
    # The acceptor handles complaints in Shenzhen, so the verification is theirs.
    work(api, "handler.sz", c["id"], "verify", VERIFY)
    work(api, "handler.sz", c["id"], "register", REGISTER)
    task = task_of(api, "handler.sz", c["id"], "handover")
    complete(api, "handler.sz", task["id"], {"decision": "hand_over", "target_org_unit": "ZJ", "handler": "handler.zj", "reason": "被投诉机构在浙江"})
    row = Complaint.objects.get(pk=c["id"])
    assert row.org_unit.code == "ZJ" and row.received_org_unit.code == "GD-SZ"
    # The lanes followed the case: Zhejiang's handler has the next step, Shenzhen has none.
    assert not [t for t in inbox(api("handler.sz")) if t.get("case_id") == c["id"]]
    task = task_of(api, "handler.zj", c["id"], "handover")
    assert task["assignee"] == "handler.zj"
    # Shenzhen (accepted it) and Zhejiang (handles it) see it; Guangzhou does not.
    assert api("handler.sz").get(f"/api/complaints/{c['id']}/").status_code == 200
    assert api("handler.zj").get(f"/api/complaints/{c['id']}/").status_code == 200
    assert api("handler.gz").get(f"/api/complaints/{c['id']}/").status_code == 404
    complete(api, "handler.zj", task["id"], {"decision": "handle_here", "opinion_units": "ZJ-HZ,GD-SZ", "opinion_question": "请说明理赔审批情况"})
    # Opinions in parallel from Hangzhou and Shenzhen.
    work(api, "handler.hz", c["id"], "give_opinion", {"opinion": "杭州:审批材料齐全。"})
    assert not [t for t in inbox(api("handler.zj")) if t.get("case_id") == c["id"] and t["step"] == "handle"]
    work(api, "handler.sz", c["id"], "give_opinion", {"opinion": "深圳:同意尽快赔付。"})
    work(api, "handler.zj", c["id"], "handle", HANDLE)
    sent = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    work(api, "handler.zj", c["id"], "feedback", feedback(sent))
    detail = api("handler.zj").get(f"/api/complaints/{c['id']}/").json()
    assert detail["status"] == "closed" and detail["on_time"] is True
    assert [h["to"] for h in detail["handovers"]] == ["ZJ"]
    assert sorted(o["org_unit"] for o in detail["opinions"]) == ["GD-SZ", "ZJ-HZ"]
    assert all(o["opinion"] for o in detail["opinions"])
    assert [n["kind"] for n in detail["notices"]] == ["decision"]
    assert detail["remedies"] == ["review", "litigation"]
    # Closing ended the process, and with it the clock watcher: no timer is left waiting.
    from processes.models import InstanceStatus, Timer, TimerStatus

    row = Complaint.objects.select_related("process_instance").get(pk=c["id"])
    assert row.process_instance.status == InstanceStatus.COMPLETED
    assert not Timer.objects.filter(instance=row.process_instance, status=TimerStatus.PENDING).exists()
    # 核查 at the upper level (head office above Zhejiang).
    resp = api("handler.zj").post(f"/api/complaints/{c['id']}/review-requests/", {"reason": "投诉人对赔付金额不满"}, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["org_unit"] == "HO"
    work(api, "cs.ho", resp.json()["id"], "review_decision", {"review_decision": "upheld", "comment": "原处理决定适当。"})
    detail = api("cs.ho").get(f"/api/complaints/{c['id']}/").json()
    assert detail["reviews"][0]["decision"] == "upheld"


def test_a_complaint_cannot_be_closed_without_a_decision_notice_proof(api, users):
    c = accept(api)
    work(api, "handler.sz", c["id"], "verify", VERIFY)
    work(api, "handler.sz", c["id"], "register", REGISTER)
    work(api, "handler.sz", c["id"], "handover", {"decision": "handle_here"})
    work(api, "handler.sz", c["id"], "handle", HANDLE)
    task = task_of(api, "handler.sz", c["id"], "feedback")
    bad = feedback(timezone.localtime().strftime("%Y-%m-%d %H:%M")) | {"notice_proof": ""}
    resp = complete(api, "handler.sz", task["id"], bad, expect=400)
    assert "notice_proof" in resp.json()
    assert Complaint.objects.get(pk=c["id"]).status == ComplaintStatus.DECIDED
    from backend.complaints.services import complaint_close

    row = Complaint.objects.get(pk=c["id"])
    row.decision = ""
    with pytest.raises(Exception) as exc:
        complaint_close(actor=users["handler.sz"], complaint=row, notice={"notice_channel": "sms", "notice_sent_at": timezone.now().isoformat(), "notice_proof": "回执"}, satisfaction="satisfied")
    assert getattr(exc.value, "code", "") == "no_decision"


def test_anything_can_go_to_head_office_and_province_to_another_city(api, users):
    c = accept(api, "handler.gd")  # accepted at the province
    assert Complaint.objects.get(pk=c["id"]).org_unit.code == "GD"
    work(api, "handler.gd", c["id"], "verify", VERIFY)
    work(api, "handler.gd", c["id"], "register", REGISTER)
    work(api, "handler.gd", c["id"], "handover", {"decision": "hand_over", "target_org_unit": "ZJ-HZ", "reason": "涉及杭州网点"})
    # Any Hangzhou handler may take it (no handler was named); Hangzhou sends it up to head office.
    work(api, "handler.hz", c["id"], "handover", {"decision": "hand_over", "target_org_unit": "HO", "reason": "涉及总公司产品条款"})
    task = task_of(api, "cs.ho", c["id"], "handover")
    from tasks.models import HumanTask

    assert HumanTask.objects.get(pk=task["id"]).org_unit.code == "HO"
    work(api, "cs.ho", c["id"], "handover", {"decision": "handle_here"})
    row = Complaint.objects.get(pk=c["id"])
    assert row.org_unit.code == "HO"
    assert [(h.from_org_unit.code, h.to_org_unit.code) for h in row.handovers.all()] == [("GD", "ZJ-HZ"), ("ZJ-HZ", "HO")]
    # A hand-over to the unit that already has it, or to an unknown unit, is refused on the field.
    c2 = accept(api, "handler.sz", complainant_phone="13800008888")
    work(api, "handler.sz", c2["id"], "verify", VERIFY)
    work(api, "handler.sz", c2["id"], "register", REGISTER)
    task = task_of(api, "handler.sz", c2["id"], "handover")
    resp = complete(api, "handler.sz", task["id"], {"decision": "hand_over", "target_org_unit": "GD-SZ", "reason": "x1"}, expect=400)
    assert "target_org_unit" in resp.json()
    resp = api("handler.sz").post(f"/api/tasks/{task['id']}/complete/", {"decision": "hand_over", "target_org_unit": "NOPE", "reason": "x1"}, format="json")
    assert resp.status_code == 400 and "target_org_unit" in resp.json()

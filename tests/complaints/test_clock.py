"""The regulatory clock with a moved clock (time-machine): on time, extension to 30, the +30
approval refused and granted, pause and resume, restart on new facts, withdrawal, a breach that
escalates exactly once, and natural vs working days across the 2026 National Day holiday."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from backend.complaints.models import ClockEventKind, Complaint, ComplaintStatus
from processes.models import InstanceStatus, Timer, TimerStatus
from processes.sweep import timers_sweep
from tasks.models import HumanTask, TaskStatus
from tests.complaints.helpers import HANDLE, REGISTER, VERIFY, accept, feedback, task_of, work

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 29, 10, 0, tzinfo=SH)  # a Tuesday, two days before National Day


def at(days: float, hour: int | None = None) -> datetime:
    moment = T0 + timedelta(days=days)
    return moment.replace(hour=hour) if hour is not None else moment


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=SH)


def clock_timer(c_id: int) -> Timer:
    c = Complaint.objects.get(pk=c_id)
    return Timer.objects.get(instance_id=c.process_instance_id, spec="clock_wait", status=TimerStatus.PENDING)


def handle_and_close(api, c_id: int, username: str = "handler.sz") -> None:
    work(api, username, c_id, "verify", VERIFY)
    work(api, username, c_id, "register", REGISTER)
    work(api, username, c_id, "handover", {"decision": "handle_here"})
    work(api, username, c_id, "handle", HANDLE)
    work(api, username, c_id, "feedback", feedback(timezone.localtime().strftime("%Y-%m-%d %H:%M")))


def test_on_time_natural_days_and_the_reminder_before_the_deadline(api, users):
    with time_machine.travel(T0, tick=False):
        c = accept(api)
        assert datetime.fromisoformat(c["due_at"]) == end_of(2026, 10, 14)
        # The engine's clock timer waits for the reminder, 72 h before the deadline.
        assert clock_timer(c["id"]).due_at == end_of(2026, 10, 14) - timedelta(hours=72)
    with time_machine.travel(at(13), tick=False):  # 10-12: after the reminder point
        assert timers_sweep(now=timezone.now()) == 1
        row = Complaint.objects.get(pk=c["id"])
        assert row.clock_events.filter(kind=ClockEventKind.REMINDED).count() == 1
        assert row.breached_at is None
        handle_and_close(api, c["id"])
        row.refresh_from_db()
        assert row.status == ComplaintStatus.CLOSED and row.on_time is True
        assert not Timer.objects.filter(instance_id=row.process_instance_id, status=TimerStatus.PENDING).exists()


def test_working_days_skip_the_national_day_holiday_and_count_the_adjusted_saturday(api, users, monkeypatch):
    monkeypatch.setitem(settings.CUSTFLOW["COMPLAINTS"], "CLOCK_MODE", "working")
    with time_machine.travel(T0, tick=False):
        c = accept(api)
        # 15 working days after Tue 09-29: 09-30, 10-08, 10-09, 10-10 (调休 Saturday), 10-12 … 10-16,
        # 10-19 … 10-23, 10-26.
        assert datetime.fromisoformat(c["due_at"]) == end_of(2026, 10, 26)
        # A regulator's transfer must be registered within 7 working days: 10-14.
        r = accept(api, channel="regulator", complainant_phone="13800002222")
        assert datetime.fromisoformat(r["clock"]["regulator_ack_due_at"]) == end_of(2026, 10, 14)


def test_extension_to_30_then_the_upper_level_refuses_and_later_grants_60(api, users):
    with time_machine.travel(T0, tick=False):
        c = accept(api)
        # +30 needs the first extension.
        resp = api("handler.sz").post(f"/api/complaints/{c['id']}/extension-requests/", {"reason": "需要外部鉴定"}, format="json")
        assert resp.status_code == 409 and resp.json()["code"] == "not_extended_yet"
        resp = api("handler.sz").post(f"/api/complaints/{c['id']}/extend/", {"reason": "案情复杂,涉及多方"}, format="json")
        assert resp.status_code == 200, resp.content
        assert resp.json()["clock"]["limit_days"] == 30
        assert datetime.fromisoformat(resp.json()["due_at"]) == end_of(2026, 10, 29)
        assert clock_timer(c["id"]).due_at == end_of(2026, 10, 29) - timedelta(hours=72)
        assert api("handler.sz").post(f"/api/complaints/{c['id']}/extend/", {"reason": "再次延长"}, format="json").status_code == 409
        # The request is a task at the upper level (Guangdong), not in Shenzhen.
        ext = api("handler.sz").post(f"/api/complaints/{c['id']}/extension-requests/", {"reason": "需要外部鉴定"}, format="json").json()
        task = task_of(api, "handler.gd", ext["id"], "approve_extension")
        assert api("handler.sz").post(f"/api/tasks/{task['id']}/claim/").status_code in (403, 404)
        resp = api("handler.gd").post(f"/api/tasks/{task['id']}/claim/")
        assert resp.status_code == 200
        resp = api("handler.gd").post(f"/api/tasks/{task['id']}/complete/", {"decision": "reject", "comment": "理由不充分"}, format="json")
        assert resp.status_code == 200, resp.content
        row = Complaint.objects.get(pk=c["id"])
        assert row.limit_days == 30 and row.clock_events.filter(kind=ClockEventKind.EXTENSION_REFUSED).count() == 1
        ext = api("handler.sz").post(f"/api/complaints/{c['id']}/extension-requests/", {"reason": "鉴定机构出具报告需 20 日"}, format="json").json()
        task = task_of(api, "handler.gd", ext["id"], "approve_extension")
        api("handler.gd").post(f"/api/tasks/{task['id']}/claim/")
        resp = api("handler.gd").post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve", "comment": "同意"}, format="json")
        assert resp.status_code == 200, resp.content
        row.refresh_from_db()
        assert row.limit_days == 60 and row.due_at == end_of(2026, 11, 28)
        assert clock_timer(c["id"]).due_at == end_of(2026, 11, 28) - timedelta(hours=72)
        # The complainant must be told; the notice keeps its proof.
        resp = api("handler.sz").post(
            f"/api/complaints/{c['id']}/notices/",
            {"kind": "extension", "channel": "letter", "sent_at": timezone.now().isoformat(), "proof": "挂号信 XA123456789CN"},
            format="json",
        )
        assert resp.status_code == 201, resp.content
        # Nothing more than 60 days.
        assert api("handler.sz").post(f"/api/complaints/{c['id']}/extension-requests/", {"reason": "还要延长"}, format="json").status_code == 409


def test_pause_and_resume_add_the_paused_time_to_the_deadline(api, users):
    with time_machine.travel(at(0), tick=False):
        c = accept(api)
    with time_machine.travel(at(5), tick=False):
        resp = api("handler.sz").post(f"/api/complaints/{c['id']}/pause/", {"reason": "委托第三方鉴定"}, format="json")
        assert resp.status_code == 200, resp.content
        assert resp.json()["clock"]["state"] == "paused"
        # While paused nothing can breach: the clock timer waits far away.
        assert clock_timer(c["id"]).due_at > at(3000)
        assert api("handler.sz").post(f"/api/complaints/{c['id']}/pause/", {"reason": "再次暂停"}, format="json").status_code == 409
    with time_machine.travel(at(8), tick=False):
        resp = api("handler.sz").post(f"/api/complaints/{c['id']}/resume/", {"reason": "鉴定完成"}, format="json")
        assert resp.status_code == 200, resp.content
        assert datetime.fromisoformat(resp.json()["due_at"]) == end_of(2026, 10, 14) + timedelta(days=3)
        assert clock_timer(c["id"]).due_at == end_of(2026, 10, 17) - timedelta(hours=72)


def test_new_facts_restart_the_clock_from_their_receipt(api, users):
    with time_machine.travel(at(0), tick=False):
        c = accept(api)
        api("handler.sz").post(f"/api/complaints/{c['id']}/extend/", {"reason": "案情复杂"}, format="json")
    with time_machine.travel(at(10), tick=False):
        received = at(9).isoformat()
        resp = api("handler.sz").post(f"/api/complaints/{c['id']}/new-facts/", {"description": "投诉人补充了新的就诊记录", "received_at": received}, format="json")
        assert resp.status_code == 200, resp.content
        body = resp.json()
        assert body["clock"]["limit_days"] == 15
        assert datetime.fromisoformat(body["due_at"]) == end_of(2026, 10, 23)
        bad = api("handler.sz").post(f"/api/complaints/{c['id']}/new-facts/", {"description": "补充材料", "received_at": "yesterday"}, format="json")
        assert bad.status_code == 400 and "received_at" in bad.json()


def test_a_withdrawal_ends_the_case_the_day_it_arrives(api, users):
    with time_machine.travel(at(0), tick=False):
        c = accept(api)
    with time_machine.travel(at(4), tick=False):
        withdrawn = at(3, hour=15)
        resp = api("handler.sz").post(f"/api/complaints/{c['id']}/withdraw/", {"reason": "投诉人来电撤诉", "received_at": withdrawn.isoformat()}, format="json")
        assert resp.status_code == 200, resp.content
        row = Complaint.objects.select_related("process_instance").get(pk=c["id"])
        assert row.status == ComplaintStatus.WITHDRAWN and row.closed_at == withdrawn
        assert row.process_instance.status == InstanceStatus.CANCELLED
        assert not HumanTask.objects.filter(instance=row.process_instance, status=TaskStatus.READY).exists()
        assert not Timer.objects.filter(instance=row.process_instance, status=TimerStatus.PENDING).exists()
        assert api("handler.sz").post(f"/api/complaints/{c['id']}/pause/", {"reason": "暂停"}, format="json").status_code == 409


def test_a_breach_escalates_to_the_next_level_exactly_once(api, users):
    with time_machine.travel(at(0), tick=False):
        c = accept(api)
    # The reminder, then the breach: each sweep fires what is due, more sweeps fire nothing.
    with time_machine.travel(at(13), tick=False):
        assert timers_sweep(now=timezone.now()) == 1
    with time_machine.travel(at(16), tick=False):
        assert timers_sweep(now=timezone.now()) == 1
        assert timers_sweep(now=timezone.now()) == 0
    with time_machine.travel(at(40), tick=False):
        assert timers_sweep(now=timezone.now()) == 0
        row = Complaint.objects.get(pk=c["id"])
        assert row.breached_at is not None
        assert row.clock_events.filter(kind=ClockEventKind.BREACHED).count() == 1
        supervise = HumanTask.objects.filter(instance_id=row.process_instance_id, step="supervise")
        assert supervise.count() == 1 and supervise.get().org_unit.code == "GD"
        # The supervision is done at the province; the clock keeps watching, nothing fires twice.
        task = task_of(api, "handler.gd", c["id"], "supervise")
        api("handler.gd").post(f"/api/tasks/{task['id']}/claim/")
        assert api("handler.gd").post(f"/api/tasks/{task['id']}/complete/", {"comment": "请立即处理并报告"}, format="json").status_code == 200
        assert timers_sweep(now=timezone.now() + timedelta(days=30)) == 0
        assert HumanTask.objects.filter(instance_id=row.process_instance_id, step="supervise").count() == 1
        handle_and_close(api, c["id"])
        row.refresh_from_db()
        assert row.status == ComplaintStatus.CLOSED and row.on_time is False


def test_a_regulator_transfer_not_registered_in_seven_working_days_escalates_and_the_review_window_closes(api, users):
    with time_machine.travel(at(0), tick=False):
        c = accept(api, channel="regulator")
        work(api, "handler.sz", c["id"], "verify", VERIFY)
    # 10-14 was the last of the 7 working days; the decision deadline (10-14 too) breaches with it.
    with time_machine.travel(at(16), tick=False):
        timers_sweep(now=timezone.now())
        timers_sweep(now=timezone.now())
        row = Complaint.objects.get(pk=c["id"])
        kinds = sorted(e.data["deadline"] for e in row.clock_events.filter(kind=ClockEventKind.BREACHED))
        assert kinds == ["decision", "regulator_ack"]
        work(api, "handler.sz", c["id"], "register", REGISTER)
        work(api, "handler.sz", c["id"], "handover", {"decision": "handle_here"})
        work(api, "handler.sz", c["id"], "handle", HANDLE)
        work(api, "handler.sz", c["id"], "feedback", feedback(timezone.localtime().strftime("%Y-%m-%d %H:%M")))
    # 核查 must be asked within 30 days of the decision.
    with time_machine.travel(at(48), tick=False):
        resp = api("handler.sz").post(f"/api/complaints/{c['id']}/review-requests/", {"reason": "不服处理决定"}, format="json")
        assert resp.status_code == 400 and resp.json()["code"] == "review_window_passed"
    with time_machine.travel(at(40), tick=False):
        resp = api("handler.sz").post(f"/api/complaints/{c['id']}/review-requests/", {"reason": "不服处理决定"}, format="json")
        assert resp.status_code == 201, resp.content
        assert resp.json()["org_unit"] == "GD"
        again = api("handler.sz").post(f"/api/complaints/{c['id']}/review-requests/", {"reason": "再次申请"}, format="json")
        assert again.status_code == 409


def test_an_overdue_review_opens_a_supervision_above_the_reviewing_unit(api, users):
    with time_machine.travel(at(0), tick=False):
        c = accept(api)
        handle_and_close(api, c["id"])
        review = api("handler.sz").post(f"/api/complaints/{c['id']}/review-requests/", {"reason": "不服处理决定"}, format="json").json()
        assert datetime.fromisoformat(review["due_at"]) == end_of(2026, 10, 29)
        row = HumanTask.objects.get(step="review_decision")
        assert row.org_unit.code == "GD" and row.due_at == end_of(2026, 10, 29)
    with time_machine.travel(at(31), tick=False):
        assert timers_sweep(now=timezone.now()) == 1
        supervise = HumanTask.objects.get(step="supervise_review")
        assert supervise.org_unit.code == "HO" and supervise.status == TaskStatus.READY
        # The review itself stays open with the reviewer.
        assert HumanTask.objects.get(step="review_decision").status == TaskStatus.READY
        work(api, "handler.gd", review["id"], "review_decision", {"review_decision": "changed", "comment": "补充支付利息"})
        assert Complaint.objects.get(pk=c["id"]).reviews.get().decision == "changed"

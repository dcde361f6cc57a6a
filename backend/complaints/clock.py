"""The regulatory clock of a complaint (管理办法 2020 art. 18–23), as one domain object.

A decision is due `limit_days` after the clock's start (the receipt, or the receipt of new
facts): 15 days, 30 for a complex case, 60 with the upper-level org's approval. The day of
receipt does not count; a deadline ends at the end of its day (Asia/Shanghai). Days are natural
days unless `CUSTFLOW["COMPLAINTS"]["CLOCK_MODE"]` says working days. Time spent in outside
appraisal or mediation is added back (pauses); a complaint transferred by the regulator must
also be registered within `REGULATOR_ACK_WORKING_DAYS` working days of the transfer.

Reminders go out `REMIND_BEFORE_HOURS` before each deadline; a breach escalates once. The
engine's timer (`complaint_clock_wait`) waits for the next of these points; `clock_points` is
the one definition of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common import clock as system_clock
from backend.common.workdays import add_working_days
from backend.complaints.models import ClockMode, Complaint, ComplaintStatus

FAR_FUTURE = timedelta(days=3650)


def clock_settings() -> dict[str, Any]:
    return settings.CUSTFLOW["COMPLAINTS"]


def now() -> datetime:
    """The system clock: a timer step's time inside one (backend/common/clock.py)."""
    return system_clock.now()


def end_of_day(day: date) -> datetime:
    """23:59:59 Asia/Shanghai of `day`, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)), timezone.get_default_timezone())


def deadline_after(start: datetime, days: int, mode: str) -> datetime:
    """The end of the `days`-th natural or working day after the day of `start`."""
    if mode == ClockMode.WORKING:
        day = timezone.localtime(add_working_days(start, days)).date()
    else:
        day = timezone.localtime(start).date() + timedelta(days=days)
    return end_of_day(day)


def decision_due(c: Complaint) -> datetime | None:
    """When the decision is due; None while the clock is paused or stopped."""
    if c.status in (ComplaintStatus.CLOSED, ComplaintStatus.WITHDRAWN) or c.paused_since is not None:
        return None
    return deadline_after(c.clock_start, c.limit_days, c.clock_mode) + timedelta(seconds=c.paused_seconds)


def regulator_ack_due(received_at: datetime) -> datetime:
    return deadline_after(received_at, clock_settings()["REGULATOR_ACK_WORKING_DAYS"], ClockMode.WORKING)


@dataclass(frozen=True)
class Deadline:
    name: str  # decision / regulator_ack
    label: str
    due_at: datetime
    generation: str = ""  # a clock restarted by new facts is a new clock: it may breach again


def active_deadlines(c: Complaint) -> list[Deadline]:
    out = []
    due = decision_due(c)
    if due is not None:
        out.append(Deadline("decision", _("处理决定时限"), due, c.clock_start.isoformat()))
    if c.regulator_ack_due_at and c.registered_at is None and c.status not in (ComplaintStatus.CLOSED, ComplaintStatus.WITHDRAWN):
        out.append(Deadline("regulator_ack", _("监管转办受理时限"), c.regulator_ack_due_at))
    return out


@dataclass(frozen=True)
class ClockPoint:
    kind: str  # remind / breach
    deadline: Deadline
    at: datetime

    @property
    def mark(self) -> str:
        # A reminder is sent once per deadline value (an extension gets a fresh reminder); a
        # breach escalates once per clock (a restart on new facts starts a new one).
        if self.kind == "remind":
            return f"remind:{self.deadline.name}:{self.deadline.due_at.isoformat()}"
        return f"breach:{self.deadline.name}:{self.deadline.generation}"


def clock_points(c: Complaint) -> list[ClockPoint]:
    """Reminder and breach points not yet acted on, earliest first."""
    before = clock_settings()["REMIND_BEFORE_HOURS"]
    points = []
    for d in active_deadlines(c):
        hours = before.get(d.name, 0)
        if hours:
            points.append(ClockPoint("remind", d, d.due_at - timedelta(hours=hours)))
        points.append(ClockPoint("breach", d, d.due_at + timedelta(seconds=1)))
    marks = c.clock_marks or {}
    return sorted((p for p in points if p.mark not in marks), key=lambda p: p.at)


def seconds_until_next_point(c: Complaint, at: datetime) -> int:
    """What the engine's clock timer waits for (at least one second)."""
    points = clock_points(c)
    if not points:
        return int(FAR_FUTURE.total_seconds())
    return max(int((points[0].at - at).total_seconds()), 1)


def clock_view(c: Complaint, at: datetime | None = None) -> dict[str, Any]:
    """What every screen shows of the clock."""
    at = at or now()
    stopped = c.status in (ComplaintStatus.CLOSED, ComplaintStatus.WITHDRAWN)
    due = decision_due(c)
    if stopped:
        state = "stopped"
    elif c.paused_since is not None:
        state = "paused"
    elif due is not None and at > due:
        state = "overdue"
    elif due is not None and at > due - timedelta(hours=clock_settings()["REMIND_BEFORE_HOURS"].get("decision", 0)):
        state = "due_soon"
    else:
        state = "running"
    labels = {
        "stopped": _("已停止计时"),
        "paused": _("暂停计时"),
        "overdue": _("已超时"),
        "due_soon": _("即将到期"),
        "running": _("计时中"),
    }
    days_left = None
    if due is not None:
        days_left = (timezone.localtime(due).date() - timezone.localtime(at).date()).days
    cfg = clock_settings()
    return {
        "state": state,
        "state_label": labels[state],
        "mode": c.clock_mode,
        "clock_start": c.clock_start,
        "limit_days": c.limit_days,
        "due_at": due if due is not None else c.due_at,
        "days_left": days_left,
        "extended": c.limit_days > cfg["BASE_DAYS"],
        "extension_reason": c.extension_reason,
        "can_extend": not stopped and c.limit_days == cfg["BASE_DAYS"],
        "can_request_extension": not stopped and c.limit_days == cfg["COMPLEX_DAYS"],
        "paused_since": c.paused_since,
        "pause_reason": c.pause_reason,
        "paused_seconds": c.paused_seconds,
        "regulator_ack_due_at": c.regulator_ack_due_at,
        "breached_at": c.breached_at,
        "on_time": c.on_time,
    }

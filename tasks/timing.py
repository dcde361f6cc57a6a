"""Time you can see: a task's deadline, the time left or overdue, and its reminder and
escalation history, as the inbox row and the task page show them.

An escalated task (超时上报) keeps the deadline of the task it replaces: it is shown with that
original deadline and how long it is overdue, while its own `due_at` (empty unless its step has
a deadline timer) is what the SLA report counts. A step whose deadline counts working days
(`P<n>WD`) shows the time left or overdue in working days (holidays and 调休 included, see
backend/common/workdays.py); within the same day, and on other steps, in days, hours and minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backend.common import clock
from backend.common.models import AuditEvent
from backend.common.workdays import working_days_between
from tasks.models import HumanTask, TaskStatus
from tasks.sla import due_soon_delta

HISTORY_ACTIONS = ("task.reminded", "task.escalated")


@dataclass
class TaskTime:
    deadline: datetime | None
    inherited: bool  # the deadline of the escalated task this one replaces
    working_days: bool
    state: str  # none / on_time / due_soon / overdue / breached_done / escalated / cancelled
    text: str  # 剩余 2 个工作日 / 已超时 3 小时 / 按时完成 …
    reminders: list[dict] = field(default_factory=list)
    escalations: list[dict] = field(default_factory=list)


def _natural(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)d 天 %(h)d 小时") % {"d": days, "h": hours} if hours else _("%(d)d 天") % {"d": days}
    if hours:
        return (
            _("%(h)d 小时 %(m)d 分钟") % {"h": hours, "m": minutes}
            if minutes
            else _("%(h)d 小时") % {"h": hours}
        )
    return _("%(m)d 分钟") % {"m": minutes}


def duration_text(start: datetime, end: datetime, *, working_days: bool) -> str:
    """How long from `start` to `end` (end ≥ start): working days where the step counts them."""
    if working_days:
        days = working_days_between(start, end)
        if days:
            return ngettext("%(n)d 个工作日", "%(n)d 个工作日", days) % {"n": days}
    return _natural(end - start)


def _state(task: HumanTask, deadline: datetime | None, now: datetime) -> str:
    if deadline is None:
        return "none"
    if task.status == TaskStatus.COMPLETED:
        return "on_time" if task.completed_at and task.completed_at <= deadline else "breached_done"
    if task.status == TaskStatus.CANCELLED:
        return "escalated" if task.outcome == "escalated" else "cancelled"
    if deadline < now:
        return "overdue"
    return "due_soon" if deadline < now + due_soon_delta() else "on_time"


def _text(task: HumanTask, state: str, deadline: datetime | None, now: datetime, wd: bool) -> str:
    if deadline is None:
        return _("无时限")
    if state in ("on_time", "due_soon") and task.status == TaskStatus.READY:
        return _("剩余 %(left)s") % {"left": duration_text(now, deadline, working_days=wd)}
    if state == "overdue":
        return _("已超时 %(late)s") % {"late": duration_text(deadline, now, working_days=wd)}
    if state == "on_time":
        return _("按时完成")
    if state in ("breached_done", "escalated") and task.completed_at:
        label = _("超时 %(late)s 后完成") if state == "breached_done" else _("超时 %(late)s 后上报")
        return label % {"late": duration_text(deadline, max(task.completed_at, deadline), working_days=wd)}
    return _("已取消")


def _entry(event: AuditEvent, names: dict[str, str]) -> dict:
    data = event.data or {}
    return {
        "at": event.created_at,
        "by": (event.actor.get_full_name() or event.actor.username) if event.actor_id else _("系统"),
        "to": "、".join(names.get(u, u) for u in data.get("to") or []),
        "message": data.get("message", ""),
        "from_org_unit": event.org_unit.name if event.org_unit_id else data.get("from_org_unit", ""),
    }


def _display_names(usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    users = get_user_model().objects.filter(username__in=usernames)
    return {u.username: u.get_full_name() or u.username for u in users}


def task_times(
    tasks: list[HumanTask], *, now: datetime | None = None, history: bool = True
) -> dict[int, TaskTime]:
    """TaskTime per task id; the reminder and escalation history of all of them in one query.
    The tasks come with `escalated_from` selected (or it costs one query each)."""
    now = now or clock.now()
    events: dict[int, list[AuditEvent]] = {}
    if history and tasks:
        ids = {t.pk for t in tasks} | {t.escalated_from_id for t in tasks if t.escalated_from_id}
        # By the task's own audit stream (indexed on object type and id), not by task_id.
        rows = (
            AuditEvent.objects.filter(
                object_type=HumanTask._meta.label_lower, object_id__in=[str(i) for i in ids]
            )
            .filter(action__in=HISTORY_ACTIONS)
            .select_related("actor", "org_unit")
            .order_by("created_at", "id")
        )
        for event in rows:
            events.setdefault(event.task_id, []).append(event)
    names = _display_names(
        {u for evs in events.values() for e in evs for u in (e.data or {}).get("to") or []}
    )
    result = {}
    for task in tasks:
        origin = task.escalated_from if task.escalated_from_id else None
        inherited = task.due_at is None and origin is not None and origin.due_at is not None
        deadline = origin.due_at if inherited else task.due_at
        wd = origin.working_days if inherited else task.working_days
        state = _state(task, deadline, now)
        mine = events.get(task.pk, []) + (
            events.get(task.escalated_from_id, []) if task.escalated_from_id else []
        )
        mine.sort(key=lambda e: (e.created_at, e.pk))
        result[task.pk] = TaskTime(
            deadline=deadline,
            inherited=inherited,
            working_days=wd,
            state=state,
            text=_text(task, state, deadline, now, wd),
            reminders=[_entry(e, names) for e in mine if e.action == "task.reminded"],
            escalations=[
                _entry(e, names)
                | {"deadline": origin.due_at if origin and e.task_id == origin.pk else task.due_at}
                for e in mine
                if e.action == "task.escalated"
            ],
        )
    return result


def task_time(task: HumanTask, *, now: datetime | None = None) -> TaskTime:
    return task_times([task], now=now)[task.pk]

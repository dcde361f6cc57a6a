"""Keeps human-task rows in step with the engine: called by processes.runtime after every save."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from backend.common import clock
from backend.common.audit import audit_event_record
from backend.organisation.lanes import lane_assignee_id, lane_org_unit, lane_rule
from processes.models import ProcessInstance
from processes.runtime import ReadyTask, WaitingTimer, deadline_value
from tasks.models import HumanTask, Notification, NotificationKind, TaskStatus
from tasks.notifications import notifications_create
from tasks.selectors import task_candidates
from tasks.substitution import substitute_for

# A step that sends the case back (the form's 退回修改, the 退回 action) names who returned it and
# why: the tasks it makes are announced as 退回 instead of 新任务 (one notice, not two).
_returned: ContextVar[tuple[Any, str] | None] = ContextVar("custflow_step_returned", default=None)


@contextmanager
def tasks_made_are_returns(*, actor: Any, reason: str) -> Iterator[None]:
    token = _returned.set((actor, reason))
    try:
        yield
    finally:
        _returned.reset(token)


def _notify_new(row: HumanTask, *, escalated: bool) -> None:
    """新任务: the assignee, or everyone who may claim it; a task a timer created (the deadline
    passed) is an escalation (超时上报); one a return made is a 退回."""

    kind = NotificationKind.ESCALATION if escalated else NotificationKind.NEW_TASK
    message = (_("超时上报:%(name)s") if escalated else _("新任务:%(name)s")) % {"name": row.name}
    returned = _returned.get()
    if returned is not None and not escalated:
        by, reason = returned
        kind = NotificationKind.RETURN
        who = by.get_full_name() or by.username
        message = _("%(user)s 将“%(name)s”退回给您:%(reason)s") % {"user": who, "name": row.name, "reason": reason}
    now = clock.now()
    # An assigned task notifies its assignee: the id is enough, no user row is read (P1).
    users = [row.assignee_id] if row.assignee_id else [u.pk for u in task_candidates(row)]
    notifications_create(
        [Notification(user_id=u, kind=kind, task=row, message=message[:300], created_at=now) for u in users]
    )


def _data_due(data: dict):
    """A task without its own deadline timer may carry the case's deadline in its data
    (`task_due_at`, ISO 8601): a complaint's steps show the regulatory clock."""

    value = data.get("task_due_at")
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _counts_working_days(properties: dict | None) -> bool:
    """The step's deadline (its `deadline` property) is a number of working days (`P<n>WD`)."""

    name = (properties or {}).get("deadline")
    if not name:
        return False
    try:
        return bool(re.fullmatch(r"P\d+WD", deadline_value(str(name), "")))
    except ValueError:
        return False


class HumanTaskStore:
    def retarget(self, instance: ProcessInstance, ready: list[ReadyTask]) -> None:
        """The instance moved to another version (migration or its rollback): its open rows take
        that version's step name, lane (role, candidate org unit, four eyes), form and a fresh
        state snapshot; the assignee and due time stay (the sync before set the due time)."""
        definition = instance.version.definition
        by_id = {t.id: t for t in ready}
        for row in HumanTask.objects.filter(instance=instance, status=TaskStatus.READY):
            task = by_id.get(row.engine_task_id)
            if task is None:
                continue
            rule = lane_rule(task.lane or "")
            row.name = task.name or task.spec
            row.process_name = definition.name
            row.lane = task.lane or ""
            row.role = rule.role
            row.org_unit = lane_org_unit(task.lane or "", instance.org_unit)
            row.four_eyes = rule.approval
            row.form_key = (task.properties or {}).get("form", "")
            row.state_snapshot = bytes(instance.state)
            row.save(update_fields=["name", "process_name", "lane", "role", "org_unit", "four_eyes", "form_key", "state_snapshot"])

    def sync(self, instance: ProcessInstance, ready: list[ReadyTask], timers: list[WaitingTimer], actor: Any) -> None:
        now = clock.now()
        ready_by_id = {t.id: t for t in ready}
        open_rows = {r.engine_task_id: r for r in HumanTask.objects.filter(instance=instance, status=TaskStatus.READY)}
        escalated = None  # the task a deadline timer took in this step (record_escalation marked it)
        for engine_id, row in open_rows.items():
            if engine_id in ready_by_id:
                continue
            if row.outcome == "escalated":
                escalated = row
            # The engine moved past this task without our complete(): a boundary event took it.
            row.status = TaskStatus.CANCELLED
            row.completed_at = now
            row.outcome = row.outcome or "cancelled"
            row.save(update_fields=["status", "completed_at", "outcome"])
            audit_event_record(actor=actor, action="task.cancelled", obj=row, org_unit=row.org_unit, process_instance_id=instance.pk, task_id=row.pk, data={"step": row.step})
        deadlines = {t.attached_to: t.due_at for t in timers if t.interrupting and t.attached_to}
        version = instance.version
        definition = version.definition
        for engine_id, task in ready_by_id.items():
            if engine_id in open_rows:
                row = open_rows[engine_id]
                due = deadlines.get(task.spec)
                if due is not None and row.due_at != due:  # a resumed step counts afresh
                    HumanTask.objects.filter(pk=row.pk).update(due_at=due)
                continue
            rule = lane_rule(task.lane or "")
            data = task.data
            row = HumanTask.objects.create(
                instance=instance,
                engine_task_id=engine_id,
                step=task.spec,
                name=task.name or task.spec,
                process_key=definition.key,
                process_name=definition.name,
                lane=task.lane or "",
                role=rule.role,
                org_unit=lane_org_unit(task.lane or "", instance.org_unit, data),
                # 代理: a task for an absent submitter goes to their substitute.
                assignee_id=(substitute_for(instance.started_by_id) or instance.started_by_id) if rule.submitter else lane_assignee_id(task.lane or "", data),
                four_eyes=rule.approval,
                initiator_id=instance.started_by_id,
                form_key=(task.properties or {}).get("form", ""),
                due_at=deadlines.get(task.spec) or _data_due(data),
                flags=list(data.get("flags") or []),
                case_type=instance.subject_type,
                # The case is the instance's own (its row), never an id from process data (control 4).
                case_id=instance.subject_id,
                customer_id=data.get("customer_id") if isinstance(data.get("customer_id"), int) else None,
                created_at=now,
                state_snapshot=bytes(instance.state),
                escalated_from=escalated if actor is None else None,
                working_days=_counts_working_days(task.properties),
            )
            _notify_new(row, escalated=actor is None)
            audit_event_record(actor=actor, action="task.created", obj=row, org_unit=row.org_unit, process_instance_id=instance.pk, task_id=row.pk, data={"step": row.step, "lane": row.lane})

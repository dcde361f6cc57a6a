"""Operations the diagrams call on the task side: reminders and escalations."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common import clock
from backend.common.audit import audit_event_record
from processes.registry import OperationContext, operation_register
from tasks.models import HumanTask, Notification, NotificationKind, TaskStatus
from tasks.notifications import notifications_create
from tasks.selectors import task_candidates


def _open_task(ctx: OperationContext, step: str) -> HumanTask | None:
    return HumanTask.objects.filter(instance=ctx.instance, step=step, status=TaskStatus.READY).order_by("-id").first()


def send_reminder(ctx: OperationContext, params: dict, data: dict) -> dict:
    task = _open_task(ctx, str(params.get("task", "")))
    if task is None:
        return {}
    now = clock.now()
    message = _("催办:任务“%(name)s”将于 %(due)s 到期") % {"name": task.name, "due": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") if task.due_at else "-"}
    recipients = task_candidates(task)
    notifications_create([Notification(user=u, kind=NotificationKind.REMINDER, task=task, message=message, created_at=now) for u in recipients])
    audit_event_record(actor=None, action="task.reminded", obj=task, org_unit=task.org_unit, process_instance_id=ctx.instance.pk, task_id=task.pk, data={"to": [u.username for u in recipients]})
    return {}


def record_escalation(ctx: OperationContext, params: dict, data: dict) -> dict:
    step = str(params.get("task", ""))
    task = HumanTask.objects.filter(instance=ctx.instance, step=step).order_by("-id").first()
    if task is not None:
        if task.status == TaskStatus.READY:
            # The interrupting timer took the task: record why it left the inbox.
            task.outcome = "escalated"
            task.save(update_fields=["outcome"])
        audit_event_record(
            actor=None,
            action="task.escalated",
            obj=task,
            org_unit=task.org_unit,
            process_instance_id=ctx.instance.pk,
            task_id=task.pk,
            data={"step": step, "from_org_unit": task.org_unit.code, "assignee": task.assignee.username if task.assignee_id else None},
        )
    return {"escalated": True}


def register() -> None:
    operation_register("tasks.send_reminder", send_reminder, "向任务处理人发送催办提醒", params=("task",))
    operation_register("tasks.record_escalation", record_escalation, "记录超时上报", params=("task",))

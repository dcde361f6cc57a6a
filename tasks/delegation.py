"""The two ways a task's submission does not go straight to the engine: a delegate's result
goes back to the delegator (委派), and pending signers (加签) sign before or after the approver.
tasks/services.py (task_complete) and tasks/flow.py (the actions) both use these."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Conflict
from tasks.models import HumanTask, Notification, NotificationKind, SignerStatus, TaskSigner, TaskStatus
from tasks.notifications import notifications_create


def pending_signers(task: HumanTask, position: str) -> list[TaskSigner]:
    return list(task.signers.filter(position=position, status=SignerStatus.PENDING).select_related("user"))


def delegate_finish(*, actor, task: HumanTask, cleaned: dict) -> HumanTask:
    """The delegate's submission: kept for the delegator, who confirms it (inside the caller's
    transaction, under the instance lock)."""
    delegator = task.delegated_by
    updated = HumanTask.objects.filter(pk=task.pk, status=TaskStatus.READY, assignee=actor, delegated_by=delegator).update(
        assignee=delegator, delegated_by=None, delegate_result=cleaned
    )
    if not updated:
        raise Conflict(_("任务状态已变化,请刷新后重试"), code="task_changed")
    task.assignee, task.delegated_by, task.delegate_result = delegator, None, cleaned
    audit_event_record(actor=actor, action="task.delegate_done", obj=task, org_unit=task.org_unit, process_instance_id=task.instance_id, task_id=task.pk, data={"result": cleaned})
    message = _("%(user)s 已办理您委派的任务“%(name)s”,请确认") % {"user": actor.get_full_name() or actor.username, "name": task.name}
    notifications_create([Notification(user=delegator, kind=NotificationKind.DELEGATE, task=task, created_at=timezone.now(), message=message[:300])])
    return task

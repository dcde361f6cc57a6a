"""Comments on tasks and the case timeline (every audited action of the case, in order)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import ValidationFailed
from backend.common.models import AuditEvent
from forms.validation import control_character_fields
from tasks.models import TaskComment
from tasks.selectors import task_get_visible

MAX_COMMENT = 2000


@transaction.atomic
def task_comment_add(*, actor, task_id, body: object) -> TaskComment:
    task = task_get_visible(user=actor, task_id=task_id)
    text = str(body or "").strip() if isinstance(body, str | type(None)) else None
    if not text:
        raise ValidationFailed.field("body", _("请填写意见内容"))
    if len(text) > MAX_COMMENT or control_character_fields(text):
        raise ValidationFailed.field("body", _("意见不能超过 %(n)d 个字符,且不能包含控制字符") % {"n": MAX_COMMENT})
    comment = TaskComment.objects.create(task=task, author=actor, body=text, created_at=timezone.now())
    audit_event_record(
        actor=actor, action="task.commented", obj=task, org_unit=task.org_unit, process_instance_id=task.instance_id, task_id=task.pk,
        data={"comment": text[:200]},
    )
    return comment


def task_comments(*, user, task_id) -> list[TaskComment]:
    task = task_get_visible(user=user, task_id=task_id)
    return list(TaskComment.objects.filter(task__instance_id=task.instance_id).select_related("author", "task").order_by("created_at", "id"))


TIMELINE_ACTIONS = {
    "process.started": "发起",
    "task.created": "生成任务",
    "task.claimed": "认领",
    "task.unclaimed": "释放",
    "task.completed": "办理",
    "task.transferred": "转办",
    "task.reminded": "催办",
    "task.copied": "抄送",
    "task.commented": "意见",
    "task.escalated": "超时上报",
    "task.cancelled": "取消",
    "timer.fired": "定时触发",
}


def case_timeline(*, user, task_id) -> list[dict[str, Any]]:
    """Every audited action of the case the task belongs to, oldest first."""
    task = task_get_visible(user=user, task_id=task_id)
    events = AuditEvent.objects.filter(process_instance_id=task.instance_id, action__in=list(TIMELINE_ACTIONS)).select_related("actor").order_by("id")
    return [
        {
            "at": e.created_at,
            "actor": e.actor.username if e.actor_id else None,
            "action": e.action,
            "label": TIMELINE_ACTIONS[e.action],
            "task_id": e.task_id,
            "data": e.data,
        }
        for e in events
    ]

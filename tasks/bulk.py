"""Bulk inbox actions: claim, complete (approve) or transfer many tasks, one result per item.

Each item runs through the same service as a single action, in its own transaction, so one
refusal never undoes or blocks the others.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from backend.common.exceptions import ApplicationError, ValidationFailed
from forms.registry import form_get
from processes.services import instance_form
from tasks.actions import task_transfer
from tasks.selectors import task_get_visible
from tasks.services import task_claim, task_complete

MAX_BULK = 500
BULK_ACTIONS = ("claim", "complete", "transfer")


def _complete_if_allowed(actor, task_id: int, data: dict) -> None:
    task = task_get_visible(user=actor, task_id=task_id)
    if not (instance_form(task.instance_id, task.form_key) or form_get(task.form_key)).ui.get("bulk"):
        raise ValidationFailed("", field_errors={"action": [_("此任务的表单不支持批量办理")]}, code="bulk_not_allowed")
    task_complete(actor=actor, task_id=task_id, data=data)


def tasks_bulk(*, actor, action: object, task_ids: object, data: object) -> list[dict[str, Any]]:
    if action not in BULK_ACTIONS:
        raise ValidationFailed.field("action", _("可选: %(a)s") % {"a": ", ".join(BULK_ACTIONS)})
    if not isinstance(task_ids, list) or not task_ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in task_ids):
        raise ValidationFailed.field("task_ids", _("请提供任务编号列表(整数)"))
    if len(task_ids) > MAX_BULK:
        raise ValidationFailed.field("task_ids", _("一次最多 %(n)d 个任务") % {"n": MAX_BULK})
    if not isinstance(data, dict):
        raise ValidationFailed.field("data", _("必须是 JSON 对象"))
    results = []
    for task_id in dict.fromkeys(task_ids):
        try:
            if action == "claim":
                task_claim(actor=actor, task_id=task_id)
            elif action == "complete":
                _complete_if_allowed(actor, task_id, data)
            else:
                task_transfer(actor=actor, task_id=task_id, to_username=data.get("to"), reason=data.get("reason"))
            results.append({"id": task_id, "ok": True, "status": 200})
        except ApplicationError as exc:
            results.append({"id": task_id, "ok": False, "status": exc.status_code, "code": exc.code, "detail": exc.message, "errors": exc.field_errors})
    return results

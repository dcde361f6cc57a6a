"""An instance on its diagram: which elements are completed, current, overdue or failed, with
the case's timeline and its data (masked).

- completed: user tasks with a `task.completed` audit event, timers with `timer.fired`, the end
  event of a finished instance (the engine history is compacted away, so the audit trail is the
  history); the page also marks start events;
- current: the instance's READY task rows (the engine's ready tasks; they agree, see
  tests/tasks/test_flow_properties.py);
- overdue: READY rows past their due time;
- failed: open incidents (a background step that failed and will be retried).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.exceptions import NotFound
from backend.common.models import AuditEvent
from backend.organisation import privacy
from backend.organisation.selectors import scope_q
from processes import runtime
from processes.models import InstanceStatus, ProcessIncident, ProcessInstance
from processes.services import user_reads_diagrams
from tasks.comments import TIMELINE_ACTIONS
from tasks.models import HumanTask, TaskStatus
from tasks.selectors import inbox_q

logger = logging.getLogger(__name__)

_EXTRA_ACTIONS = {
    "process.instance_migrated": "迁移到新版本",
    "process.instance_migration_rolled_back": "迁移已回滚",
    "process.incident": "运行故障",
    "process.incident_resolved": "运行故障已解除",
}


def _masked(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, key) for v in value]
    if key in settings.CUSTFLOW["MASKING"] and isinstance(value, str):
        return privacy.masked(key, value)
    return value


def instance_diagram_visible(*, user, instance: ProcessInstance) -> bool:
    """The diagram picture of a case is for those who read diagrams (process owners, compliance)
    and for the people of that case: who started it, who holds or did one of its tasks, and the
    candidates of its open tasks (its inbox). Anyone else in the org scope learns nothing (404)."""
    if user_reads_diagrams(user) or instance.started_by_id == user.pk:
        return True
    tasks = HumanTask.objects.filter(instance=instance)
    if tasks.filter(Q(assignee=user) | Q(completed_by=user) | Q(delegated_by=user)).exists():
        return True
    return tasks.filter(status=TaskStatus.READY).filter(inbox_q(user)).exists()


def instance_overview(*, user, instance_id: int) -> dict[str, Any]:
    instance = (
        ProcessInstance.objects.filter(scope_q(user))
        .select_related("version__definition", "org_unit")
        .filter(pk=instance_id)
        .first()
    )
    if instance is None or not instance_diagram_visible(user=user, instance=instance):
        raise NotFound(_("流程实例不存在"), code="instance_not_found")
    labels = {**TIMELINE_ACTIONS, **_EXTRA_ACTIONS}
    events = list(
        AuditEvent.objects.filter(process_instance_id=instance.pk, action__in=list(labels)).select_related("actor").order_by("id")
    )
    completed: set[str] = set()
    for e in events:
        if e.action == "task.completed" and e.data.get("step"):
            completed.add(e.data["step"])
        elif e.action == "timer.fired" and e.data.get("timer"):
            completed.add(e.data["timer"])
    now = timezone.now()
    ready = list(HumanTask.objects.filter(instance=instance, status=TaskStatus.READY).order_by("id"))
    current = sorted({t.step for t in ready})
    overdue = sorted({t.step for t in ready if t.due_at and t.due_at < now})
    incidents = list(ProcessIncident.objects.filter(instance=instance, resolved_at__isnull=True))
    failed = sorted({i.element for i in incidents if i.element})
    if instance.status == InstanceStatus.COMPLETED and instance.end_event:
        completed.add(instance.end_event)
    try:
        wf = runtime.engine().restore(runtime._version_spec(instance), bytes(instance.state))
        data = _masked(wf.data)
    except Exception:  # a state that no longer restores must still be viewable
        logger.exception("instance %s: state does not restore for the instance view", instance.pk)
        data = {}
    return {
        "instance": instance,
        "bpmn_xml": instance.version.bpmn_xml,
        "completed": sorted(completed - set(current)),
        "current": current,
        "overdue": overdue,
        "failed": failed,
        "incidents": incidents,
        "ready": ready,
        "timeline": [
            {
                "at": e.created_at,
                "actor": e.actor.username if e.actor_id else None,
                "action": e.action,
                "label": labels[e.action],
                "step": e.data.get("step") or e.data.get("timer") or e.data.get("element") or "",
            }
            for e in events
        ],
        "data": data,
    }

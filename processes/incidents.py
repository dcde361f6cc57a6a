"""Process incidents: a background step failed for a reason of the step itself.

What is an incident (`is_step_failure`): the engine's errors (a script error, a refused or
runaway script, a diagram error, a handler failing on the diagram's data — all reach here as
`ProcessRunError` or an engine error), a sandbox bound (MemoryError, RecursionError) and a
step child killed over its wall-clock or CPU bound. What is not: a broker, mail or database
connection failure, a concurrent update (IntegrityError included), a worker shutdown — those are logged and the next
sweep retries the step (its timer is still pending), and no incident is recorded.

An open incident resolves itself once its instance has moved past the failing point: the
timer whose step failed has fired or was cancelled (its task completed, the case was returned
or migrated), or the instance ended. That check runs inside every step's transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db import InterfaceError as DbInterfaceError
from django.db import OperationalError as DbOperationalError
from django.utils import timezone

from backend.common.audit import audit_event_record
from processes.engine import DiagramError, EngineError, MigrationIncompatible
from processes.errors import ProcessRunError
from processes.models import InstanceStatus, ProcessIncident, ProcessInstance, Timer, TimerStatus

logger = logging.getLogger(__name__)


def is_step_failure(exc: BaseException) -> bool:
    """True for a failure of the step itself (an incident); False for the infrastructure or a
    shutdown (log and retry)."""
    if isinstance(exc, (DbOperationalError, DbInterfaceError)):
        return False  # the database connection, a lock timeout, a serialization failure
    if isinstance(
        exc, (ProcessRunError, EngineError, DiagramError, MigrationIncompatible, MemoryError, RecursionError)
    ):
        return True
    # A handler's data the database refuses (DataError, ProgrammingError) is the step's fault; an
    # IntegrityError may be a race with a concurrent step, so it is retried like an outage.
    return isinstance(exc, DatabaseError) and not isinstance(exc, IntegrityError)


def incident_open(
    *, instance_id: int, source: str, message: str, element: str = "", timer_id: int | None = None, data: dict | None = None
) -> ProcessIncident:
    """Open an incident on the instance, or count one more occurrence on the open incident of the
    same source and element. Sources: "timer" (a timer's step), "step" (a user's step), "start" (a
    test start), "stall" (no step can move the instance). In its own savepoint: after a failed step
    rolled back, or inside the step that stalled."""
    now = timezone.now()
    with transaction.atomic():
        incident = (
            ProcessIncident.objects.select_for_update()
            .filter(instance_id=instance_id, source=source, element=element, resolved_at__isnull=True)
            .first()
        )
        if incident is not None:
            incident.occurrences += 1
            incident.last_seen_at, incident.message = now, message
            fields = ["occurrences", "last_seen_at", "message"]
            if timer_id is not None:
                incident.timer_id = timer_id
                fields.append("timer")
            incident.save(update_fields=fields)
            return incident
        incident = ProcessIncident.objects.create(
            instance_id=instance_id, timer_id=timer_id, source=source, element=element, message=message, last_seen_at=now
        )
        audit_event_record(
            actor=None,
            action="process.incident",
            obj=incident.instance,
            process_instance_id=instance_id,
            data={"element": element, "message": message[:500], "source": source, **(data or {})},
        )
    return incident


def incident_record(*, timer_id: int, message: str, element: str = "") -> None:
    """Record (or count again) the open incident of the instance whose timer step failed. An
    error that names no element is filed under the timer's own element."""
    timer = Timer.objects.filter(pk=timer_id).only("id", "instance_id", "spec").first()
    if timer is None:
        return
    element = element or timer.spec
    incident_open(
        instance_id=timer.instance_id, source="timer", message=message, element=element, timer_id=timer_id, data={"timer": timer_id}
    )
    logger.warning("instance %s: timer %s failed: %s", timer.instance_id, timer_id, message)


def incidents_resolve_passed(*, instance: ProcessInstance, actor: Any = None, how: str = "", stalled: bool = False) -> int:
    """Inside a step's transaction: close the instance's open incidents it has moved past (the
    failing timer is no longer pending, the instance can progress again after a stall, or it is
    no longer running). Returns how many."""
    if getattr(instance, "has_open_incidents", True) is False:
        return 0  # the lock said so (runtime.instance_lock): no statement on the hot path
    open_incidents = list(ProcessIncident.objects.filter(instance_id=instance.pk, resolved_at__isnull=True))
    if not open_incidents:
        return 0
    running = instance.status == InstanceStatus.RUNNING
    pending = set(
        Timer.objects.filter(instance_id=instance.pk, status=TimerStatus.PENDING).values_list("id", flat=True)
    )
    now = timezone.now()
    resolved = 0
    for incident in open_incidents:
        if incident.source == "stall":
            if running and stalled:
                continue  # still stuck where it stalled
        elif running and (incident.timer_id in pending or (incident.timer_id is None and pending)):
            continue  # still waiting where it failed (an incident without a timer: on any timer)
        if not running:
            resolution = f"instance {instance.status}"
        elif incident.source == "stall":
            resolution = "moved on: the instance can progress again"
        elif incident.timer_id is None:
            resolution = "moved past: no pending timer"
        else:
            status = Timer.objects.filter(pk=incident.timer_id).values_list("status", flat=True).first()
            resolution = f"moved past: timer {status}" + (f" ({how})" if how else "")
        incident.resolved_at, incident.resolution = now, resolution[:200]
        incident.resolved_by = actor if getattr(actor, "pk", None) else None
        incident.save(update_fields=["resolved_at", "resolution", "resolved_by"])
        audit_event_record(
            actor=incident.resolved_by,
            action="process.incident_resolved",
            obj=instance,
            process_instance_id=instance.pk,
            data={"element": incident.element, "resolution": incident.resolution, "incident": incident.pk},
        )
        resolved += 1
    return resolved

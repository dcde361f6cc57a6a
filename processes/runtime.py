"""One engine step in one transaction: lock → load → act → run → save → task rows, timers.

Every write to an instance goes through `instance_step`. The caller already holds the
transaction; this module locks the instance row, restores the workflow, performs the action,
saves the state over the row version it loaded, and rewrites the instance's timer rows and
(through the injected task store) its human-task rows.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import KombuError

from backend.common import clock
from backend.common.audit import audit_event_record
from backend.common.exceptions import ApplicationError, Conflict
from backend.common.workdays import add_working_days
from processes.engine import (
    STATE_FORMAT,
    Engine,
    EngineError,
    MigrationIncompatible,
    PoolLimits,
    ReadyTask,
    WaitingTimer,
    Workflow,
)
from processes.engine import clock as engine_clock
from processes.errors import ProcessRunError
from processes.incidents import incident_open, incidents_resolve_passed
from processes.models import (
    InstanceStatus,
    ProcessIncident,
    ProcessInstance,
    ProcessVersion,
    Timer,
    TimerStatus,
)
from processes.registry import TEST_SUBJECT, OperationContext, operation_get
from processes.registry import helpers as registered_helpers

logger = logging.getLogger(__name__)


class StepUnavailable(ApplicationError):
    """A step met an outage (broker, mail server, network): nothing was saved; retry later."""

    status_code = 503
    default_code = "service_unavailable"


class TaskStore(Protocol):
    def sync(self, instance: ProcessInstance, ready: list[ReadyTask], timers: list[WaitingTimer], actor: Any) -> None: ...

    def retarget(self, instance: ProcessInstance, ready: list[ReadyTask]) -> None:
        """After a version change: open task rows take the target's name, lane, form."""


_task_store: TaskStore | None = None


def task_store_set(store: TaskStore) -> None:
    """The tasks app installs its human-task store at startup (tasks/apps.py)."""
    global _task_store
    _task_store = store


# ---- engine construction --------------------------------------------------------------------

_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_duration(value: str) -> timedelta:
    match = _ISO_DURATION.match(value or "")
    if not match or value in {"P", "PT"}:
        raise ValueError(f"not an ISO 8601 duration: {value!r}")
    d, h, m, s = (int(x) if x else 0 for x in match.groups())
    return timedelta(days=d, hours=h, minutes=m, seconds=s)


def format_duration(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 1)
    return f"PT{seconds}S"


_WORKING_DAYS = re.compile(r"^P(\d+)WD$")


def deadline_delta(value: str) -> timedelta:
    """An ISO 8601 duration, or `P<n>WD`: n working days (Chinese holidays and 调休 included)
    from the engine clock's now, at the same time of day."""
    match = _WORKING_DAYS.match(value or "")
    if match:
        now = engine_clock.now()
        return add_working_days(now, int(match.group(1))) - now
    return parse_duration(value)


def deadline_value(name: str, default: str | None = None) -> str:
    """A deadline written in a diagram: a name in `CUSTFLOW["DEADLINES"]` (the setting wins,
    else `default`), or the duration itself (`"PT72H"`, `"P3WD"`), as the modeler writes it."""
    if isinstance(name, str) and (_ISO_DURATION.match(name) or _WORKING_DAYS.match(name)) and name not in {"P", "PT"}:
        return name
    value = settings.CUSTFLOW["DEADLINES"].get(name, default)
    if value is None:
        raise ValueError(f"unknown deadline {name!r} and no default")
    return value


def _deadline(name: str, default: str | None = None) -> str:
    value = deadline_value(name, default)
    if _WORKING_DAYS.match(value):
        return format_duration(deadline_delta(value))
    parse_duration(value)  # refuse a malformed setting here, not deep inside the engine
    return value


def _reminder_after(name: str, default: str | None = None) -> str:
    total = deadline_delta(deadline_value(name, default))
    return format_duration(total * settings.CUSTFLOW["REMINDER_FRACTION"])


ENGINE_HELPERS: dict[str, Callable[..., Any]] = {"deadline": _deadline, "reminder_after": _reminder_after}

_current: contextvars.ContextVar[OperationContext | None] = contextvars.ContextVar("custflow_step", default=None)


def _call_operation(operation: str, params: dict, data: dict) -> dict | None:
    """Call a registered handler for the instance of this step (control 4).

    The handler sees only the parameters its operation declares (a diagram cannot hand it a
    case, customer or complaint id: lint refuses such parameters at upload, and any that an
    older version still passes are dropped here) and finds its case in ``ctx.case_id``, bound
    from the instance row. A test instance runs every handler in dry-run: inside a savepoint
    that is always rolled back, so no real record can change; what it would have done is
    recorded in the audit trail and in the instance's data (``dry_run_log``)."""
    ctx = _current.get()
    op = operation_get(operation)
    if op is None or ctx is None:
        raise EngineError(_("未注册的服务操作: %(op)s") % {"op": operation})
    dropped = sorted(set(params) - set(op.params))
    if dropped:
        logger.warning("instance %s: operation %s ignores undeclared parameters %s", ctx.instance.pk, operation, dropped)
    declared = {name: value for name, value in params.items() if name in op.params}
    if not _is_dry_run(ctx.instance):
        return op.handler(ctx, declared, data)
    return _call_dry_run(op, OperationContext(instance=ctx.instance, actor=ctx.actor, dry_run=True), declared, data)


def _is_dry_run(instance: ProcessInstance) -> bool:
    """Instances without a case of their own (test instances) never touch real records."""
    return instance.subject_type == TEST_SUBJECT or instance.subject_id is None


def _call_dry_run(op, ctx: OperationContext, params: dict, data: dict) -> dict:

    result: dict | None = None
    error = ""
    with transaction.atomic():  # a savepoint: everything the handler writes is rolled back
        try:
            result = op.handler(ctx, params, data)
        except Exception as exc:  # a handler without a real case fails: that is what it would do
            error = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            transaction.set_rollback(True)
    entry = {"operation": op.name, "would": op.description or op.name, "params": params, "error": error}
    audit_event_record(
        actor=ctx.actor, action="process.operation_dry_run", obj=ctx.instance, org_unit=ctx.instance.org_unit,
        process_instance_id=ctx.instance.pk, data=entry,
    )
    log = data.get("dry_run_log") if isinstance(data.get("dry_run_log"), list) else []
    answer = dict(result) if isinstance(result, dict) else {}
    answer["dry_run_log"] = [*log, entry]
    return answer


def _domain_helper(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return fn(*args, now=engine_clock.now())

    return call


def script_pool_limits() -> PoolLimits:
    """The sandbox worker pool's limits from `CUSTFLOW["SCRIPT_POOL"]`."""
    pool = settings.CUSTFLOW["SCRIPT_POOL"]
    return PoolLimits(
        workers=pool["WORKERS"],
        memory_mb=pool["MEMORY_MB"],
        cpu_seconds=pool["CPU_SECONDS"],
        timeout=pool["TIMEOUT_SECONDS"],
        recursion_limit=pool["RECURSION_LIMIT"],
        max_tasks=pool["MAX_TASKS"],
    )


def engine() -> Engine:
    helpers = dict(ENGINE_HELPERS)
    helpers.update({name: _domain_helper(fn) for name, fn in registered_helpers().items()})
    return Engine(
        service_caller=_call_operation,
        helpers=helpers,
        max_steps=settings.CUSTFLOW["SCRIPT_MAX_STEPS"],
        max_seconds=settings.CUSTFLOW["SCRIPT_MAX_SECONDS"],
        pool=script_pool_limits(),
    )


@lru_cache(maxsize=64)
def _spec_by_hash(version_id: int, content_hash: str) -> dict:
    # Versions are immutable: a spec is cached for the life of the process, keyed by its
    # content hash so that a reused primary key (restored database, tests) can never serve
    # another diagram's spec.
    return ProcessVersion.objects.values_list("spec", flat=True).get(pk=version_id, content_hash=content_hash)


def _version_spec(instance: ProcessInstance) -> dict:
    return _spec_by_hash(instance.version_id, instance.version.content_hash)


# ---- the step ------------------------------------------------------------------------------


@dataclass
class StepResult:
    instance: ProcessInstance
    ready: list[ReadyTask]
    timers: list[WaitingTimer]
    fired: list[str]


def instance_lock(instance_id: int, *, skip_locked: bool = False) -> ProcessInstance | None:
    # Whether the instance has an open incident comes with the lock: most steps have none, and
    # then closing the incidents a step moved past costs no statement (P1).
    open_incident = ProcessIncident.objects.filter(instance_id=OuterRef("pk"), resolved_at__isnull=True)
    qs = (
        ProcessInstance.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        # The org unit's ancestors (city → province → head office) come joined: task rows are
        # placed in a lane's unit by walking up, which would otherwise read them one by one.
        .select_related("version__definition", "org_unit__parent__parent")
        .defer("version__spec", "version__bpmn_xml", "version__metadata")
        .annotate(has_open_incidents=Exists(open_incident))
    )
    return qs.filter(pk=instance_id).first()


# Raised by the infrastructure, never by the diagram: sockets and SMTP (OSError), the broker.
_INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (OSError, KombuError)


def _run(instance: ProcessInstance, actor: Any, action: Callable[[], Workflow]) -> Workflow:
    token = _current.set(OperationContext(instance=instance, actor=actor))
    try:
        return action()
    except (ApplicationError, DatabaseError, MigrationIncompatible):
        raise
    except _INFRASTRUCTURE_ERRORS as exc:
        # A handler met a broker, mail server or network that is down: not the diagram's
        # fault, so not a ProcessRunError (no incident); nothing committed, the caller retries.
        logger.warning("step of instance %s: infrastructure unavailable: %s: %s", instance.pk, type(exc).__name__, exc)
        raise StepUnavailable(_("服务暂时不可用，操作未生效，请稍后重试")) from exc
    except EngineError as exc:
        raise ProcessRunError(
            _("流程运行出错(%(element)s): %(message)s")
            % {"element": getattr(exc, "element", None) or "-", "message": getattr(exc, "message", str(exc))},
            extra={"element": getattr(exc, "element", None)},
        )
    except Exception as exc:  # a handler failed on data the diagram gave it
        logger.exception("step of instance %s failed", instance.pk)
        raise ProcessRunError(_("流程运行出错: %(message)s") % {"message": f"{type(exc).__name__}: {exc}"})
    finally:
        _current.reset(token)


def instance_start(*, instance: ProcessInstance, data: dict, actor: Any) -> StepResult:
    """Start the engine for a freshly created instance row (inside the caller's transaction)."""
    assert transaction.get_connection().in_atomic_block
    spec = _version_spec(instance)
    wf = _run(instance, actor, lambda: engine().start(spec, data))
    return _save(instance, wf, actor, fired=[])


def instance_step(*, instance: ProcessInstance, actor: Any, act: Callable[[Workflow], Any]) -> StepResult:
    """Restore a LOCKED instance, apply `act` to its workflow, run, save, sync rows."""
    assert transaction.get_connection().in_atomic_block
    spec = _version_spec(instance)

    def action() -> Workflow:
        wf = engine().restore(spec, bytes(instance.state))
        act(wf)
        return wf

    wf = _run(instance, actor, action)
    return _save(instance, wf, actor, fired=[])


def instance_reset_to(*, instance: ProcessInstance, state: bytes, actor: Any, step: str, data: dict) -> StepResult:
    """Return a LOCKED instance to an earlier moment: the saved state taken when `step` became
    ready (its data as it then was), plus `data` (the return comment) on that step; its
    timers start afresh from now. Used by 退回 and 撤回."""
    assert transaction.get_connection().in_atomic_block
    spec = _version_spec(instance)
    now = timezone.now()

    def action() -> Workflow:
        wf = engine().restore(spec, bytes(state))
        if not wf.put_task_data(step, data):
            raise EngineError(f"step {step} is not ready in the saved state")
        wf.restart_timers(now)
        return wf

    wf = _run(instance, actor, action)
    return _save(instance, wf, actor, fired=[], now=now)


def instance_migrate(*, instance: ProcessInstance, target: ProcessVersion, actor: Any, dry_run: bool) -> dict:
    """Move a LOCKED running instance onto `target` (same definition). Raises
    MigrationIncompatible (nothing changed) or ProcessRunError. With `dry_run` nothing is
    saved. Returns the engine's report plus the ready tasks and timers the instance would have."""
    assert transaction.get_connection().in_atomic_block
    old_spec, new_spec = _version_spec(instance), _spec_by_hash(target.pk, target.content_hash)
    now = timezone.now()
    migrated: dict[str, Any] = {}

    def action() -> Workflow:
        wf, report = engine().migrate(old_spec, new_spec, bytes(instance.state), now)
        migrated["report"] = report
        return wf

    wf = _run(instance, actor, action)
    report = migrated["report"]
    report["ready"] = sorted(t.spec for t in wf.ready_user_tasks())
    report["waiting_timers"] = {t.spec: t.due_at.isoformat() for t in wf.waiting_timers()}
    if dry_run:
        return report
    instance.version = target
    result = _save(instance, wf, actor, fired=[], now=now)
    if _task_store is not None:
        _task_store.retarget(instance, result.ready)
    return report


def instance_restore_version(*, instance: ProcessInstance, version: ProcessVersion, state: bytes, actor: Any) -> StepResult:
    """Put a LOCKED instance back on `version` with `state` (a migration's rollback)."""
    assert transaction.get_connection().in_atomic_block
    spec = _spec_by_hash(version.pk, version.content_hash)
    wf = _run(instance, actor, lambda: engine().restore(spec, bytes(state)))
    instance.version = version
    result = _save(instance, wf, actor, fired=[])
    if _task_store is not None:
        _task_store.retarget(instance, result.ready)
    return result


def instance_restart_timers(*, instance: ProcessInstance, actor: Any, specs: set[str], now: datetime | None = None) -> StepResult:
    """Re-evaluate the waiting timers named in `specs` of a LOCKED instance from `now`: used when
    a domain clock their expressions read has moved (a complaint's extension or pause)."""
    assert transaction.get_connection().in_atomic_block
    now = now or timezone.now()
    spec = _version_spec(instance)

    def action() -> Workflow:
        wf = engine().restore(spec, bytes(instance.state))
        wf.restart_timers(now, specs=specs)
        return wf

    wf = _run(instance, actor, action)
    return _save(instance, wf, actor, fired=[], now=now)


def instance_cancel(*, instance: ProcessInstance, actor: Any) -> None:
    """撤销: a LOCKED running instance ends here; its timers stop (task rows: the task app)."""
    now = timezone.now()
    updated = ProcessInstance.objects.filter(pk=instance.pk, row_version=instance.row_version, status=InstanceStatus.RUNNING).update(
        status=InstanceStatus.CANCELLED, completed_at=now, row_version=instance.row_version + 1, updated_at=now
    )
    if not updated:
        raise Conflict(_("流程实例已结束或已被其他操作更新"), code="stale_instance")
    instance.status, instance.completed_at, instance.row_version = InstanceStatus.CANCELLED, now, instance.row_version + 1
    Timer.objects.filter(instance=instance, status=TimerStatus.PENDING).update(status=TimerStatus.CANCELLED)
    incidents_resolve_passed(instance=instance, actor=actor)


def instance_fire_timers(*, instance: ProcessInstance, at: datetime) -> StepResult:
    spec = _version_spec(instance)
    fired: list[str] = []

    def action() -> Workflow:
        wf = engine().restore(spec, bytes(instance.state))
        fired.extend(wf.fire_due_timers(at))
        return wf

    wf = _run(instance, None, action)
    return _save(instance, wf, None, fired=fired, now=at)


def _save(instance: ProcessInstance, wf: Workflow, actor: Any, *, fired: list[str], now: datetime | None = None) -> StepResult:
    now = now or clock.now()
    loaded_version = instance.row_version
    instance.state = wf.dump()
    instance.state_format = STATE_FORMAT
    instance.row_version = loaded_version + 1
    if wf.is_completed():
        instance.status = InstanceStatus.COMPLETED
        instance.end_event = wf.end_event() or ""
        instance.completed_at = now
    updated = ProcessInstance.objects.filter(pk=instance.pk, row_version=loaded_version).update(
        version_id=instance.version_id,
        state=instance.state,
        state_format=instance.state_format,
        row_version=instance.row_version,
        status=instance.status,
        end_event=instance.end_event,
        completed_at=instance.completed_at,
        updated_at=now,
    )
    if not updated:
        raise Conflict(_("流程实例已被其他操作更新,请刷新后重试"), code="stale_instance")
    ready = wf.ready_user_tasks()
    timers = wf.waiting_timers()
    stalled = []
    if not ready and not timers and instance.status != InstanceStatus.COMPLETED:
        stalled = wf.stalled_at()
        _stall_record(instance, stalled)
    _sync_timers(instance, timers, set(fired), now)
    if _task_store is not None:
        _task_store.sync(instance, ready, timers, actor)
    # An open incident whose failing timer this step moved past (fired, cancelled) closes here.
    incidents_resolve_passed(instance=instance, actor=actor, stalled=bool(stalled))
    return StepResult(instance=instance, ready=ready, timers=timers, fired=fired)


def _stall_record(instance: ProcessInstance, elements: list[str]) -> None:
    """An instance that can make no progress (no ready task, no waiting timer or event, not
    finished) is an incident on the elements it waits at, which the instance page highlights for
    process owners. Recorded in the step's transaction; the step itself still commits."""
    if not elements:
        return
    element = ",".join(elements)[:100]
    message = _("流程实例无法继续：在 %(elements)s 等待，但没有待办任务、定时器或可接收的事件") % {
        "elements": "、".join(elements)
    }
    incident_open(instance_id=instance.pk, source="stall", element=element, message=message)
    instance.has_open_incidents = True
    logger.error("instance %s stalled at %s", instance.pk, element)


def _sync_timers(instance: ProcessInstance, waiting: list[WaitingTimer], fired: set[str], now: datetime) -> None:
    waiting_by_id = {t.id: t for t in waiting}
    rows = {t.engine_task_id: t for t in Timer.objects.filter(instance=instance, status=TimerStatus.PENDING)}
    gone = [row for task_id, row in rows.items() if task_id not in waiting_by_id]
    fired_ids = [row.pk for row in gone if row.engine_task_id in fired]
    cancelled_ids = [row.pk for row in gone if row.engine_task_id not in fired]
    if fired_ids:
        Timer.objects.filter(pk__in=fired_ids).update(status=TimerStatus.FIRED, fired_at=now)
    if cancelled_ids:
        Timer.objects.filter(pk__in=cancelled_ids).update(status=TimerStatus.CANCELLED)
    new_rows = [
        Timer(
            instance=instance,
            engine_task_id=t.id,
            spec=t.spec,
            name=t.name or "",
            attached_to=t.attached_to or "",
            interrupting=t.interrupting,
            due_at=t.due_at,
        )
        for task_id, t in waiting_by_id.items()
        if task_id not in rows
    ]
    if new_rows:
        Timer.objects.bulk_create(new_rows)
    # A step resumed by 退回/撤回 keeps its engine timers but counts afresh.
    for task_id, row in rows.items():
        waiting_timer = waiting_by_id.get(task_id)
        if waiting_timer is not None and waiting_timer.due_at != row.due_at:
            Timer.objects.filter(pk=row.pk, status=TimerStatus.PENDING).update(due_at=waiting_timer.due_at)

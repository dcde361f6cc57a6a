"""The engine facade: start / restore a workflow, act on it, run the engine, compact, dump.

Nothing here returns a SpiffWorkflow object: callers get ``Workflow`` (a wrapper), ``ReadyTask``
and ``WaitingTimer`` values, plain dicts and bytes.
"""

from __future__ import annotations

import copy
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from . import clock
from .compaction import compact
from .errors import EngineError, MigrationIncompatible
from .guards import SandboxViolation
from .jsondata import check_json
from .parser import attached_to
from .pool import PoolLimits
from .scripting import SandboxEnvironment, SandboxScriptEngine
from .serializer import REGISTRY, SPECS, dump_state, load_state


class _ClockDatetime(datetime):
    """Stands in for ``datetime`` inside SpiffWorkflow's timer module, so timers read the engine clock."""

    @classmethod
    def now(cls, tz=None):
        current = clock.now()
        current = current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)
        return cls.combine(current.date(), current.time(), current.tzinfo)


_spiff_timer.datetime = _ClockDatetime

# Tasks one step may run. SpiffWorkflow stops seeing tasks deeper than 1,000 in a single chain,
# so an endless engine-only loop must be stopped well before it gets there.
MAX_TASKS_PER_STEP = 500

_service_failure: ContextVar[BaseException | None] = ContextVar("custflow_service_failure", default=None)


@dataclass(frozen=True)
class ReadyTask:
    id: str
    spec: str
    name: str
    lane: str | None
    properties: dict
    data: dict


@dataclass(frozen=True)
class WaitingTimer:
    id: str
    spec: str
    name: str
    due_at: datetime
    interrupting: bool
    attached_to: str | None


class Engine:
    """Runs diagrams parsed by ``parse_diagram``. One engine can serve many workflows and threads."""

    def __init__(
        self,
        *,
        service_caller,
        helpers=None,
        max_steps: int = 100_000,
        max_seconds: float = 2.0,
        pool: PoolLimits | None = None,
    ):
        """``pool``: limits of the sandbox worker pool every script runs in (defaults when None)."""
        def call_service(operation, params, data):
            try:
                return service_caller(operation, params, data)
            except BaseException as exc:
                _service_failure.set(exc)  # recognised later and re-raised unchanged
                raise

        self._environment = SandboxEnvironment(
            service_caller=call_service, helpers=helpers, max_steps=max_steps, max_seconds=max_seconds, pool=pool
        )
        self._script_engine = SandboxScriptEngine(self._environment)

    def start(self, spec: dict, data: dict) -> Workflow:
        """A new instance with ``data`` as its initial data; engine steps run until it waits."""
        _check_input(data, "the start data")
        process, subprocesses = SPECS.get(spec)
        bpmn = BpmnWorkflow(process, subprocesses, script_engine=self._script_engine)
        bpmn.task_tree.data.update(copy.deepcopy(data))
        workflow = Workflow(bpmn)
        workflow._step(lambda: None)
        return workflow

    def restore(self, spec: dict, state: bytes) -> Workflow:
        """The instance saved by ``Workflow.dump`` (the sandboxed script engine is re-installed)."""
        process, subprocesses = SPECS.get(spec)
        bpmn = load_state(process, subprocesses, state)
        bpmn.script_engine = self._script_engine
        return Workflow(bpmn)


    def migrate(self, old_spec: dict, new_spec: dict, state: bytes, now: datetime) -> tuple[Workflow, dict]:
        """Move a saved instance onto another version of its diagram (the spec is swapped, the
        instance's tasks are kept by BPMN id). Raises ``MigrationIncompatible`` when a task that
        is not finished has no element of the same id and type in the target, or the instance
        runs subprocesses. Returns the migrated workflow (engine steps run) and a report:
        ``{"live": [...], "changed": [...], "timers": {spec: "kept" | "restarted"}}``.

        Waiting timers whose expression is unchanged keep their due time; a changed
        expression counts afresh from ``now``."""
        workflow = self.restore(old_spec, state)
        bpmn = workflow._bpmn
        new_process, new_subprocesses = SPECS.get(new_spec)
        if bpmn.subprocesses or bpmn.subprocess_specs or new_subprocesses:
            raise MigrationIncompatible(["(subprocesses and call activities cannot be migrated yet)"])
        live_mask = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
        live = [t for t in bpmn.get_tasks(state=live_mask)]
        missing = sorted(
            {
                _bpmn_id(t) or t.task_spec.name
                for t in live
                if t.task_spec.name not in new_process.task_specs
                or type(new_process.task_specs[t.task_spec.name]) is not type(t.task_spec)
            }
        )
        if missing:
            raise MigrationIncompatible(missing)
        spec_diff = SpecDiff(REGISTRY, bpmn.spec, new_process)
        changed_specs = {ts.name for ts in spec_diff.changed}
        timers_before = {
            t.task_spec.name: (t.internal_data.get("event_value"), t.task_spec.event_definition.expression)
            for t in bpmn.event_manager.tasks.values()
            if _is_timer(t) and t.state == TaskState.WAITING
        }
        report = {
            "live": sorted({_bpmn_id(t) for t in live if _bpmn_id(t)}),
            "changed": sorted({_bpmn_id(t) for t in live if _bpmn_id(t) and t.task_spec.name in changed_specs}),
            "timers": {},
        }
        with clock.frozen(clock.as_utc(now)):
            try:
                migrate_workflow(WorkflowDiff(bpmn, spec_diff), bpmn, new_process)
            except Exception as exc:
                raise _engine_error(exc) from exc
            _splice_out_missing(bpmn, new_process)
            for task in bpmn.event_manager.tasks.values():
                if not _is_timer(task) or task.state != TaskState.WAITING:
                    continue
                before = timers_before.get(task.task_spec.name)
                if before and before[0] and before[1] == task.task_spec.event_definition.expression:
                    task.internal_data["event_value"] = before[0]
                    report["timers"][task.task_spec.name] = "kept"
                else:
                    report["timers"][task.task_spec.name] = "restarted"
            workflow._step(lambda: None)
        return workflow, report

    def check_timer(self, expression: str, kind: str) -> tuple[str, str, str] | None:
        """Evaluate a timer expression with no case data, as the engine would when the timer
        starts: None when it gives a valid value of its kind ("duration", "date", "cycle"),
        else (severity, reason, detail). A name the case data would supply is only a warning.
        reason: "needs_data", "failed" (the expression raised), "not_text", "invalid_value";
        detail is technical (English) and meant for the log, not for the owner."""
        try:
            value = self._environment.evaluate(expression, {})
        except EngineError as exc:
            if "is not defined" in exc.message:
                return "warning", "needs_data", exc.message
            return "error", "failed", exc.message
        if not isinstance(value, str):
            return "error", "not_text", type(value).__name__
        try:
            if kind == "date":
                TimerEventDefinition.get_datetime(value)
            elif kind == "cycle":
                TimerEventDefinition.parse_iso_recurring_interval(value)
            else:
                TimerEventDefinition.parse_iso_duration(value)
        except Exception as exc:
            return "error", "invalid_value", f"{value!r} is not a valid timer {kind}: {type(exc).__name__}: {exc}"
        return None


class Workflow:
    """One running instance. Call ``dump()`` after every action and store the bytes."""

    def __init__(self, bpmn: BpmnWorkflow):
        self._bpmn = bpmn
        self._failed: str | None = None

    # -- actions ---------------------------------------------------------------------------------
    def complete_user_task(self, task_id: str, data: dict) -> None:
        """Merge ``data`` (top-level keys replace) into the ready user task, complete it, run steps."""
        self._usable()
        _check_input(data, "the task data")
        task = self._find(task_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise EngineError(f"task {task_id} is not a ready user task", element=_bpmn_id(task))

        def action():
            task.data.update(copy.deepcopy(data))
            task.run()

        self._step(action)

    def fire_due_timers(self, now: datetime) -> list[str]:
        """Fire the timers due at ``now`` (aware), run steps; return the ids of the timers that fired."""
        self._usable()
        try:
            now = clock.as_utc(now)
        except (ValueError, AttributeError) as exc:
            raise EngineError(str(exc)) from None
        waiting = [t for t in self._bpmn.event_manager.tasks.values() if _is_timer(t)]
        with clock.frozen(now):
            self._step(self._bpmn.refresh_timers)
        fired = [t for t in waiting if t.state in (TaskState.READY, TaskState.COMPLETED)]
        return [str(t.id) for t in sorted(fired, key=lambda t: _due_at(t) or now)]

    def put_task_data(self, step: str, data: dict) -> int:
        """Merge ``data`` into every ready user task of ``step`` (e.g. a return comment); returns
        how many tasks received it."""
        self._usable()
        _check_input(data, "the task data")
        tasks = [t for t in self._bpmn.get_tasks(state=TaskState.READY, manual=True) if _bpmn_id(t) == step]
        for task in tasks:
            task.data.update(copy.deepcopy(data))
        return len(tasks)

    def restart_timers(self, now: datetime, specs: set[str] | None = None) -> None:
        """Give every waiting duration timer (or those whose BPMN id is in ``specs``) a fresh
        start at ``now``: used when a case returns to an earlier step, whose deadline and
        reminder then count from the return, or when a domain clock the expression reads moved."""
        self._usable()
        now = clock.as_utc(now)
        with clock.frozen(now):
            for task in list(self._bpmn.event_manager.tasks.values()):
                if not _is_timer(task) or not isinstance(task.task_spec.event_definition, DurationTimerEventDefinition):
                    continue
                if specs is not None and _bpmn_id(task) not in specs:
                    continue
                task.internal_data.pop("event_value", None)
                task.internal_data.pop("event_fired", None)
                try:
                    task.task_spec.event_definition.has_fired(task)
                except Exception as exc:  # the timer expression failed: report it like a step would
                    raise _engine_error(exc) from exc

    def _step(self, action) -> None:
        token = _service_failure.set(None)
        ran = 0

        def count(task) -> None:
            nonlocal ran
            ran += 1
            if ran > MAX_TASKS_PER_STEP:
                raise EngineError(
                    f"the process ran more than {MAX_TASKS_PER_STEP} tasks in one step without waiting for a "
                    "person or a timer (an endless loop?)",
                    element=_bpmn_id(task),
                )

        try:
            action()
            self._bpmn.do_engine_steps(will_complete_task=count)
        except BaseException as exc:
            self._failed = str(exc) or type(exc).__name__
            if exc is _service_failure.get() or isinstance(exc, (EngineError, KeyboardInterrupt, SystemExit)):
                raise
            if isinstance(exc, SandboxViolation):
                raise EngineError(exc.message) from None
            raise _engine_error(exc) from exc
        finally:
            _service_failure.reset(token)
        compact(self._bpmn)

    # -- queries ---------------------------------------------------------------------------------
    def ready_user_tasks(self) -> list[ReadyTask]:
        tasks = self._bpmn.get_tasks(state=TaskState.READY, manual=True)
        return [
            ReadyTask(
                id=str(t.id),
                spec=_bpmn_id(t),
                name=t.task_spec.bpmn_name or _bpmn_id(t),
                lane=t.task_spec.lane,
                properties=dict((getattr(t.task_spec, "extensions", None) or {}).get("properties", {})),
                data=copy.deepcopy(t.data),
            )
            for t in tasks
        ]

    def waiting_timers(self) -> list[WaitingTimer]:
        timers = []
        for task in self._bpmn.event_manager.tasks.values():
            due = _due_at(task) if _is_timer(task) else None
            if due is None:
                continue
            spec = task.task_spec
            timers.append(
                WaitingTimer(
                    id=str(task.id),
                    spec=spec.bpmn_id,
                    name=spec.bpmn_name or spec.bpmn_id,
                    due_at=due,
                    interrupting=bool(isinstance(spec, BoundaryEvent) and spec.cancel_activity),
                    attached_to=attached_to(spec),
                )
            )
        return sorted(timers, key=lambda t: (t.due_at, t.spec))

    def is_completed(self) -> bool:
        return self._bpmn.is_completed()

    def stalled_at(self) -> list[str]:
        """The elements an instance waits at when nothing can ever move it: not completed, no ready
        or running task of any kind, and no event (timer, message, signal) it could catch. Empty
        while it can still progress. A parallel join waiting for a branch that will never come is
        the usual cause; the caller records it as an incident on those elements."""
        bpmn = self._bpmn
        if bpmn.is_completed() or bpmn.event_manager.tasks:
            return []
        if bpmn.get_tasks(state=TaskState.READY | TaskState.STARTED):
            return []
        waiting = {_bpmn_id(t) for t in bpmn.get_tasks(state=TaskState.WAITING)}
        return sorted(w for w in waiting if w) or [bpmn.spec.name]

    @property
    def data(self) -> dict:
        """The process data: the final data once completed, else the data of the live tasks."""
        if self._bpmn.is_completed():
            return copy.deepcopy(self._bpmn.data)
        live = [
            t
            for t in self._bpmn.tasks.values()
            if t.state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED)
        ]
        merged: dict = {}
        for task in sorted(live, key=lambda t: t.last_state_change):
            merged.update(task.data)
        return copy.deepcopy(merged)

    def end_event(self) -> str | None:
        """BPMN id of the end event that completed the process (None while it runs)."""
        if not self._bpmn.is_completed():
            return None
        for task in self._bpmn.tasks.values():
            if (
                isinstance(task.task_spec, _EndJoin)
                and task.state == TaskState.COMPLETED
                and task.parent is not None
            ):
                return _bpmn_id(task.parent)
        return None

    def dump(self) -> bytes:
        """Compact state to store: the workflow without its spec, JSON then zlib."""
        self._usable()
        return dump_state(self._bpmn)

    # -- helpers ---------------------------------------------------------------------------------
    def _usable(self) -> None:
        if self._failed is not None:
            raise EngineError(
                f"this workflow failed in an earlier step ({self._failed}); restore it from its saved state"
            )

    def _find(self, task_id: str):
        try:
            return self._bpmn.get_task_from_id(UUID(str(task_id)))
        except (ValueError, SpiffWorkflowException):
            raise EngineError(f"no task {task_id} in this workflow") from None


def _splice_out_missing(bpmn: BpmnWorkflow, process) -> None:
    """After a migration, finished tasks whose element the target does not have (history kept by
    compaction) leave the tree: their children hang under their parent, so the saved state names
    only the target's specs."""
    for task in list(bpmn.tasks.values()):
        if task.task_spec.name in process.task_specs or task.parent is None:
            continue
        parent = task.parent
        at = parent._children.index(task.id)
        parent._children[at : at + 1] = task._children
        for child_id in task._children:
            bpmn.tasks[child_id]._parent = parent.id
        del bpmn.tasks[task.id]
        bpmn.event_manager.tasks.pop(task.id, None)
        if bpmn.last_task is task:
            bpmn.last_task = None


def _check_input(data, what: str) -> None:
    if not isinstance(data, dict):
        raise EngineError(f"{what} must be a dict, not {type(data).__name__}")
    try:
        check_json(data, what)
    except SandboxViolation as exc:
        raise EngineError(exc.message) from None


def _bpmn_id(task) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def _is_timer(task) -> bool:
    definition = getattr(task.task_spec, "event_definition", None)
    return task.state == TaskState.WAITING and isinstance(definition, TimerEventDefinition)


def _due_at(task) -> datetime | None:
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    definition = task.task_spec.event_definition
    try:
        if isinstance(definition, CycleTimerEventDefinition):
            if value.get("cycles") == 0:
                return None
            due = TimerEventDefinition.get_datetime(value["next"])
        elif isinstance(definition, DurationTimerEventDefinition):
            due = TimerEventDefinition.get_datetime(value)
        else:
            due = TimerEventDefinition.parse_time_or_duration(value)
    except Exception:
        return None
    if not isinstance(due, datetime):
        return None
    due = due.astimezone(UTC)
    return datetime(due.year, due.month, due.day, due.hour, due.minute, due.second, due.microsecond, UTC)


def _engine_error(exc: BaseException) -> EngineError:
    if isinstance(exc, SpiffWorkflowException):
        task = getattr(exc, "task", None)
        spec = getattr(task, "task_spec", None) or getattr(exc, "task_spec", None)
        element = getattr(spec, "bpmn_id", None) if spec is not None else None
        message = exc.args[0] if exc.args else str(exc)
        return EngineError(str(message), element=element)
    return EngineError(f"engine failure: {type(exc).__name__}: {exc}")

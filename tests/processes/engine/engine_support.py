"""Test support for the engine adapter: fixture paths, fake services, and two drivers with the same
API — one over our ``Engine`` and one over raw SpiffWorkflow — that save and restore after every step."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from processes.engine import Engine, clock, parse_diagram
from processes.engine.runtime import _due_at, _is_timer

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "bpmn"
MODELS = FIXTURES / "models"
HOSTILE = FIXTURES / "hostile"
# The engine's tests run a frozen copy of the first shipped opening diagram: the engine's
# behaviour is pinned to a known model while the shipped diagram evolves (its own tests run
# through the whole stack in tests/customers and tests/tasks).
SHIPPED = MODELS / "account_opening_v1.bpmn"
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def at(hours: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, minutes=minutes)


def stub_helpers() -> dict:
    return {"deadline": lambda name, default: default, "reminder_after": lambda name, default: "PT36H"}


class FakeServices:
    """A service_caller that records every call and answers from a table."""

    def __init__(self, responses: dict | None = None):
        self.calls: list[tuple[str, dict, dict]] = []
        self.responses = dict(responses or {})

    def __call__(self, operation: str, params: dict, data: dict):
        self.calls.append((operation, params, data))
        answer = self.responses.get(operation)
        return answer(params, data) if callable(answer) else answer

    @property
    def operations(self) -> list[str]:
        return [op for op, _, _ in self.calls]


def _canon(data: dict) -> str:
    return json.dumps(data, sort_keys=True)


class OursDriver:
    """Drives ``Engine``; every step restores the workflow from bytes and dumps it again."""

    def __init__(self, path: Path, services=None, helpers=None):
        self.diagram = parse_diagram(path.read_bytes(), path.name)
        self.services = services or FakeServices()
        self.engine = Engine(service_caller=self.services, helpers=helpers or stub_helpers())
        self.state: bytes | None = None
        self.sizes: list[int] = []

    def _save(self, workflow) -> None:
        self.state = workflow.dump()
        self.sizes.append(len(self.state))

    def load(self):
        return self.engine.restore(self.diagram.spec, self.state)

    def start(self, data: dict, when: datetime = T0) -> None:
        with clock.frozen(when):
            self._save(self.engine.start(self.diagram.spec, data))

    def complete(self, spec: str, data: dict, when: datetime = T0, item=None) -> None:
        workflow = self.load()
        task = next(
            t
            for t in workflow.ready_user_tasks()
            if t.spec == spec and (item is None or t.data.get("item") == item)
        )
        with clock.frozen(when):
            workflow.complete_user_task(task.id, data)
        self._save(workflow)

    def fire(self, when: datetime) -> list[str]:
        workflow = self.load()
        names = {t.id: t.spec for t in workflow.waiting_timers()}
        fired = workflow.fire_due_timers(when)
        self._save(workflow)
        return sorted(names[i] for i in fired)

    def snapshot(self) -> dict:
        workflow = self.load()
        completed = workflow.is_completed()
        return {
            "ready": sorted((t.spec, _canon(t.data)) for t in workflow.ready_user_tasks()),
            "timers": sorted((t.spec, t.due_at.isoformat()) for t in workflow.waiting_timers()),
            "completed": completed,
            "end": workflow.end_event(),
            "data": _canon(workflow.data) if completed else None,
        }


class RawDriver:
    """Drives plain SpiffWorkflow (default SPIFF_CONFIG serializer, spec included, no compaction)."""

    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def __init__(self, path: Path, helpers=None):
        parser = SpiffBpmnParser(validator=VALIDATOR)
        parser.add_bpmn_file(str(path))
        key = parser.get_process_ids()[0]
        self.spec = parser.get_spec(key)
        self.subprocess_specs = parser.get_subprocess_specs(key)
        self.script_engine = PythonScriptEngine(environment=TaskDataEnvironment(helpers or stub_helpers()))
        self.state: str | None = None

    def load(self) -> BpmnWorkflow:
        workflow = self.serializer.deserialize_json(self.state)
        workflow.script_engine = self.script_engine
        return workflow

    def _save(self, workflow) -> None:
        self.state = self.serializer.serialize_json(workflow)

    def start(self, data: dict, when: datetime = T0) -> None:
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine)
        workflow.task_tree.data.update(data)
        with clock.frozen(when):
            workflow.do_engine_steps()
        self._save(workflow)

    def _ready(self, workflow):
        return workflow.get_tasks(state=TaskState.READY, manual=True)

    def complete(self, spec: str, data: dict, when: datetime = T0, item=None) -> None:
        workflow = self.load()
        task = next(
            t
            for t in self._ready(workflow)
            if t.task_spec.bpmn_id == spec and (item is None or t.data.get("item") == item)
        )
        with clock.frozen(when):
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()
        self._save(workflow)

    def fire(self, when: datetime) -> list[str]:
        workflow = self.load()
        waiting = [t for t in workflow.event_manager.tasks.values() if _is_timer(t)]
        with clock.frozen(when):
            workflow.refresh_timers()
            workflow.do_engine_steps()
        self._save(workflow)
        return sorted(
            t.task_spec.bpmn_id for t in waiting if t.state in (TaskState.READY, TaskState.COMPLETED)
        )

    def snapshot(self) -> dict:
        workflow = self.load()
        completed = workflow.is_completed()
        end = None
        if completed:
            finals = [
                t
                for t in workflow.get_tasks(state=TaskState.COMPLETED)
                if t.workflow is workflow and isinstance(t.task_spec, _EndJoin)
            ]
            end = finals[0].parent.task_spec.bpmn_id if finals else None
        timers = [t for t in workflow.event_manager.tasks.values() if _is_timer(t)]
        return {
            "ready": sorted((t.task_spec.bpmn_id, _canon(t.data)) for t in self._ready(workflow)),
            "timers": sorted((t.task_spec.bpmn_id, _due_at(t).isoformat()) for t in timers),
            "completed": completed,
            "end": end,
            "data": _canon(workflow.data) if completed else None,
        }


def run_scenario(driver, start: dict, steps: list[tuple]) -> list[dict]:
    """Run ``steps`` — ("complete", spec, data[, when[, item]]) or ("fire", when) — returning a trace."""
    driver.start(start)
    trace = [driver.snapshot()]
    for step in steps:
        if step[0] == "complete":
            _, spec, data, *rest = step
            driver.complete(spec, data, *rest)
            trace.append(driver.snapshot())
        else:
            fired = driver.fire(step[1])
            trace.append({**driver.snapshot(), "fired": fired})
    return trace

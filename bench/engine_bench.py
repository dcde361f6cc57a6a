#!/usr/bin/env python
"""Engine benchmark: raw SpiffWorkflow vs the custflow engine adapter.

Drives the return/resubmit loop of the shipped diagram (bpmn/account_opening/
individual_account_opening.bpmn): review -> "return" -> fix_submission -> resubmit -> review ...
One step = restore from stored bytes + complete the ready user task (engine steps run) + save.

    python bench/engine_bench.py           # small: P2 at 200 rounds, P9 1,000 rounds
    python bench/engine_bench.py --full    # full:  P2 at 1,000 rounds, P9 10,000 rounds

Prints figures only (no assertions):
  P1  raw step at a ~40-task history (baseline for the integrator)
  P2  per-step time at 10 rounds and at 1,000 (small: 200); goal ours(far)/ours(10) <= 1.2
  P8  stored bytes per waiting instance; goal <= 2 KB (raw bytes printed too)
  P9  rounds survived (10,000 full / 1,000 small), with timing
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment  # noqa: E402
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from processes.engine import Engine, parse_diagram  # noqa: E402

DIAGRAM = ROOT / "bpmn" / "account_opening" / "individual_account_opening.bpmn"
# An officer's own opening (no officer step): the loop is review ↔ the submitter's fix.
START = {"case_id": 1, "info_level": "advanced", "applicant": "张三", "blacklist_hit": False, "officer_step": False}
HELPERS = {"deadline": lambda name, default: default, "reminder_after": lambda name, default: "PT36H"}
SAMPLE_STEPS = 60  # samples per measurement, each from the same stored state


def answer(step: int) -> dict:
    return {"decision": "return", "comment": f"请补充材料 {step}"} if step % 2 == 0 else {"fixed": step}


class Ours:
    name = "ours"

    def __init__(self):
        self.diagram = parse_diagram(DIAGRAM.read_bytes())
        self.engine = Engine(service_caller=lambda operation, params, data: None, helpers=HELPERS)
        self.state = self.engine.start(self.diagram.spec, START).dump()
        self.steps = 0

    def step(self) -> None:
        workflow = self.engine.restore(self.diagram.spec, self.state)
        [task] = workflow.ready_user_tasks()
        workflow.complete_user_task(task.id, answer(self.steps))
        self.state = workflow.dump()
        self.steps += 1

    def tasks(self) -> int:
        return len(self.engine.restore(self.diagram.spec, self.state)._bpmn.tasks)

    def stored_bytes(self) -> int:
        return len(self.state)


class _RawEnvironment(TaskDataEnvironment):
    def call_service(self, context, **kwargs):
        return "{}"


class Raw:
    """Plain SpiffWorkflow: default SPIFF_CONFIG serializer, spec included, no compaction."""

    name = "raw"

    def __init__(self):
        parser = SpiffBpmnParser(validator=VALIDATOR)
        parser.add_bpmn_file(str(DIAGRAM))
        spec = parser.get_spec("individual_account_opening")
        subprocess_specs = parser.get_subprocess_specs("individual_account_opening")
        self.script_engine = PythonScriptEngine(environment=_RawEnvironment(HELPERS))
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine)
        workflow.task_tree.data.update(START)
        workflow.do_engine_steps()
        self.state = self.serializer.serialize_json(workflow)
        self.steps = 0

    def _load(self):
        workflow = self.serializer.deserialize_json(self.state)
        workflow.script_engine = self.script_engine
        return workflow

    def step(self) -> None:
        workflow = self._load()
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if len(ready) != 1:
            raise RuntimeError(
                f"{len(ready)} ready user tasks (expected 1): the task search lost the live task"
            )
        ready[0].data.update(answer(self.steps))
        ready[0].run()
        workflow.do_engine_steps()
        self.state = self.serializer.serialize_json(workflow)
        self.steps += 1

    def tasks(self) -> int:
        return len(json.loads(self.state)["tasks"])

    def stored_bytes(self) -> int:
        return len(self.state.encode())


def advance(driver, rounds: int) -> None:
    while driver.steps < 2 * rounds:
        driver.step()


def per_step_ms(driver) -> tuple[float, float]:
    """Best and median milliseconds of one step taken from the driver's current state.

    Every sample starts from the same stored state, so the history does not grow while it is
    measured. The best sample is the least disturbed by other load on the machine.
    """
    saved, steps = driver.state, driver.steps
    gc.collect()  # do not bill one driver for the other's garbage
    samples = []
    for _ in range(SAMPLE_STEPS):
        driver.state, driver.steps = saved, steps
        started = time.perf_counter()
        driver.step()
        samples.append(time.perf_counter() - started)
    driver.state, driver.steps = saved, steps
    return min(samples) * 1000, statistics.median(samples) * 1000


def measure(driver_class, rounds: list[int]) -> dict[int, tuple[tuple[float, float], int] | str]:
    """Step timing and tree size at each round count; a string where the driver broke down."""
    driver, results = driver_class(), {}
    for target in rounds:
        try:
            advance(driver, target)
            results[target] = (per_step_ms(driver), driver.tasks())
        except Exception as exc:  # raw SpiffWorkflow breaks on long loops: report it, keep going
            results[target] = f"failed at round {driver.steps // 2}: {type(exc).__name__}: {str(exc)[:80]}"
            break
    return results


def p1_baseline() -> None:
    raw = Raw()
    while raw.tasks() < 40 or raw.steps % 2:  # stop where the review is waiting
        raw.step()
    best, median = per_step_ms(raw)
    print(
        f"P1  raw review step at a {raw.tasks()}-task history: best {best:.2f} ms, median {median:.2f} ms "
        "(restore + complete + save)"
    )


def p2(far: int) -> None:
    print(f"P2  review step time (best / median of {SAMPLE_STEPS} samples), return/resubmit loop:")
    figures = {}
    for driver_class in (Raw, Ours):
        results = measure(driver_class, [10, 100, far])
        figures[driver_class.name] = results
        for rounds in (10, 100, far):
            value = results.get(rounds, "not reached")
            if not isinstance(value, str):
                (best, median), size = value
                value = f"{best:7.2f} / {median:7.2f} ms   ({size} tasks in tree)"
            print(f"      {driver_class.name:4} at {rounds:>5} rounds: {value}")
    for name, goal in (("ours", "  (P2 goal <= 1.2)"), ("raw", "")):
        results = figures[name]
        if all(isinstance(results.get(r), tuple) for r in (10, far)):
            best = results[far][0][0] / results[10][0][0]
            median = results[far][0][1] / results[10][0][1]
            print(
                f"      ratio {name}({far})/{name}(10) = {best:.2f} on best samples, {median:.2f} on medians{goal}"
            )


def p8() -> None:
    ours, raw = Ours(), Raw()
    print("P8  stored bytes per instance waiting for review:")
    print(
        f"      ours (state, zlib, spec stored once per version): {ours.stored_bytes():>7} B  (goal <= 2048)"
    )
    print(f"      raw  (serialize_json, spec included):            {raw.stored_bytes():>7} B")
    advance(ours, 100)
    advance(raw, 100)
    print(f"      after 100 rounds: ours {ours.stored_bytes()} B, raw {raw.stored_bytes()} B")


def p9(rounds: int) -> None:
    ours = Ours()
    started = time.perf_counter()
    advance(ours, rounds)
    elapsed = time.perf_counter() - started
    workflow = ours.engine.restore(ours.diagram.spec, ours.state)
    alive = [t.spec for t in workflow.ready_user_tasks()] == ["review"] and not workflow.is_completed()
    print(
        f"P9  ours survived {rounds} rounds ({2 * rounds} steps) in {elapsed:.1f} s "
        f"({elapsed / (2 * rounds) * 1000:.2f} ms/step); still waiting for review: {alive}; "
        f"state {ours.stored_bytes()} B"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="P2 at 1,000 rounds and P9 10,000 rounds")
    args = parser.parse_args()
    far, survive = (1000, 10_000) if args.full else (200, 1000)
    print(f"engine bench ({'full' if args.full else 'small'} mode), diagram {DIAGRAM.relative_to(ROOT)}")
    p1_baseline()
    p2(far)
    p8()
    p9(survive)


if __name__ == "__main__":
    main()

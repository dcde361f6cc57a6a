"""Differential test: random diagrams run in raw SpiffWorkflow and in our engine (compaction,
save and restore after every step) must complete the same tasks in the same order with the
same data, and ours must never stall where raw goes on.

CI runs ``CUSTFLOW_DIFF_SEEDS`` diagrams (default 60); ``CUSTFLOW_SLOW=1`` runs ten times as many.
"""

from __future__ import annotations

import os
import random
from datetime import timedelta

import pytest

from tests.processes.engine.diagram_generator import Generator
from tests.processes.engine.engine_support import T0, OursDriver, RawDriver

SEEDS = int(os.environ.get("CUSTFLOW_DIFF_SEEDS", "60")) * (
    10 if os.environ.get("CUSTFLOW_SLOW") == "1" else 1
)
BUDGET = 30  # steps with random flags; after that every flag is False, so every loop exits
LIMIT = 200  # steps after which a run that has not ended counts as stuck


def _run(driver, flags: list[str], seed: int) -> list[tuple]:
    """Drive one engine: always the first ready task (sorted), or the earliest timer once the
    flags say so. Returns the trace of (action, snapshot) pairs."""
    rng = random.Random(seed)
    now = T0
    driver.start({"items": ["x", "y"], **{f"c_{g}": rng.random() < 0.5 for g in flags}}, now)
    trace = []
    for step in range(LIMIT):
        snap = driver.snapshot()
        trace.append(snap)
        if snap["completed"]:
            return trace
        now += timedelta(hours=1)
        values = {f"c_{g}": step < BUDGET and rng.random() < 0.5 for g in flags}
        fire = snap["timers"] and (not snap["ready"] or (step < BUDGET and rng.random() < 0.2))
        if fire:
            due = min(t for _, t in snap["timers"])
            now = max(now, _parse(due) + timedelta(minutes=1))
            trace.append(("fire", driver.fire(now)))
            continue
        if not snap["ready"]:
            trace.append("stuck")
            return trace
        spec, data = snap["ready"][0]
        item = _item(data)
        answer = {"result": f"{spec}-{item}"} if item is not None else {"r": f"{spec}-{step}"}
        driver.complete(spec, {**values, **answer}, now, item)
        trace.append(("complete", spec, item))
    trace.append("no end")
    return trace


def _parse(iso: str):
    from datetime import datetime

    return datetime.fromisoformat(iso)


def _item(canon_data: str):
    import json

    return json.loads(canon_data).get("item")


@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_diagram_runs_as_in_raw_spiffworkflow(seed, tmp_path):
    xml, diagram = Generator(seed).diagram()
    path = tmp_path / f"gen_{seed}.bpmn"
    path.write_bytes(xml)

    raw = _run(RawDriver(path), diagram.gateways, seed)
    ours = _run(OursDriver(path), diagram.gateways, seed)

    assert raw[-1] not in ("stuck", "no end"), f"raw SpiffWorkflow itself does not end: seed {seed}"
    assert ours == raw, f"seed {seed} ({sorted(diagram.shapes)}) diverges from raw:\n{xml.decode()}"


def test_the_generator_covers_every_shape():
    shapes = set()
    for seed in range(SEEDS):
        shapes |= Generator(seed).diagram()[1].shapes
    assert shapes >= {
        "exclusive",
        "parallel",
        "loop",
        "loop_through_join",
        "boundary_timer",
        "sub_process",
        "multi_instance",
    }

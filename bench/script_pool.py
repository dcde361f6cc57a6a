#!/usr/bin/env python
"""Cost of running diagram code in the sandbox worker pool (processes/engine/pool.py).

    python bench/script_pool.py            # 2,000 calls per figure
    python bench/script_pool.py --n 10000

Prints figures only (no assertions):
  G1  a gateway condition evaluated in-process (ScriptRunner: compile cache, guards; what the
      engine did before the pool) vs through the pool, small task data
  G2  the same with large task data the condition does not name (only named variables travel)
  G3  a 5-line script task through the pool
  G4  a timer expression calling deadline() (one extra round trip: the helper runs in the parent)
  W1  pool start-up: first answer from a new pool (workers spawned, engine imported)
  W2  first answer after a worker crashed (the replacement is spawned)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from processes.engine import PoolLimits, ScriptError  # noqa: E402
from processes.engine.sandbox import ScriptRunner  # noqa: E402
from processes.engine.scripting import SandboxEnvironment  # noqa: E402

CONDITION = "decision == 'approve' and amount < 10000"
SCRIPT = "total = sum(amounts)\nlabel = f'{len(amounts)} items'\nok = total > 0\nstatus = 'ok' if ok else 'empty'\nn = len(label)"
SMALL = {"decision": "approve", "amount": 500, **{f"field_{i}": f"value {i}" for i in range(30)}}
LARGE = {**SMALL, "history": [{"step": i, "by": f"user{i}", "note": "x" * 50} for i in range(5000)]}
CRASH = (
    "t = ()\nfor i in range(12000):\n" + ("    t = " + "(" * 12 + "t" + ",)" * 12 + "\n") * 4 + "x = len({t})"
)


def per_call_us(fn, n: int) -> tuple[float, float]:
    for _ in range(50):
        fn()
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n // 5):
            fn()
        samples.append((time.perf_counter() - started) / (n // 5) * 1e6)
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n

    started = time.perf_counter()
    limits = PoolLimits(workers=2, max_tasks=10**9)
    env = SandboxEnvironment(
        service_caller=None, helpers={"deadline": lambda name, default=None: default}, pool=limits
    )
    env.evaluate("1", {})
    print(f"W1 pool start-up to first answer: {(time.perf_counter() - started) * 1000:.0f} ms")

    local = ScriptRunner(names={}, max_steps=100_000, max_seconds=2.0)
    for label, data in (("G1 small data", SMALL), ("G2 large data", LARGE)):
        inproc = per_call_us(lambda data=data: local.evaluate(CONDITION, data), n)
        pooled = per_call_us(lambda data=data: env.evaluate(CONDITION, data), n)
        print(
            f"{label}: in-process {inproc[0]:.0f} us, pool {pooled[0]:.0f} us "
            f"(min {inproc[1]:.0f} / {pooled[1]:.0f}), overhead {pooled[0] - inproc[0]:.0f} us per call"
        )
    script = per_call_us(lambda: env.execute(SCRIPT, {"amounts": list(range(20))}), n)
    print(f"G3 script task through the pool: {script[0]:.0f} us")
    timer = per_call_us(lambda: env.evaluate("deadline('review', 'PT48H')", {}), n)
    print(f"G4 timer expression with deadline(): {timer[0]:.0f} us")

    crash_env = SandboxEnvironment(
        service_caller=None, pool=PoolLimits(workers=1, timeout=60, cpu_seconds=60), max_seconds=60
    )
    crash_env.evaluate("1", {})
    try:
        crash_env.execute(CRASH, {})
    except ScriptError as exc:
        print(f"   crash: {exc.message}")
    started = time.perf_counter()
    crash_env.evaluate("1", {})
    print(f"W2 first answer after a worker crash: {(time.perf_counter() - started) * 1000:.0f} ms")


if __name__ == "__main__":  # the pool spawns workers: never run this module's body on import
    main()

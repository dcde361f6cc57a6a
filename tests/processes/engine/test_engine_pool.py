"""Diagram code runs in the sandbox worker pool, never in the caller: a script that crashes, hogs
memory or CPU, or recurses deeply fails with a clear ScriptError, the calling process lives on, and
the next diagram runs. The hostile scripts are generated here; each one is valid under the compile
rules, so only the worker's limits can stop it."""

from __future__ import annotations

import os

import pytest

from processes.engine import Engine, PoolLimits, ScriptError, clock, parse_diagram
from processes.engine.pool import pool_for
from processes.engine.sandbox import compile_problems
from processes.engine.scripting import SandboxEnvironment
from tests.fixtures.diagrams import script_diagram
from tests.processes.engine.engine_support import MODELS, T0, FakeServices, OursDriver

# ~580,000 levels deep (48 per loop step, within the step budget and the 12-level display limit):
# hashing it overflows the C stack.
_LEVELS = "    t = " + "(" * 12 + "t" + ",)" * 12 + "\n"
DEEP_HASH = "t = ()\nfor i in range(12000):\n" + _LEVELS * 4 + "x = len({t})"
# 20 dicts of 1M entries (~1.5 GB): dict() is not size-guarded.
MEMORY_HOG = "x = len([dict(zip(range(999999), range(999999))) for _ in range(20)])"
# A few hundred C-level max() calls over a 1M range: ~10 s that no step counter sees.
CPU_HOG = "x = [max(r, key=int) for r in [range(999999)] for _ in range(200)][0]"
DEEP_RECURSION = "def f(n):\n    return f(n + 1)\nx = f(0)"

# Building the deep tuple takes ~0.7 s on a loaded machine: limits that leave the crash, not the
# clock, to end the call.
ROOMY = {"max_seconds": 60.0, "pool": PoolLimits(timeout=60.0, cpu_seconds=60.0)}
POOL_FAILURES = ("killed", "crashed", "CPU-time limit", "MemoryError", "memory limit")


@pytest.fixture
def normal_diagram_still_runs():
    yield
    driver = OursDriver(MODELS / "exclusive_loop.bpmn")
    driver.start({})
    driver.complete("work", {"again": False})
    workflow = driver.load()
    assert workflow.is_completed() and workflow.data["path"] == ["init", "count"]


def start(script: str, **engine_kwargs):
    diagram = parse_diagram(script_diagram(script), "s.bpmn")
    return Engine(service_caller=FakeServices(), **engine_kwargs).start(diagram.spec, {})


def test_a_script_that_segfaults_its_worker_fails_its_own_run(normal_diagram_still_runs):
    with pytest.raises(ScriptError) as caught:
        start(DEEP_HASH, **ROOMY)
    assert caught.value.element == "script"
    assert "crashed its worker process" in caught.value.message


def test_a_memory_hog_is_stopped_by_the_workers_memory_limit(normal_diagram_still_runs):
    with pytest.raises(ScriptError) as caught:
        start(MEMORY_HOG)
    assert any(word in caught.value.message for word in POOL_FAILURES), caught.value.message


def test_a_c_level_cpu_hog_is_killed(normal_diagram_still_runs):
    with pytest.raises(ScriptError) as caught:
        start(CPU_HOG, pool=PoolLimits(timeout=1.0, cpu_seconds=1.0))
    assert "killed" in caught.value.message or "CPU-time limit" in caught.value.message, caught.value.message


def test_deep_recursion_stops_at_the_workers_recursion_limit(normal_diagram_still_runs):
    with pytest.raises(ScriptError, match="RecursionError"):
        start(DEEP_RECURSION)
    # 600 frames pass under the interpreter's default limit (1,000) but not under the worker's.
    with pytest.raises(ScriptError, match="RecursionError"):
        start(
            "def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nx = f(600)",
            pool=PoolLimits(recursion_limit=400),
        )
    assert start("def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nx = f(300)").data["x"] == 300


def test_memory_that_the_caller_could_afford_is_refused_in_the_worker():
    # ~330 MB: fine for this process, over a 128 MB worker margin.
    with pytest.raises(ScriptError, match="MemoryError|memory limit"):
        start("x = len([list(range(999999)) for _ in range(9)])", pool=PoolLimits(memory_mb=128))


def test_scripts_do_not_run_in_the_calling_process():
    # A helper runs here, on the worker's request: the script itself does not see this process.
    seen: list[int] = []

    def where(tag):
        seen.append(os.getpid())
        return tag

    env = SandboxEnvironment(service_caller=None, helpers={"where": where})
    context = {"a": 1}
    env.execute("b = where('x') + str(a)", context)
    assert context == {"a": 1, "b": "x1"} and seen == [os.getpid()]


def test_helper_errors_reach_the_script_and_helpers_run_once_per_distinct_call():
    calls: list[tuple] = []

    def deadline(name, default=None):
        calls.append((name, default))
        if name == "bad":
            raise ValueError("unknown deadline 'bad'")
        return default

    env = SandboxEnvironment(service_caller=None, helpers={"deadline": deadline})
    context: dict = {}
    env.execute(
        "try:\n    d = deadline('bad')\nexcept ValueError as e:\n    d = 'fallback'\n"
        "e1 = deadline('review', 'PT1H')\ne2 = deadline('review', 'PT1H')",
        context,
    )
    assert context == {"d": "fallback", "e1": "PT1H", "e2": "PT1H"}
    assert calls == [("bad", None), ("review", "PT1H")]
    with pytest.raises(ScriptError, match="accepts only JSON values"):
        env.execute("x = deadline({1, 2})", {})


def test_only_the_named_variables_travel_and_the_rest_are_kept():
    env = SandboxEnvironment(service_caller=None)
    context = {"keep": list(range(1000)), "a": 2, "gone": 1}
    env.execute("a = a * 3\nnew = 'x'\ndel gone", context)
    assert context == {"keep": list(range(1000)), "a": 6, "new": "x"}
    # An expression never changes the data, even when it calls a mutating method.
    items = {"items": [1]}
    assert env.evaluate("items.append(2) or len(items)", items) == 2
    assert items == {"items": [1]}


def test_the_clock_travels_with_the_call():
    env = SandboxEnvironment(service_caller=None)
    with clock.frozen(T0):
        assert env.evaluate("datetime.now().isoformat()", {}) == T0.isoformat()


def test_the_pool_replaces_a_dead_worker_and_keeps_serving():
    limits = PoolLimits(workers=1, timeout=60.0, cpu_seconds=60.0)
    env = SandboxEnvironment(service_caller=None, pool=limits, max_seconds=60.0)
    for _ in range(2):
        with pytest.raises(ScriptError, match="crashed its worker process"):
            env.execute(DEEP_HASH, {})
        assert env.evaluate("a + 1", {"a": 41}) == 42
    assert pool_for(limits) is pool_for(limits)


def nested(levels: int, open_: str = "(", close: str = ",)") -> str:
    text = "t"
    for _ in range(levels):
        text = f"{open_}{text}{close}"
    return text


def test_deeply_nested_displays_are_refused_when_compiled():
    assert compile_problems("t = " + nested(12), "exec") == []
    for open_, close in (("(", ",)"), ("[", "]"), ("{'k': ", "}")):
        problems = compile_problems("t = " + nested(13, open_, close), "exec")
        assert problems and "nested more than 12 levels" in problems[0], problems

"""The script sandbox holds against hostile diagrams (tests/fixtures/bpmn/hostile/) and still runs
ordinary scripts. After every hostile case a normal diagram must run in the same process."""

import threading

import pytest

from processes.engine import DiagramError, Engine, EngineError, ScriptError, clock, parse_diagram
from processes.engine.sandbox import compile_script
from processes.engine.scripting import SandboxEnvironment
from tests.processes.engine.engine_support import HOSTILE, MODELS, T0, FakeServices, OursDriver

# name -> text expected in the problem (refused by parse_diagram at compile time)
REFUSED_AT_COMPILE = {
    "import_os": "imports are not allowed",
    "dunder_import": '"__import__" is an invalid variable name',
    "open_file": '"open" is not available',
    "subclasses_chain": '"__class__" is an invalid attribute name',
    "getattr_builtin": '"getattr" is not available',
    "format_string_escape": 'attribute "format" is not allowed',
    "generator_frame": 'attribute "f_globals" is not allowed',
    "class_definition": "class definitions are not allowed",
    "bare_except": "bare 'except:' is not allowed",
}
# name -> text expected in the ScriptError (stopped while running)
STOPPED_AT_RUN_TIME = {
    "module_attribute_chain": "datetime has no attribute 'sys'",
    "infinite_loop": "stopped after 100000 steps",
    "power_bomb": "integer result too large",
    "string_bomb": "result too large",
    "comprehension_bomb": "range too large",
    "lambda_recursion_bomb": "RecursionError",
    "self_application_bomb": "RecursionError",
    "doubling_bomb": "result too large",
    "swallowed_recursion": "stopped after 100000 steps",
    "non_json_result": "is a datetime, which is not JSON data",
}


def hostile(name: str) -> bytes:
    return (HOSTILE / f"{name}.bpmn").read_bytes()


def engine(**limits) -> Engine:
    return Engine(service_caller=FakeServices(), **limits)


@pytest.fixture
def normal_diagram_still_runs():
    yield
    driver = OursDriver(MODELS / "exclusive_loop.bpmn")
    driver.start({})
    driver.complete("work", {"again": False})
    workflow = driver.load()
    assert workflow.is_completed() and workflow.data["path"] == ["init", "count"]


@pytest.mark.parametrize("name", sorted(REFUSED_AT_COMPILE))
def test_hostile_script_is_refused_when_the_diagram_is_parsed(name, normal_diagram_still_runs):
    with pytest.raises(DiagramError) as caught:
        parse_diagram(hostile(name), f"{name}.bpmn")

    problems = caught.value.problems
    assert {p.element for p in problems} == {"hostile"}
    assert all(p.line for p in problems)
    assert any(REFUSED_AT_COMPILE[name] in p.message for p in problems), problems


@pytest.mark.parametrize("name", sorted(STOPPED_AT_RUN_TIME))
def test_hostile_script_is_stopped_when_it_runs(name, normal_diagram_still_runs):
    diagram = parse_diagram(hostile(name), f"{name}.bpmn")

    with pytest.raises(ScriptError) as caught:
        engine().start(diagram.spec, {})

    assert caught.value.element == "hostile"
    assert STOPPED_AT_RUN_TIME[name] in caught.value.message


def test_hostile_code_in_every_place_is_listed(normal_diagram_still_runs):
    with pytest.raises(DiagramError) as caught:
        parse_diagram(hostile("hostile_everywhere"))

    found = {(p.element, p.message.split(":")[0]) for p in caught.value.problems}
    assert found == {
        ("svc", "script refused"),  # preScript
        ("svc", "expression refused"),  # service parameter
        ("review", "script refused"),  # postScript
        ("timer", "expression refused"),  # timer expression
        ("f_bad", "expression refused"),  # gateway condition
    }


def test_external_entities_are_not_resolved():
    with pytest.raises(DiagramError) as caught:
        parse_diagram(hostile("external_entity"))

    assert "root:" not in str(caught.value)


def test_script_engine_is_reinstalled_after_restore(normal_diagram_still_runs):
    driver = OursDriver(HOSTILE / "loop_after_restore.bpmn")
    driver.start({})
    workflow = driver.load()
    [task] = workflow.ready_user_tasks()

    with pytest.raises(ScriptError) as caught:
        workflow.complete_user_task(task.id, {})
    assert caught.value.element == "hostile"
    assert "stopped after" in caught.value.message


def test_limits_are_configurable():
    diagram = parse_diagram(hostile("loop_after_restore"))
    quick = engine(max_steps=50)
    workflow = quick.start(diagram.spec, {})
    with pytest.raises(ScriptError, match="stopped after 50 steps"):
        workflow.complete_user_task(workflow.ready_user_tasks()[0].id, {})

    slow = engine(max_steps=10**12, max_seconds=0.05)
    workflow = slow.start(diagram.spec, {})
    with pytest.raises(ScriptError, match=r"stopped after 0.05 s"):
        workflow.complete_user_task(workflow.ready_user_tasks()[0].id, {})


def run(script: str, data: dict | None = None, **helpers) -> dict:
    env = SandboxEnvironment(service_caller=None, helpers=helpers)
    context = dict(data or {})
    env.execute(script, context)
    return context


def test_ordinary_scripts_work():
    result = run(
        "total = sum(v for v in amounts if v > 0)\n"
        "names = sorted([n.strip().upper() for n in raw.split(',')])\n"
        "label = f'{len(names)} names, total {total:.2f}'\n"
        "due = (datetime.fromisoformat(start) + timedelta(days=2)).isoformat()\n"
        "code = '%s-%03d' % ('C', 7)\n"
        "info = {'first': names[0], 'ok': isinstance(total, int) and not isinstance(raw, list)}\n"
        "picked = [k for k, v in {'a': 1, 'b': 2}.items() if v > 1]\n"
        "del raw\n",
        {"amounts": [3, -1, 4], "raw": " li , wang,zhang", "start": "2025-01-01T00:00:00+00:00"},
    )

    assert result == {
        "amounts": [3, -1, 4],
        "start": "2025-01-01T00:00:00+00:00",
        "total": 7,
        "names": ["LI", "WANG", "ZHANG"],
        "label": "3 names, total 7.00",
        "due": "2025-01-03T00:00:00+00:00",
        "code": "C-007",
        "info": {"first": "LI", "ok": True},
        "picked": ["b"],
    }


def test_helpers_are_callable_but_not_introspectable():
    assert run("d = deadline('review', 'PT48H')", deadline=lambda name, default: default) == {"d": "PT48H"}
    with pytest.raises(ScriptError, match="attribute 'globals' of a function"):
        run("g = deadline.globals", deadline=lambda name, default: default)


def test_datetime_now_reads_the_engine_clock():
    with clock.frozen(T0):
        assert run("now = datetime.now().isoformat()\ntoday = date.today().isoformat()") == {
            "now": T0.isoformat(),
            "today": "2025-03-03",
        }


@pytest.mark.parametrize(
    "script, message",
    [
        ("x = (1, 2)", "variable 'x' is a tuple"),
        ("x = {1, 2}", "variable 'x' is a set"),
        ("x = {1: 'a'}", "non-string key 1"),
        ("x = float('nan')", "not JSON data"),
        ("items.append(date.today())", "variable 'items'[1] is a date"),
    ],
)
def test_only_json_data_comes_back_from_a_script(script, message):
    with pytest.raises(ScriptError, match=message.replace("[", r"\[").replace("]", r"\]")):
        run(script, {"items": [1]})


def test_functions_defined_by_a_script_are_not_kept_as_data():
    assert run("def double(v):\n    return v * 2\nx = double(21)") == {"x": 42}


@pytest.mark.parametrize(
    "script",
    [
        "x = 'a'.ljust(10**9)",
        "x = [].__class__",
        "x = list.mro()",
        "x = ', '.join(['a' * 1000] * 2000)",
        "x = 'abc'.replace('', 'x' * 500000)",
        "x = 1 << 10**6",
        "x = f'{1:>100000}'",
        "x = sum([[1]] * 10, [])",
        "x = keys.keys().mapping",
    ],
)
def test_more_escapes_and_blowups_are_refused(script):
    with pytest.raises(ScriptError):
        run(script, {"keys": {"a": 1}})


def test_compiled_code_is_cached():
    assert compile_script("decision == 'approve'", "eval") is compile_script("decision == 'approve'", "eval")


def test_the_clock_is_frozen_per_thread():
    seen = {}

    def other():
        seen["other"] = clock.now()

    with clock.frozen(T0):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        seen["here"] = clock.now()

    assert seen["here"] == T0
    assert seen["other"] != T0 and seen["other"].tzinfo is not None


def test_an_engine_loop_that_never_waits_is_stopped(normal_diagram_still_runs):
    diagram = parse_diagram(hostile("endless_engine_loop"))

    with pytest.raises(EngineError, match="more than 500 tasks in one step") as caught:
        engine().start(diagram.spec, {"n": 0})
    assert caught.value.element in {"spin", "gw"}


@pytest.mark.parametrize(
    "script, message",
    [
        (
            "parts = 'a,' * 400000\nkept = []\nfor i in range(50):\n    kept.append(parts.split(','))",
            "built more than",
        ),
        ("x = [0] * 999999\ny = [x] * 999999\ntext = str(y)", "too large to turn into text"),
        ("x = [0] * 999999\ny = [x] * 999999\ntext = f'{y}'", "too large to turn into text"),
        ("x = [0] * 999999\ny = [x] * 999999\ntext = '%s' % [y]", "too large to turn into text"),
        ("x = [0] * 150000\ny = [x] * 150000", "variable .y. is too large"),
        ("x = [0] * 999999\ncopies = []\nfor i in range(50):\n    copies.append([*x])", "built more than"),
    ],
)
def test_amplification_through_shared_references_and_copies_is_refused(script, message):
    with pytest.raises(ScriptError, match=message):
        run(script)

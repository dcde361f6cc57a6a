"""The Engine / Workflow contract: service calls, data, errors, state, timers, clock."""

import json
import zlib
from datetime import UTC, datetime

import pytest

from processes.engine import (
    STATE_FORMAT,
    EngineError,
    ReadyTask,
    ScriptError,
    WaitingTimer,
    Workflow,
    clock,
    parse_diagram,
)
from processes.engine import Engine as EngineClass
from tests.processes.engine.engine_support import MODELS, SHIPPED, T0, FakeServices, at, stub_helpers

SHIPPED_SPEC = parse_diagram(SHIPPED.read_bytes()).spec
SERVICE_SPEC = parse_diagram((MODELS / "service_result.bpmn").read_bytes()).spec


class DomainError(Exception):
    pass


def make(services=None, **kwargs):
    return EngineClass(service_caller=services or FakeServices(), helpers=stub_helpers(), **kwargs)


def test_service_parameters_are_evaluated_and_results_merged():
    services = FakeServices({"demo.lookup": {"found": True, "score": 9}, "demo.plain": {"plain": "yes"}})
    workflow = make(services).start(SERVICE_SPEC, {"n": 21})

    assert services.calls[0] == ("demo.lookup", {"double": 42, "label": "case-21"}, {"n": 21})
    assert services.calls[1][2] == {"n": 21, "found": True, "score": 9, "lookup": {"found": True, "score": 9}}
    [task] = workflow.ready_user_tasks()
    assert task.data == {
        "n": 21,
        "found": True,
        "score": 9,
        "lookup": {"found": True, "score": 9},
        "plain": "yes",
    }


def test_service_caller_gets_a_copy_of_the_data():
    def meddle(operation, params, data):
        data["n"] = "changed"

    workflow = make(meddle).start(SERVICE_SPEC, {"n": 1})
    assert workflow.ready_user_tasks()[0].data == {"n": 1}


def test_service_exceptions_reach_the_caller_of_start_unchanged():
    error = DomainError("duplicate id number")

    def refuse(operation, params, data):
        raise error

    with pytest.raises(DomainError) as caught:
        make(refuse).start(SERVICE_SPEC, {"n": 1})
    assert caught.value is error


def test_service_exceptions_reach_the_caller_unchanged():
    error = DomainError("customer is blacklisted")

    def refuse(operation, params, data):
        if operation == "demo.after":
            raise error

    engine = make(refuse)
    workflow = engine.start(SERVICE_SPEC, {"n": 1})
    saved = workflow.dump()
    with pytest.raises(DomainError) as caught:
        workflow.complete_user_task(workflow.ready_user_tasks()[0].id, {})

    assert caught.value is error
    with pytest.raises(EngineError, match="failed in an earlier step"):
        workflow.dump()
    retry = engine.restore(SERVICE_SPEC, saved)  # the saved state is intact
    assert [t.spec for t in retry.ready_user_tasks()] == ["look"]


@pytest.mark.parametrize(
    "answer, message",
    [("text", "returned a str; expected a dict or None"), ({"when": datetime(2025, 1, 1)}, "is a datetime")],
)
def test_bad_service_results_are_engine_errors(answer, message):
    with pytest.raises(EngineError, match=message) as caught:
        make(FakeServices({"demo.lookup": answer})).start(SERVICE_SPEC, {"n": 1})
    assert caught.value.element == "named"


def test_a_failing_condition_names_its_element():
    with pytest.raises(ScriptError) as caught:
        make().start(SHIPPED_SPEC, {"case_id": 1})  # no info_level for gw_level's condition

    assert caught.value.element == "gw_level"
    assert "info_level" in caught.value.message


def test_ready_tasks_and_timers_are_plain_values():
    with clock.frozen(T0):
        workflow = make().start(SHIPPED_SPEC, {"case_id": 1, "info_level": "advanced"})

    [task] = workflow.ready_user_tasks()
    assert type(task) is ReadyTask and isinstance(task.id, str)
    timers = workflow.waiting_timers()
    assert all(type(t) is WaitingTimer and type(t.due_at) is datetime for t in timers)
    assert [(t.spec, t.due_at, t.interrupting) for t in timers] == [
        ("review_reminder", at(36), False),
        ("review_deadline", at(48), True),
    ]
    assert timers[0].due_at.tzinfo == UTC
    json.dumps(workflow.data)


def test_data_is_the_live_data_then_the_final_data():
    engine = make()
    workflow = engine.start(SHIPPED_SPEC, {"case_id": 1, "info_level": "advanced"})
    assert workflow.data == {"case_id": 1, "info_level": "advanced"}
    workflow.complete_user_task(workflow.ready_user_tasks()[0].id, {"decision": "approve"})
    assert workflow.data == {"case_id": 1, "info_level": "advanced", "decision": "approve"}
    assert workflow.end_event() == "end_active"


@pytest.mark.parametrize("task_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_completing_an_unknown_task_is_an_engine_error(task_id):
    workflow = make().start(SHIPPED_SPEC, {"case_id": 1, "info_level": "advanced"})
    with pytest.raises(EngineError, match="no task"):
        workflow.complete_user_task(task_id, {})


def test_completing_a_task_that_is_not_ready_is_an_engine_error():
    workflow = make().start(SHIPPED_SPEC, {"case_id": 1, "info_level": "advanced"})
    timer = workflow.waiting_timers()[0]
    with pytest.raises(EngineError, match="not a ready user task"):
        workflow.complete_user_task(timer.id, {})


@pytest.mark.parametrize("data", [{"when": datetime(2025, 1, 1)}, {"pair": (1, 2)}, ["not", "a", "dict"]])
def test_input_data_must_be_json(data):
    with pytest.raises(EngineError):
        make().start(SHIPPED_SPEC, data)


def test_fire_due_timers_needs_an_aware_datetime():
    workflow = make().start(SHIPPED_SPEC, {"case_id": 1, "info_level": "advanced"})
    with pytest.raises(EngineError, match="aware"):
        workflow.fire_due_timers(datetime(2025, 1, 1))


def test_state_is_compressed_json_without_the_spec():
    workflow = make().start(SHIPPED_SPEC, {"case_id": 1, "info_level": "advanced"})
    state = json.loads(zlib.decompress(workflow.dump()))

    assert state["format"] == STATE_FORMAT == 1
    assert "spec" not in state and "subprocess_specs" not in state


def test_restore_refuses_foreign_or_broken_state():
    engine = make()
    state = engine.start(SHIPPED_SPEC, {"case_id": 1, "info_level": "advanced"}).dump()

    with pytest.raises(EngineError, match="does not belong"):
        engine.restore(SERVICE_SPEC, state)
    with pytest.raises(EngineError, match="unreadable"):
        engine.restore(SHIPPED_SPEC, b"garbage")
    with pytest.raises(EngineError, match="format"):
        engine.restore(SHIPPED_SPEC, zlib.compress(b'{"format": 99}'))
    with pytest.raises(EngineError, match="spec"):
        engine.restore({"nope": 1}, state)


def test_spec_survives_a_json_round_trip():
    spec = json.loads(json.dumps(SHIPPED_SPEC))
    workflow = make().start(spec, {"case_id": 1, "info_level": "primary"})
    assert workflow.end_event() == "end_active"


def test_restore_returns_a_workflow_with_the_sandbox_installed():
    engine = make()
    restored = engine.restore(
        SHIPPED_SPEC, engine.start(SHIPPED_SPEC, {"case_id": 1, "info_level": "advanced"}).dump()
    )

    assert isinstance(restored, Workflow)
    assert type(restored._bpmn.script_engine).__name__ == "SandboxScriptEngine"

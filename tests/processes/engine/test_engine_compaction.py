"""Compaction keeps rework loops healthy: no stall, no RecursionError, no false completion, the same
tree (hence the same step cost) at any history, small state. Every step restores from bytes."""

import logging
import os

import pytest

from processes.engine import clock, compaction
from tests.processes.engine.engine_support import MODELS, SHIPPED, T0, OursDriver, at

SLOW = pytest.mark.skipif(
    os.environ.get("CUSTFLOW_SLOW") != "1", reason="set CUSTFLOW_SLOW=1 for benchmark-sized runs"
)


def return_loop(rounds: int, checkpoints=()):
    """Run the shipped diagram's return/resubmit loop; return {round: (tree size, state bytes)}."""
    case = OursDriver(SHIPPED)
    case.start({"case_id": 1, "info_level": "advanced"})
    seen = {}
    for round_ in range(1, rounds + 1):
        for spec, data in (("review", {"decision": "return"}), ("fix_submission", {})):
            workflow = case.engine.restore(case.diagram.spec, case.state)
            assert not workflow.is_completed()
            [task] = workflow.ready_user_tasks()
            assert task.spec == spec, f"round {round_}: expected {spec}, got {task.spec}"
            with clock.frozen(T0):
                workflow.complete_user_task(task.id, data)
            case.state = workflow.dump()
        if round_ in checkpoints:
            seen[round_] = (len(case.load()._bpmn.tasks), len(case.state))
    return case, seen


def test_return_loop_survives_1000_rounds_with_a_constant_tree():
    case, seen = return_loop(1000, checkpoints=(10, 1000))

    workflow = case.load()
    assert [t.spec for t in workflow.ready_user_tasks()] == ["review"]
    assert not workflow.is_completed()
    assert seen[10][0] == seen[1000][0]  # same live tree => same work per step
    assert abs(seen[10][1] - seen[1000][1]) <= 16
    assert seen[1000][1] <= 2048

    with clock.frozen(T0):
        workflow.complete_user_task(workflow.ready_user_tasks()[0].id, {"decision": "approve"})
    assert (workflow.is_completed(), workflow.end_event()) == (True, "end_active")


@SLOW
@pytest.mark.slow
def test_return_loop_survives_10000_rounds():
    case, seen = return_loop(10_000, checkpoints=(10, 10_000))

    assert seen[10][0] == seen[10_000][0]
    assert seen[10_000][1] <= 2048
    assert [t.spec for t in case.load().ready_user_tasks()] == ["review"]


def test_state_of_a_waiting_review_is_at_most_2_kb():
    case = OursDriver(SHIPPED)
    case.start({"case_id": 1, "info_level": "advanced", "note": "新客户，需审核"})

    assert len(case.state) <= 2048


def test_reminders_every_round_do_not_grow_the_tree():
    """Each fired reminder leaves a finished End-join task; older ones are folded into the newest."""
    case = OursDriver(SHIPPED)
    case.start({"case_id": 1, "info_level": "advanced"})
    sizes = []
    for round_ in range(30):
        base = at(100 * round_)
        assert case.fire(base + (at(37) - T0)) == ["review_reminder"]
        case.complete("review", {"decision": "return"}, base + (at(38) - T0))
        case.complete("fix_submission", {}, base + (at(100) - T0))
        sizes.append(len(case.load()._bpmn.tasks))

    assert len(set(sizes[2:])) == 1
    case.complete("review", {"decision": "approve"}, at(100 * 31))
    assert case.load().end_event() == "end_active"


def test_parallel_join_loop_keeps_a_constant_tree():
    driver = OursDriver(MODELS / "parallel_loop.bpmn")
    driver.start({"round": 0})
    sizes = []
    for round_ in range(200):
        first, second = ("task_a", "task_b") if round_ % 2 else ("task_b", "task_a")
        driver.complete(first, {})
        assert [spec for spec, _ in driver.snapshot()["ready"]] == [second]
        driver.complete(second, {})
        driver.complete("check", {"again": True})
        sizes.append(len(driver.load()._bpmn.tasks))

    assert len(set(sizes[2:])) == 1
    assert driver.load().data["round"] == 201


def test_finished_subprocesses_are_dropped():
    driver = OursDriver(MODELS / "call_activity.bpmn")
    driver.start({})
    for _ in range(50):
        driver.complete("called_task", {})
        driver.complete("after", {"again": True})

    subprocesses = list(driver.load()._bpmn.subprocesses.values())
    # the running call, plus at most the previous one while its call task is a kept ancestor
    assert len(subprocesses) <= 2
    assert all(len(sp.tasks) <= 3 for sp in subprocesses if sp.completed)  # root + end event + End join


def test_failed_invariant_keeps_the_tree_uncompacted(monkeypatch, caplog):
    def broken(plan, keep, unfinished, wf):
        raise compaction.CompactionError("simulated invariant failure")

    case = OursDriver(SHIPPED)
    case.start({"case_id": 1, "info_level": "advanced"})
    before = len(case.load()._bpmn.tasks)
    monkeypatch.setattr(compaction, "_check", broken)
    with caplog.at_level(logging.WARNING, logger="processes.engine.compaction"):
        case.complete("review", {"decision": "return"}, at(1))

    assert "left uncompacted" in caplog.text
    workflow = case.load()
    assert len(workflow._bpmn.tasks) > before  # history kept, nothing corrupted
    assert [t.spec for t in workflow.ready_user_tasks()] == ["fix_submission"]
    monkeypatch.undo()
    case.complete("fix_submission", {}, at(2))
    case.complete("review", {"decision": "approve"}, at(3))
    assert case.load().end_event() == "end_active"


def test_plan_refuses_a_tree_with_a_dangling_child():
    case = OursDriver(SHIPPED)
    case.start({"case_id": 1, "info_level": "advanced"})
    bpmn = case.load()._bpmn
    bpmn.task_tree._children.append(bpmn.task_tree.id.__class__(int=1))

    assert compaction.compact(bpmn) is False

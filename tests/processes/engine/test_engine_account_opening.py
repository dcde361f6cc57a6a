"""Every path of the shipped diagram 个人客户开户, saving and restoring after every step and moving
time with the engine clock."""

import pytest

from tests.processes.engine.engine_support import SHIPPED, T0, FakeServices, OursDriver, at

CASE = {"case_id": 42}


@pytest.fixture
def helper_calls():
    return []


@pytest.fixture
def case(helper_calls):
    def deadline(name, default):
        helper_calls.append(("deadline", name, default))
        return default

    def reminder_after(name, default):
        helper_calls.append(("reminder_after", name, default))
        return "PT36H"

    services = FakeServices(
        {"customers.run_opening_checks": {"checks": {"duplicate": False, "id_valid": True}}}
    )
    return OursDriver(
        SHIPPED, services=services, helpers={"deadline": deadline, "reminder_after": reminder_after}
    )


def ready(case):
    return [(t.spec, t.lane) for t in case.load().ready_user_tasks()]


def timers(case):
    return [(t.spec, t.due_at, t.interrupting, t.attached_to) for t in case.load().waiting_timers()]


def review_timers(started):
    return [
        ("review_reminder", started + (at(36) - T0), False, "review"),
        ("review_deadline", started + (at(48) - T0), True, "review"),
    ]


def outcome(case):
    workflow = case.load()
    return workflow.is_completed(), workflow.end_event()


def test_primary_level_is_activated_without_review(case):
    case.start({**CASE, "info_level": "primary"})

    assert outcome(case) == (True, "end_active")
    assert case.services.operations == ["customers.run_opening_checks", "customers.activate_customer"]
    assert [params for _, params, _ in case.services.calls] == [{"case_id": 42}, {"case_id": 42}]
    assert case.load().data["checks"] == {"duplicate": False, "id_valid": True}


def test_advanced_level_waits_for_review_with_both_timers(case, helper_calls):
    case.start({**CASE, "info_level": "advanced"})

    workflow = case.load()
    [task] = workflow.ready_user_tasks()
    assert (task.spec, task.name, task.lane) == ("review", "客户信息审核", "city_reviewer")
    assert task.properties == {"form": "account_opening/review", "deadline": "review"}
    assert task.data == {
        "case_id": 42,
        "info_level": "advanced",
        "checks": {"duplicate": False, "id_valid": True},
    }
    assert timers(case) == review_timers(T0)
    assert sorted(helper_calls) == [("deadline", "review", "PT48H"), ("reminder_after", "review", "PT48H")]
    assert outcome(case) == (False, None)
    assert len(case.state) <= 2048


def test_approve(case):
    case.start({**CASE, "info_level": "advanced"})
    case.complete("review", {"decision": "approve"}, at(2))

    assert outcome(case) == (True, "end_active")
    assert timers(case) == []
    assert case.services.operations == ["customers.run_opening_checks", "customers.activate_customer"]
    assert case.load().data["decision"] == "approve"


def test_reject(case):
    case.start({**CASE, "info_level": "advanced"})
    case.complete("review", {"decision": "reject", "reason": "forged scan"}, at(2))

    assert outcome(case) == (True, "end_rejected")
    assert case.services.operations == ["customers.run_opening_checks", "customers.reject_opening"]
    assert case.load().data["reason"] == "forged scan"


def test_return_three_times_then_approve(case):
    case.start({**CASE, "info_level": "advanced"})
    for round_ in range(1, 4):
        case.complete("review", {"decision": "return"}, at(round_))
        assert ready(case) == [("fix_submission", "collector")]
        assert timers(case) == []
        case.complete("fix_submission", {"fixed": round_}, at(round_, 30))
        assert ready(case) == [("review", "city_reviewer")]
        assert timers(case) == review_timers(at(round_, 30))
    case.complete("review", {"decision": "approve"}, at(5))

    assert outcome(case) == (True, "end_active")
    loop = ["customers.return_opening", "customers.resubmit_opening", "customers.run_opening_checks"]
    assert case.services.operations == [
        "customers.run_opening_checks",
        *loop * 3,
        "customers.activate_customer",
    ]
    assert case.load().data["fixed"] == 3


def test_reminder_fires_once_then_approve(case):
    case.start({**CASE, "info_level": "advanced"})

    assert case.fire(at(35)) == []
    assert case.fire(at(36, 1)) == ["review_reminder"]
    assert case.services.calls[-1][:2] == ("tasks.send_reminder", {"task": "review"})
    assert ready(case) == [("review", "city_reviewer")]
    assert timers(case) == review_timers(T0)[1:]
    assert case.fire(at(40)) == []

    case.complete("review", {"decision": "approve"}, at(41))
    assert outcome(case) == (True, "end_active")
    assert case.services.operations.count("tasks.send_reminder") == 1


def test_deadline_escalates_to_province_which_approves(case):
    case.start({**CASE, "info_level": "advanced"})
    assert case.fire(at(36, 1)) == ["review_reminder"]
    assert case.fire(at(48, 1)) == ["review_deadline"]

    assert case.services.calls[-1][:2] == ("tasks.record_escalation", {"task": "review"})
    [task] = case.load().ready_user_tasks()
    assert (task.spec, task.name, task.lane, task.properties) == (
        "province_review",
        "省级审核",
        "province_reviewer",
        {"form": "account_opening/review"},
    )
    assert timers(case) == []

    case.complete("province_review", {"decision": "approve"}, at(50))
    assert outcome(case) == (True, "end_active")


def test_deadline_fires_both_timers_when_both_are_due(case):
    case.start({**CASE, "info_level": "advanced"})

    assert case.fire(at(49)) == ["review_deadline", "review_reminder"]
    assert ready(case) == [("province_review", "province_reviewer")]


def test_province_rejects(case):
    case.start({**CASE, "info_level": "advanced"})
    case.fire(at(48, 1))
    case.complete("province_review", {"decision": "reject"}, at(50))

    assert outcome(case) == (True, "end_rejected")


def test_province_returns_and_the_case_goes_round_again(case):
    case.start({**CASE, "info_level": "advanced"})
    case.fire(at(48, 1))
    case.complete("province_review", {"decision": "return"}, at(50))
    assert ready(case) == [("fix_submission", "collector")]

    case.complete("fix_submission", {}, at(51))
    assert ready(case) == [("review", "city_reviewer")]
    assert timers(case) == review_timers(at(51))

    case.complete("review", {"decision": "approve"}, at(52))
    assert outcome(case) == (True, "end_active")
    assert case.services.operations == [
        "customers.run_opening_checks",
        "tasks.send_reminder",
        "tasks.record_escalation",
        "customers.return_opening",
        "customers.resubmit_opening",
        "customers.run_opening_checks",
        "customers.activate_customer",
    ]

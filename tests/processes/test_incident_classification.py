"""Incidents mean a real failure of the step. An outage or a shutdown is logged and retried, never
an incident; an incident resolves itself once the instance has moved past the failing timer."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from django.db import DataError, IntegrityError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit
from processes import runtime
from processes.engine import EngineError
from processes.incidents import is_step_failure
from processes.isolation import run_isolated
from processes.models import ProcessIncident, Timer, TimerStatus
from processes.services import process_instance_start, process_version_deploy
from processes.sweep import timers_sweep
from tasks.models import HumanTask, TaskStatus
from tests.processes.test_instance_migrations import two_step

pytestmark = pytest.mark.django_db


def failing_deadline() -> bytes:
    """review (a user task) with a 48 h deadline whose path runs a script that always fails."""
    bpmn = two_step(with_check=False).decode()
    bpmn = bpmn.replace(
        '<bpmn:sequenceFlow id="f3" sourceRef="deadline" targetRef="late" />',
        '<bpmn:sequenceFlow id="f3" sourceRef="deadline" targetRef="boom" />\n'
        '<bpmn:scriptTask id="boom" name="出错"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>'
        "<bpmn:script>x = 1 / 0</bpmn:script></bpmn:scriptTask>\n"
        '<bpmn:sequenceFlow id="f4" sourceRef="boom" targetRef="late" />',
    )
    # review → sign → end: completing review leaves the instance running, past the deadline.
    bpmn = bpmn.replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />',
        '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="sign" />\n'
        '<bpmn:userTask id="sign" name="签收"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="form" value="account_opening/review" /></spiffworkflow:properties></bpmn:extensionElements>'
        "<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>\n"
        '<bpmn:sequenceFlow id="f5" sourceRef="sign" targetRef="end" />',
    )
    bpmn = bpmn.replace(
        '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming>',
        '<bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming>',
    )
    bpmn = bpmn.replace(
        "<bpmn:flowNodeRef>end</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>end</bpmn:flowNodeRef><bpmn:flowNodeRef>sign</bpmn:flowNodeRef>",
    )
    bpmn = bpmn.replace(
        '<bpmn:endEvent id="late"><bpmn:incoming>f3</bpmn:incoming>',
        '<bpmn:endEvent id="late"><bpmn:incoming>f4</bpmn:incoming>',
    )
    return bpmn.replace(
        "<bpmn:flowNodeRef>late</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>late</bpmn:flowNodeRef><bpmn:flowNodeRef>boom</bpmn:flowNodeRef>",
    ).encode()


@pytest.fixture
def failing_case(users):
    process_version_deploy(data=failing_deadline(), filename="m.bpmn")
    instance = process_instance_start(
        actor=users["owner.ho"], key="migration_test", org_unit=OrgUnit.objects.get(code="GD-SZ"), data={}
    )
    timer = Timer.objects.get(instance=instance, status=TimerStatus.PENDING)
    assert timers_sweep(now=timer.due_at + timedelta(seconds=1)) == 0
    incident = ProcessIncident.objects.get(instance=instance, resolved_at__isnull=True)
    assert (incident.element, incident.timer_id) == ("boom", timer.pk)
    return instance, timer, incident


def complete_review(instance, actor) -> None:
    from django.db import transaction

    with transaction.atomic():
        locked = runtime.instance_lock(instance.pk)
        task = HumanTask.objects.get(instance=instance, step="review", status=TaskStatus.READY)
        runtime.instance_step(
            instance=locked,
            actor=actor,
            act=lambda wf: wf.complete_user_task(task.engine_task_id, {"decision": "approve"}),
        )
        HumanTask.objects.filter(pk=task.pk).update(status=TaskStatus.COMPLETED)


def test_an_incident_resolves_itself_when_the_instance_moves_past_the_failing_timer(failing_case, users):
    instance, timer, incident = failing_case
    complete_review(instance, users["reviewer.sz"])  # the deadline's task is done: its timer is cancelled
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert incident.resolved_by == users["reviewer.sz"]
    assert incident.resolution == "moved past: timer cancelled"
    assert HumanTask.objects.filter(instance=instance, step="sign", status=TaskStatus.READY).exists()
    event = AuditEvent.objects.get(action="process.incident_resolved", process_instance_id=instance.pk)
    assert event.actor == users["reviewer.sz"] and event.data["element"] == "boom"


def test_an_incident_stays_open_while_its_timer_still_waits(failing_case, users):
    instance, timer, incident = failing_case
    # Another sweep fails again on the same timer: the same incident counts it, still open.
    assert timers_sweep(now=timer.due_at + timedelta(minutes=1)) == 0
    incident.refresh_from_db()
    assert (incident.occurrences, incident.resolved_at) == (2, None)


def test_a_cancelled_instance_resolves_its_incidents(failing_case, users):
    from django.db import transaction

    instance, timer, incident = failing_case
    with transaction.atomic():
        runtime.instance_cancel(instance=runtime.instance_lock(instance.pk), actor=users["owner.ho"])
    incident.refresh_from_db()
    assert incident.resolved_at is not None and incident.resolution == "instance cancelled"


@pytest.mark.parametrize(
    "exc, failure",
    [
        (runtime.ProcessRunError("script failed"), True),
        (EngineError("bad gateway condition", element="gw"), True),
        (MemoryError(), True),
        (RecursionError(), True),
        (DataError("value too long for type character varying(100)"), True),
        (IntegrityError("duplicate key: a concurrent step"), False),
        (BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused."), False),
        (OperationalError("server closed the connection unexpectedly"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
        (runtime.StepUnavailable("smtp down"), False),
        (SystemExit(1), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_only_failures_of_the_step_are_incidents(exc, failure):
    assert is_step_failure(exc) is failure


def _raise(exc):
    def fn():
        raise exc

    return fn


def test_the_child_reports_an_outage_as_transient_and_a_step_failure_as_an_error(transactional_db):
    kind, value = run_isolated(
        _raise(BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")),
        seconds=30,
        memory_mb=512,
    )
    assert kind == "transient" and "Error 111" in value["message"]
    kind, _ = run_isolated(_raise(OperationalError("could not connect to server")), seconds=30, memory_mb=512)
    assert kind == "transient"
    kind, value = run_isolated(
        _raise(runtime.ProcessRunError("流程运行出错", extra={"element": "boom"})), seconds=30, memory_mb=512
    )
    assert (kind, value["element"]) == ("error", "boom")


def test_a_child_shut_down_with_its_worker_is_transient_and_one_killed_over_its_bound_is_not(
    transactional_db,
):
    def terminated():
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    kind, value = run_isolated(terminated, seconds=30, memory_mb=512)
    assert kind == "transient" and "signal 15" in value["message"]

    def cpu_bound_exceeded():
        os.kill(os.getpid(), signal.SIGXCPU)  # what RLIMIT_CPU sends

    kind, _ = run_isolated(cpu_bound_exceeded, seconds=30, memory_mb=512)
    assert kind == "killed"


def test_a_step_that_meets_a_broker_outage_in_a_handler_is_unavailable_not_a_diagram_error():
    """An operation handler that publishes to a broker that is down: the step is StepUnavailable
    (503, nothing saved, retried by the sweep), not a ProcessRunError (422, an incident)."""

    def handler_meets_a_dead_broker():
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with pytest.raises(runtime.StepUnavailable) as caught:
        runtime._run(Timer(pk=0), None, handler_meets_a_dead_broker)
    assert caught.value.status_code == 503 and not is_step_failure(caught.value)


def test_an_incident_recorded_before_incidents_named_their_timer_resolves_once_no_timer_waits(
    failing_case, users
):
    instance, timer, incident = failing_case
    ProcessIncident.objects.filter(pk=incident.pk).update(timer=None)  # as rows recorded before the upgrade
    complete_review(instance, users["reviewer.sz"])
    incident.refresh_from_db()
    assert incident.resolved_at is not None and incident.resolution == "moved past: no pending timer"

"""Scripts never take a process down (SECURITY.md §3). A process owner's diagram whose script
crashes its process, hogs memory or CPU in C, or recurses deeply: the test instance's start and a
user's step answer 4xx with a clear message, an incident is recorded on that instance, and this
process (the test client runs in it) keeps answering. The hostile scripts are generated here."""

from __future__ import annotations

import copy
from datetime import timedelta
from xml.sax.saxutils import escape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit
from processes.models import InstanceStatus, ProcessIncident, ProcessInstance, Timer, TimerStatus
from processes.services import process_instance_start, process_version_deploy
from processes.sweep import timers_sweep
from tasks.models import HumanTask, TaskStatus
from tests.fixtures.diagrams import script_diagram, user_task_diagram
from tests.processes import test_timer_step_isolation as step_isolation
from tests.processes.engine.test_engine_pool import CPU_HOG, DEEP_HASH, DEEP_RECURSION, MEMORY_HOG, nested
from tests.processes.test_hostile_diagrams import timed_script

pytestmark = pytest.mark.django_db
isolated = step_isolation.isolated  # the forked timer-step fixture

HOSTILE = {
    "deep_tuple_hash": (DEEP_HASH, ("crashed its worker process",)),
    "memory_hog": (MEMORY_HOG, ("MemoryError", "memory limit", "killed")),
    "cpu_hog": (CPU_HOG, ("killed", "CPU-time limit")),
    "deep_recursion": (DEEP_RECURSION, ("RecursionError",)),
}


@pytest.fixture
def roomy(settings):
    """Time limits that leave the crash, not the clock, to end a deep-tuple call on a loaded machine."""
    custflow = copy.deepcopy(settings.CUSTFLOW)
    custflow["SCRIPT_MAX_SECONDS"] = 60.0
    custflow["SCRIPT_POOL"].update({"TIMEOUT_SECONDS": 60.0, "CPU_SECONDS": 60.0})
    settings.CUSTFLOW = custflow
    return custflow


def upload(client, content: bytes):
    return client.post(
        "/api/process-definitions/",
        {"file": SimpleUploadedFile("h.bpmn", content, "application/xml")},
        format="multipart",
    )


def assert_still_serving(owner) -> None:
    assert owner.get("/api/process-definitions/").status_code == 200
    assert upload(owner, script_diagram("y = 1 + 1", key="after_test")).status_code == 201
    ok = owner.post("/api/process-instances/", {"process": "after_test", "data": {}}, format="json")
    assert ok.status_code == 201 and ok.json()["status"] == "completed", ok.content


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_test_instance_start_fails_its_own_case_with_an_incident(api, name, request):
    if name == "deep_tuple_hash":
        request.getfixturevalue("roomy")
    script, needles = HOSTILE[name]
    owner = api("owner.ho")
    assert upload(owner, script_diagram(script, key=f"hostile_{name}")).status_code == 201

    resp = owner.post("/api/process-instances/", {"process": f"hostile_{name}", "data": {}}, format="json")

    assert resp.status_code == 422, resp.content
    body = resp.json()
    assert any(n in body["detail"] for n in needles), body
    instance = ProcessInstance.objects.get(pk=body["instance"])
    assert (instance.version.definition.key, instance.status, instance.subject_type) == (
        f"hostile_{name}",
        InstanceStatus.FAILED,
        "test",
    )
    incident = ProcessIncident.objects.get(pk=body["incident"], instance=instance, resolved_at__isnull=True)
    assert (incident.source, incident.element) == ("start", "script")
    assert any(n in incident.message for n in needles), incident.message
    assert AuditEvent.objects.filter(action="process.incident", process_instance_id=instance.pk).count() == 1
    assert_still_serving(owner)


def after_user_task(script: str, key: str) -> bytes:
    """start → user task (city reviewer, review form) → `script` → end."""
    return user_task_diagram(key=key).replace(
        b"<bpmn:script>x = 1</bpmn:script>", f"<bpmn:script>{escape(script)}</bpmn:script>".encode()
    )


@pytest.mark.parametrize("name", ["deep_tuple_hash", "cpu_hog"])
def test_hostile_step_answers_4xx_keeps_the_case_and_records_an_incident(api, name, request):
    if name == "deep_tuple_hash":
        request.getfixturevalue("roomy")
    script, needles = HOSTILE[name]
    process_version_deploy(data=after_user_task(script, key="hostile_step"), filename="h.bpmn")
    instance = process_instance_start(
        actor=None, key="hostile_step", org_unit=OrgUnit.objects.get(code="GD-SZ"), data={}
    )
    state_before, row_version = bytes(instance.state), instance.row_version
    task = HumanTask.objects.get(instance=instance, status=TaskStatus.READY)

    resp = api("reviewer.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json")

    assert resp.status_code == 422, resp.content
    assert any(n in resp.json()["detail"] for n in needles), resp.json()
    instance.refresh_from_db()
    assert (instance.status, bytes(instance.state), instance.row_version) == (
        InstanceStatus.RUNNING,
        state_before,
        row_version,
    )
    assert HumanTask.objects.get(pk=task.pk).status == TaskStatus.READY
    incident = ProcessIncident.objects.get(instance=instance, resolved_at__isnull=True)
    assert (incident.source, incident.element) == ("step", "svc") and resp.json()["incident"] == incident.pk
    # A second try counts on the same incident.
    assert (
        api("reviewer.sz")
        .post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json")
        .status_code
        == 422
    )
    incident.refresh_from_db()
    assert incident.occurrences == 2
    assert_still_serving(api("owner.ho"))


def test_a_timer_step_that_crashes_its_worker_becomes_an_incident_and_the_sweep_goes_on(users, roomy):
    # No forked step isolation here (the setting is off in tests): the pool alone protects the sweep.
    city = OrgUnit.objects.get(code="GD-SZ")
    process_version_deploy(data=timed_script(DEEP_HASH, key="crash_timer"), filename="c.bpmn")
    process_version_deploy(data=timed_script("x = 1", key="good_timer"), filename="g.bpmn")
    bad = process_instance_start(actor=None, key="crash_timer", org_unit=city, data={})
    good = process_instance_start(actor=None, key="good_timer", org_unit=city, data={})

    assert timers_sweep(now=timezone.now() + timedelta(hours=2)) == 1

    assert ProcessInstance.objects.get(pk=good.pk).status == InstanceStatus.COMPLETED
    assert Timer.objects.get(instance=bad).status == TimerStatus.PENDING
    incident = ProcessIncident.objects.get(instance=bad, resolved_at__isnull=True)
    assert incident.source == "timer" and "crashed its worker process" in incident.message


def test_a_timer_expression_that_crashes_is_refused_at_upload_without_harm(api):
    # Timer expressions are evaluated when the diagram is checked: that too runs in the pool.
    wait = "len({" + nested(12) + "}) and 'PT1H'"
    resp = upload(api("owner.ho"), timed_script("x = 1", key="lint_timer", wait=wait))
    assert resp.status_code in (201, 400), resp.content
    assert_still_serving(api("owner.ho"))


def test_deeply_nested_displays_are_refused_at_upload(api):
    resp = upload(
        api("owner.ho"), script_diagram("t = 0\nfor i in range(9):\n    t = " + nested(20), key="nested_test")
    )
    assert resp.status_code == 400, resp.content
    assert any(
        "nested more than" in p["message"] and p["element"] == "script" for p in resp.json()["problems"]
    ), resp.json()


@pytest.mark.django_db(transaction=True)
def test_with_forked_timer_steps_a_crashing_script_kills_only_its_child(isolated, settings):
    isolated["SECONDS"] = 60  # the crash, not the wall clock, must end the child
    settings.CUSTFLOW["SCRIPT_MAX_SECONDS"] = 60.0
    city = OrgUnit.objects.get(code="GD-SZ")
    process_version_deploy(data=timed_script(DEEP_HASH, key="crash_timer"), filename="c.bpmn")
    process_version_deploy(data=timed_script("x = 1", key="good_timer"), filename="g.bpmn")
    bad = process_instance_start(actor=None, key="crash_timer", org_unit=city, data={})
    good = process_instance_start(actor=None, key="good_timer", org_unit=city, data={})

    assert timers_sweep(now=timezone.now() + timedelta(hours=2)) == 1

    assert ProcessInstance.objects.get(pk=good.pk).status == InstanceStatus.COMPLETED
    incident = ProcessIncident.objects.get(instance=bad, resolved_at__isnull=True)
    assert "died" in incident.message or "crashed" in incident.message, incident.message

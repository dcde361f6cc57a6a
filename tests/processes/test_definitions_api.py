"""Process owners upload diagrams (validated, clear errors) and start test instances."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from processes.models import ProcessInstance, ProcessVersion
from tests.fixtures.diagrams import script_diagram, user_task_diagram

pytestmark = pytest.mark.django_db


def upload(client, content: bytes, name: str = "test.bpmn"):
    return client.post("/api/process-definitions/", {"file": SimpleUploadedFile(name, content, "application/xml")}, format="multipart")


def test_owner_uploads_valid_diagram_as_immutable_version(api):
    before = ProcessVersion.objects.count()
    resp = upload(api("owner.ho"), script_diagram("y = 2"))
    assert resp.status_code == 201, resp.content
    assert resp.json()["key"] == "script_test" and resp.json()["version"] == 1
    again = upload(api("owner.ho"), script_diagram("y = 2"))
    assert again.status_code == 201 and again.json()["version"] == 1 and again.json()["created"] is False
    changed = upload(api("owner.ho"), script_diagram("y = 3"))
    assert changed.status_code == 201 and changed.json()["version"] == 2
    assert ProcessVersion.objects.count() == before + 2


def test_non_owner_cannot_upload(api):
    assert upload(api("reviewer.sz"), script_diagram("y = 2")).status_code == 403


@pytest.mark.parametrize(
    "content",
    [b"", b"not xml at all", b"<definitions/>", b"<?xml version='1.0'?><bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'><bpmn:process id='p' isExecutable='true'><bpmn:startEvent id='s'/><bpmn:bogus/></bpmn:process></bpmn:definitions>"],
)
def test_broken_files_get_400_with_messages(api, content):
    before = ProcessVersion.objects.count()
    resp = upload(api("owner.ho"), content)
    assert resp.status_code == 400, resp.content
    assert resp.json()["file"] and all(isinstance(m, str) and m for m in resp.json()["file"])
    assert ProcessVersion.objects.count() == before


@pytest.mark.parametrize(
    "diagram, needle",
    [
        (user_task_diagram(lane="nobody"), "nobody"),
        (user_task_diagram(form="no/such_form"), "no/such_form"),
        (user_task_diagram(form=None), "form"),
        (user_task_diagram(operation="customers.no_such_op"), "customers.no_such_op"),
    ],
)
def test_lint_errors_name_the_problem(api, diagram, needle):
    resp = upload(api("owner.ho"), diagram)
    assert resp.status_code == 400, resp.content
    assert any(needle in m for m in resp.json()["file"]), resp.json()


@pytest.mark.parametrize(
    "script",
    [
        "import os",
        "x = __import__('os')",
        "x = open('/etc/passwd').read()",
        "x = ().__class__.__base__.__subclasses__()",
        "x = getattr(1, 'real')",
    ],
)
def test_hostile_scripts_are_refused_at_upload(api, script):
    resp = upload(api("owner.ho"), script_diagram(script))
    assert resp.status_code == 400, resp.content
    assert ProcessVersion.objects.filter(definition__key="script_test").count() == 0


@pytest.mark.parametrize("script", ["while True:\n    pass", "x = 9 ** 9 ** 9", "x = 'a' * 10 ** 10", "x = [i for i in range(10 ** 9)]"])
def test_runaway_scripts_fail_at_run_time_with_a_clear_error(api, script):
    assert upload(api("owner.ho"), script_diagram(script)).status_code == 201
    resp = api("owner.ho").post("/api/process-instances/", {"process": "script_test", "data": {}}, format="json")
    assert resp.status_code == 422, resp.content
    assert resp.json()["detail"]
    # The failed test start is kept as a FAILED instance with an open incident that says why.
    [failed] = ProcessInstance.objects.filter(version__definition__key="script_test")
    assert failed.pk == resp.json()["instance"] and failed.status == "failed"
    assert failed.incidents.get(resolved_at__isnull=True).message == resp.json()["detail"]
    # The process keeps serving: a harmless diagram still runs.
    assert upload(api("owner.ho"), script_diagram("y = 1 + 1", key="after_test")).status_code == 201
    ok = api("owner.ho").post("/api/process-instances/", {"process": "after_test", "data": {}}, format="json")
    assert ok.status_code == 201 and ok.json()["status"] == "completed"


def test_start_test_instance_of_shipped_process(api):
    resp = api("owner.ho").post("/api/process-instances/", {"process": "individual_account_opening", "data": {"info_level": "primary"}}, format="json")
    # Its first service task runs in dry-run (a test instance has no case: the checks record what
    # they would do and answer nothing), so the gateway after it lacks its data: the run-time
    # failure is reported, not a 500.
    assert resp.status_code == 422, resp.content
    assert "gw_officer" in resp.json()["detail"]  # the first gateway: the officer's step or not


def test_start_test_instance_waits_on_user_task(api):
    assert upload(api("owner.ho"), user_task_diagram(key="wait_test")).status_code == 201
    resp = api("owner.ho").post("/api/process-instances/", {"process": "wait_test", "data": {"case_id": 1}}, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["status"] == "running"
    assert [t["step"] for t in resp.json()["ready_tasks"]] == ["task"]


@pytest.mark.parametrize("payload, field", [({"process": "nope", "data": {}}, "process"), ({"process": "script_test", "data": [1]}, "data"), ({}, "process")])
def test_bad_instance_requests(api, payload, field):
    resp = api("owner.ho").post("/api/process-instances/", payload, format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json()


def test_uploading_the_shipped_diagram_answers_its_version(api):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bpmn" / "account_opening" / "individual_account_opening.bpmn"
    resp = upload(api("owner.ho"), path.read_bytes(), path.name)
    assert resp.status_code == 201, resp.content
    assert resp.json()["key"] == "individual_account_opening" and resp.json()["version"] == 1

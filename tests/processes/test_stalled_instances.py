"""An instance that can make no progress (no ready task, no waiting timer or event, not finished)
becomes an incident on the elements it waits at, visible to process owners on the instance page."""

from __future__ import annotations

import pytest

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit
from processes.models import InstanceStatus, ProcessIncident
from processes.services import process_instance_start, process_version_deploy
from tests.fixtures.diagrams import HEADER, script_diagram
from tests.processes.test_hostile_diagrams import timed_script

pytestmark = pytest.mark.django_db


def xor_into_and(key: str) -> bytes:
    """start → exclusive split (one branch taken) → parallel join of both branches → end.
    The join waits for a branch that never comes: a modelling error no engine can run past."""
    return (
        HEADER
        + f'<bpmn:process id="{key}" name="错误的汇聚" isExecutable="true">\n'
        '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>\n'
        '<bpmn:exclusiveGateway id="choose" default="f_b"><bpmn:incoming>f0</bpmn:incoming>'
        "<bpmn:outgoing>f_a</bpmn:outgoing><bpmn:outgoing>f_b</bpmn:outgoing></bpmn:exclusiveGateway>\n"
        '<bpmn:scriptTask id="a"><bpmn:incoming>f_a</bpmn:incoming><bpmn:outgoing>f_a2</bpmn:outgoing><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>\n'
        '<bpmn:scriptTask id="b"><bpmn:incoming>f_b</bpmn:incoming><bpmn:outgoing>f_b2</bpmn:outgoing><bpmn:script>y = 1</bpmn:script></bpmn:scriptTask>\n'
        '<bpmn:parallelGateway id="join"><bpmn:incoming>f_a2</bpmn:incoming><bpmn:incoming>f_b2</bpmn:incoming>'
        "<bpmn:outgoing>f_end</bpmn:outgoing></bpmn:parallelGateway>\n"
        '<bpmn:endEvent id="end"><bpmn:incoming>f_end</bpmn:incoming></bpmn:endEvent>\n'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="choose" />\n'
        '<bpmn:sequenceFlow id="f_a" sourceRef="choose" targetRef="a"><bpmn:conditionExpression>take_a</bpmn:conditionExpression></bpmn:sequenceFlow>\n'
        '<bpmn:sequenceFlow id="f_b" sourceRef="choose" targetRef="b" />\n'
        '<bpmn:sequenceFlow id="f_a2" sourceRef="a" targetRef="join" />\n'
        '<bpmn:sequenceFlow id="f_b2" sourceRef="b" targetRef="join" />\n'
        '<bpmn:sequenceFlow id="f_end" sourceRef="join" targetRef="end" />\n'
        "</bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


def test_a_stalled_instance_becomes_an_incident_on_the_waiting_join(users, client):
    city = OrgUnit.objects.get(code="GD-SZ")
    process_version_deploy(data=xor_into_and("bad_join"), filename="bad_join.bpmn")

    instance = process_instance_start(actor=None, key="bad_join", org_unit=city, data={"take_a": False})

    instance.refresh_from_db()
    assert instance.status != InstanceStatus.COMPLETED
    incident = ProcessIncident.objects.get(instance=instance, resolved_at__isnull=True)
    assert (incident.source, incident.element) == ("stall", "join")
    assert "join" in incident.message
    assert AuditEvent.objects.filter(action="process.incident", process_instance_id=instance.pk).count() == 1
    # The process owner sees it on the instance page, on the element.
    client.force_login(users["owner.ho"])
    page = client.get(f"/processes/instances/{instance.pk}/")
    assert page.status_code == 200
    assert "join" in page.content.decode() and incident.message in page.content.decode()


def test_instances_that_finish_or_wait_for_a_timer_record_no_stall(users):
    city = OrgUnit.objects.get(code="GD-SZ")
    process_version_deploy(data=script_diagram("x = 1", key="plain_script"), filename="p.bpmn")
    process_version_deploy(data=timed_script("x = 1", key="waits_an_hour"), filename="w.bpmn")

    finished = process_instance_start(actor=None, key="plain_script", org_unit=city, data={})
    waiting = process_instance_start(actor=None, key="waits_an_hour", org_unit=city, data={})

    finished.refresh_from_db()
    assert finished.status == InstanceStatus.COMPLETED
    assert not ProcessIncident.objects.filter(instance__in=[finished, waiting]).exists()

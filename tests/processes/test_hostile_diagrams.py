"""Hostile diagrams fail safely: refused at upload when the code shows it, otherwise stopped by the
sandbox's bounds when it runs — in a background timer step that becomes a visible incident (the
case keeps its last good state, the timer stays pending and is retried), and the sweep goes on
serving the other cases."""

from __future__ import annotations

import time
from datetime import timedelta
from xml.sax.saxutils import escape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit
from processes.instance_migrations import instances_migrate
from processes.models import InstanceStatus, ProcessIncident, ProcessInstance, Timer, TimerStatus
from processes.services import process_instance_start, process_version_deploy
from processes.sweep import timers_sweep
from tests.fixtures.diagrams import HEADER, script_diagram

pytestmark = pytest.mark.django_db


def timed_script(script: str, key: str, wait: str = '"PT1H"') -> bytes:
    """start → wait (timer, an hour by default) → script → end: the script runs in the timer sweep."""
    return (
        HEADER.replace('id="Definitions_test"', 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_test"')
        + f'<bpmn:process id="{key}" name="定时脚本" isExecutable="true">\n'
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />\n'
        '<bpmn:intermediateCatchEvent id="wait" name="等待"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
        f'<bpmn:timerEventDefinition id="t"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{escape(wait)}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>\n'
        '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="script" />\n'
        f'<bpmn:scriptTask id="script" name="脚本"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>\n'
        '<bpmn:sequenceFlow id="f3" sourceRef="script" targetRef="end" />\n'
        '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>\n'
        "</bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


# Each is valid under the sandbox's compile rules, so only its run-time bounds can stop it.
RUNAWAY = {
    "endless_loop": "while True:\n    pass",
    "endless_recursion": "def f(n):\n    return f(n + 1)\nx = f(0)",
    "big_power": "x = 7 ** 10 ** 7",
    "big_shift": "x = 1 << 10 ** 9",
    "string_repetition": "x = 'a' * 10 ** 10",
    "nested_repetition": "x = ['a' * 999999 for _ in range(100)]",
    "replace_amplification": "s = 'a' * 999999\nx = s.replace('a', 'aaaaaaaaaa')",
    "join_amplification": "x = ','.join(['a' * 100000] * 100)",
    "huge_range": "x = sum(range(10 ** 12))",
    "list_bomb": "x = [0] * 10 ** 9",
    "format_width": "x = '%999999999d' % 1",
    "int_to_text": "x = str(10 ** 5000) * 1000",
}

REFUSED = {
    "import": "import re",
    "dunder_chain": "x = ().__class__.__base__.__subclasses__()",
    "attribute_chain": "x = datetime.now.__self__",
    "function_globals": "x = (lambda: 0).__globals__",
    "generator_frame": "x = (i for i in []).gi_frame",
    "format_method": "x = '{0.__class__.__mro__}'.format(1)",
    "format_map": "x = '{a}'.format_map({'a': 1})",
    "computed_fstring_spec": "x = f'{1:>{10 ** 9}}'",
    "getattr_builtin": "x = getattr(1, 'real')",
    "open_builtin": "x = open('/etc/passwd').read()",
    "eval_builtin": "x = eval('1')",
    "class_definition": "class A:\n    pass",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_code_is_refused_at_upload_with_its_element(api, name):
    resp = api("owner.ho").post(
        "/api/process-definitions/", {"file": SimpleUploadedFile("h.bpmn", script_diagram(REFUSED[name], key=f"hostile_{name}"))}, format="multipart"
    )
    assert resp.status_code == 400, resp.content
    assert any(p["element"] == "script" for p in resp.json()["problems"]), resp.json()


@pytest.mark.parametrize("name", sorted(RUNAWAY))
def test_runaway_script_in_a_timer_step_becomes_an_incident_and_the_sweep_goes_on(users, name, settings):
    city = OrgUnit.objects.get(code="GD-SZ")
    process_version_deploy(data=timed_script(RUNAWAY[name], key="hostile_timer"), filename="h.bpmn")
    process_version_deploy(data=timed_script("x = 1", key="good_timer"), filename="g.bpmn")
    bad = process_instance_start(actor=None, key="hostile_timer", org_unit=city, data={})
    good = process_instance_start(actor=None, key="good_timer", org_unit=city, data={})
    state_before, row_version_before = bytes(bad.state), bad.row_version
    at = timezone.now() + timedelta(hours=2)

    started = time.perf_counter()
    fired = timers_sweep(now=at)
    elapsed = time.perf_counter() - started
    assert elapsed < settings.CUSTFLOW["SCRIPT_MAX_SECONDS"] + 3, elapsed

    # The good case was served in the same sweep.
    assert fired == 1
    assert ProcessInstance.objects.get(pk=good.pk).status == InstanceStatus.COMPLETED
    # The bad case kept its last good state; its timer waits for a retry; the incident says why.
    bad.refresh_from_db()
    assert (bad.status, bytes(bad.state), bad.row_version) == (InstanceStatus.RUNNING, state_before, row_version_before)
    assert Timer.objects.get(instance=bad).status == TimerStatus.PENDING
    incident = ProcessIncident.objects.get(instance=bad, resolved_at__isnull=True)
    assert incident.element == "script" and incident.message
    assert AuditEvent.objects.filter(action="process.incident", process_instance_id=bad.pk).count() == 1
    # A retry that fails again counts on the same incident.
    timers_sweep(now=at)
    incident.refresh_from_db()
    assert incident.occurrences == 2 and ProcessIncident.objects.filter(instance=bad).count() == 1


def test_incident_resolves_when_the_fixed_version_is_migrated_and_retried(users):
    city = OrgUnit.objects.get(code="GD-SZ")
    process_version_deploy(data=timed_script("while True:\n    pass", key="flaky_timer"), filename="f.bpmn")
    instance = process_instance_start(actor=None, key="flaky_timer", org_unit=city, data={})
    at = timezone.now() + timedelta(hours=2)
    assert timers_sweep(now=at) == 0
    assert ProcessIncident.objects.filter(instance=instance, resolved_at__isnull=True).count() == 1
    # The owner publishes a fixed version and moves the case onto it; the next sweep succeeds.
    process_version_deploy(data=timed_script("x = 1", key="flaky_timer"), filename="f.bpmn")
    result = instances_migrate(actor=users["owner.ho"], key="flaky_timer", target_version=2, instance_ids=[instance.pk], dry_run=False)
    assert result["summary"] == {"migrated": 1}
    assert timers_sweep(now=at) == 1
    assert ProcessInstance.objects.get(pk=instance.pk).status == InstanceStatus.COMPLETED
    incident = ProcessIncident.objects.get(instance=instance)
    assert incident.resolved_at is not None

"""A real Celery worker + beat with hard step bounds: a C-level bomb behind a timer is killed
in its child process and becomes an incident, while the same worker keeps firing the other
cases' timers, before and after it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from backend.organisation.models import OrgUnit
from processes.models import InstanceStatus, ProcessIncident, ProcessInstance, Timer
from processes.services import process_instance_start, process_version_deploy
from tests.integration.harness import worker_env
from tests.integration.test_worker_escalation import ROOT, _wait_for
from tests.processes.test_hostile_diagrams import timed_script
from tests.processes.test_timer_step_isolation import CPU_BOMB

pytestmark = [
    pytest.mark.integration,
    pytest.mark.xdist_group("celery-worker"),
    pytest.mark.skipif(os.environ.get("CUSTFLOW_INTEGRATION") != "1", reason="set CUSTFLOW_INTEGRATION=1 (scripts/test.sh does)"),
]


@pytest.mark.django_db(transaction=True)
def test_worker_survives_a_c_level_bomb_and_keeps_serving(tmp_path):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    city = OrgUnit.objects.get(code="GD-SZ")
    process_version_deploy(data=timed_script(CPU_BOMB, key="bomb_timer", wait='"PT2S"'), filename="b.bpmn")
    process_version_deploy(data=timed_script("x = 1", key="good_timer", wait='"PT2S"'), filename="g.bpmn")
    bomb = process_instance_start(actor=None, key="bomb_timer", org_unit=city, data={})
    first = process_instance_start(actor=None, key="good_timer", org_unit=city, data={})
    env = worker_env(
        tmp_path,
        CUSTFLOW_TIMER_STEP_ISOLATION="1",
        CUSTFLOW_TIMER_STEP_SECONDS="2",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "backend.config", "worker", "--beat", "--pool", "solo",
         "--schedule", str(tmp_path / "beat-schedule"), "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        served = _wait_for(lambda: ProcessInstance.objects.get(pk=first.pk).status == InstanceStatus.COMPLETED, timeout=90)
        incident = _wait_for(lambda: ProcessIncident.objects.filter(instance=bomb, resolved_at__isnull=True).exists(), timeout=60)
        # A case started after the bomb went off is served by the same worker.
        later = process_instance_start(actor=None, key="good_timer", org_unit=city, data={})
        served_later = _wait_for(lambda: ProcessInstance.objects.get(pk=later.pk).status == InstanceStatus.COMPLETED, timeout=60)
        alive = worker.poll() is None
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0]
    assert served and incident and served_later and alive, output[-3000:]
    found = ProcessIncident.objects.get(instance=bomb)
    assert "killed" in found.message and found.occurrences >= 1
    assert ProcessInstance.objects.get(pk=bomb.pk).status == InstanceStatus.RUNNING
    assert Timer.objects.get(instance=bomb).status == "pending"

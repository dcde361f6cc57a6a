"""A real Celery worker + beat WITHOUT forked timer steps: a script that segfaults its process runs
in the worker's sandbox pool, so only a pool worker dies; the Celery worker records the incident and
keeps firing the other cases' timers, before and after it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from backend.organisation.models import OrgUnit
from processes.models import InstanceStatus, ProcessIncident, ProcessInstance
from processes.services import process_instance_start, process_version_deploy
from tests.integration.harness import worker_env
from tests.integration.test_worker_escalation import ROOT, _wait_for
from tests.processes.engine.test_engine_pool import DEEP_HASH
from tests.processes.test_hostile_diagrams import timed_script

pytestmark = [
    pytest.mark.integration,
    pytest.mark.xdist_group("celery-worker"),
    pytest.mark.skipif(
        os.environ.get("CUSTFLOW_INTEGRATION") != "1",
        reason="set CUSTFLOW_INTEGRATION=1 (scripts/test.sh does)",
    ),
]


@pytest.mark.django_db(transaction=True)
def test_celery_worker_survives_a_segfaulting_script_without_forked_steps(tmp_path):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    city = OrgUnit.objects.get(code="GD-SZ")
    process_version_deploy(data=timed_script(DEEP_HASH, key="crash_timer", wait='"PT2S"'), filename="c.bpmn")
    process_version_deploy(data=timed_script("x = 1", key="good_timer", wait='"PT2S"'), filename="g.bpmn")
    crash = process_instance_start(actor=None, key="crash_timer", org_unit=city, data={})
    first = process_instance_start(actor=None, key="good_timer", org_unit=city, data={})
    env = worker_env(
        tmp_path,
        CUSTFLOW_TIMER_STEP_ISOLATION="0",
        # Building the deep tuple must not hit a clock on a loaded machine: the crash ends the call.
        CUSTFLOW_SCRIPT_POOL_TIMEOUT_SECONDS="60",
        CUSTFLOW_SCRIPT_POOL_CPU_SECONDS="60",
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "backend.config",
            "worker",
            "--beat",
            "--pool",
            "solo",
            "--schedule",
            str(tmp_path / "beat-schedule"),
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        served = _wait_for(
            lambda: ProcessInstance.objects.get(pk=first.pk).status == InstanceStatus.COMPLETED, timeout=90
        )
        incident = _wait_for(
            lambda: ProcessIncident.objects.filter(instance=crash, resolved_at__isnull=True).exists(),
            timeout=90,
        )
        later = process_instance_start(actor=None, key="good_timer", org_unit=city, data={})
        served_later = _wait_for(
            lambda: ProcessInstance.objects.get(pk=later.pk).status == InstanceStatus.COMPLETED, timeout=60
        )
        alive = worker.poll() is None
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0]
    assert served and incident and served_later and alive, output[-3000:]
    found = ProcessIncident.objects.get(instance=crash)
    assert "crashed its worker process" in found.message, found.message
    assert ProcessInstance.objects.get(pk=crash.pk).status == InstanceStatus.RUNNING

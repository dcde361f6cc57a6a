"""Hard bounds for background steps: a C-level bomb the in-process sandbox cannot interrupt is
killed (wall clock) or stopped (memory) in a forked child; the case keeps its last good state,
an incident says why, and the sweep goes on with the other cases."""

from __future__ import annotations

import copy
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.organisation.models import OrgUnit
from processes.models import InstanceStatus, ProcessIncident, ProcessInstance, Timer, TimerStatus
from processes.services import process_instance_start, process_version_deploy
from processes.sweep import timers_sweep
from tests.processes.test_hostile_diagrams import timed_script

# Both stay within the sandbox's size budgets and step counts, and spend their time in C calls that
# nothing inside the process can interrupt (measured in-process: ~10 s; ~450 MB in 1 s).
CPU_BOMB = "x = [max(r, key=int) for r in [range(999999)] for _ in range(200)][0]"
MEMORY_BOMB = "x = len([dict(zip(range(999999), range(999999))) for _ in range(4)])"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def isolated(settings):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    custflow = copy.deepcopy(settings.CUSTFLOW)
    custflow["TIMER_STEP_ISOLATION"] = {"ENABLED": True, "SECONDS": 1.5, "MEMORY_MB": 4096}
    settings.CUSTFLOW = custflow
    return custflow["TIMER_STEP_ISOLATION"]


def start_pair(key: str, script: str):
    city = OrgUnit.objects.get(code="GD-SZ")
    process_version_deploy(data=timed_script(script, key=key), filename="h.bpmn")
    process_version_deploy(data=timed_script("x = 1", key="good_timer"), filename="g.bpmn")
    bad = process_instance_start(actor=None, key=key, org_unit=city, data={})
    good = process_instance_start(actor=None, key="good_timer", org_unit=city, data={})
    return bad, good


def assert_incident_and_others_served(bad, good, state_before, fired, needle):
    assert fired == 1
    assert ProcessInstance.objects.get(pk=good.pk).status == InstanceStatus.COMPLETED
    bad.refresh_from_db()
    assert (bad.status, bytes(bad.state)) == (InstanceStatus.RUNNING, state_before)
    assert Timer.objects.get(instance=bad).status == TimerStatus.PENDING
    incident = ProcessIncident.objects.get(instance=bad, resolved_at__isnull=True)
    assert needle in incident.message, incident.message


def test_c_level_cpu_bomb_is_killed_at_the_wall_clock_bound(isolated):
    bad, good = start_pair("cpu_bomb", CPU_BOMB)
    state_before = bytes(bad.state)
    started = time.perf_counter()
    fired = timers_sweep(now=timezone.now() + timedelta(hours=2))
    elapsed = time.perf_counter() - started
    assert elapsed < isolated["SECONDS"] + 3, elapsed
    assert_incident_and_others_served(bad, good, state_before, fired, "killed")


def test_memory_bomb_hits_the_memory_bound(isolated, settings):
    settings.CUSTFLOW["TIMER_STEP_ISOLATION"].update({"SECONDS": 30, "MEMORY_MB": 200})
    bad, good = start_pair("memory_bomb", MEMORY_BOMB)
    state_before = bytes(bad.state)
    fired = timers_sweep(now=timezone.now() + timedelta(hours=2))
    assert_incident_and_others_served(bad, good, state_before, fired, "MemoryError")


def test_ordinary_steps_commit_from_the_child(isolated):
    bad, good = start_pair("also_good", "y = 2")
    assert timers_sweep(now=timezone.now() + timedelta(hours=2)) == 2
    assert set(ProcessInstance.objects.filter(pk__in=[bad.pk, good.pk]).values_list("status", flat=True)) == {InstanceStatus.COMPLETED}
    assert Timer.objects.filter(status=TimerStatus.FIRED).count() == 2


def test_a_batch_runs_in_one_child_and_a_killed_step_loses_only_itself(isolated, monkeypatch):
    """One fork for the whole batch; the bomb in the middle of it is killed, its incident filed,
    and the rest of the batch runs in a second child (two forks, not one per step)."""
    import os

    city = OrgUnit.objects.get(code="GD-SZ")
    process_version_deploy(data=timed_script("x = 1", key="good_timer"), filename="g.bpmn")
    process_version_deploy(data=timed_script(CPU_BOMB, key="cpu_bomb"), filename="h.bpmn")
    first = [process_instance_start(actor=None, key="good_timer", org_unit=city, data={}) for _ in range(3)]
    bad = process_instance_start(actor=None, key="cpu_bomb", org_unit=city, data={})
    rest = [process_instance_start(actor=None, key="good_timer", org_unit=city, data={}) for _ in range(3)]
    Timer.objects.filter(instance=bad).update(due_at=Timer.objects.get(instance=first[-1]).due_at)
    forks = []
    real_fork = os.fork

    def counting_fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    assert timers_sweep(now=timezone.now() + timedelta(hours=2)) == 6
    assert len(forks) == 2
    good = [i.pk for i in first + rest]
    assert set(ProcessInstance.objects.filter(pk__in=good).values_list("status", flat=True)) == {InstanceStatus.COMPLETED}
    assert Timer.objects.get(instance=bad).status == TimerStatus.PENDING
    assert ProcessIncident.objects.filter(instance=bad, resolved_at__isnull=True).count() == 1
    assert not ProcessIncident.objects.exclude(instance=bad).exists()

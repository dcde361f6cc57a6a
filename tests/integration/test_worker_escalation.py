"""A real Celery worker + beat (Redis on PostgreSQL runs, the filesystem broker on SQLite
runs) sweeps the timers of the test database and escalates an overdue review exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend.common.models import AuditEvent
from processes.models import Timer
from tasks.models import HumanTask
from tests.integration.harness import worker_env

pytestmark = [
    pytest.mark.integration,
    pytest.mark.xdist_group("celery-worker"),
    pytest.mark.skipif(os.environ.get("CUSTFLOW_INTEGRATION") != "1", reason="set CUSTFLOW_INTEGRATION=1 (scripts/test.sh does)"),
]
ROOT = Path(__file__).resolve().parents[2]


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


@pytest.mark.django_db(transaction=True)
def test_real_worker_and_beat_escalate_once(submit, settings, tmp_path):
    settings.CUSTFLOW = {**settings.CUSTFLOW, "DEADLINES": {"review": "PT4S"}}
    assert submit("advanced").status_code == 201
    review = HumanTask.objects.get(step="review")
    env = worker_env(tmp_path)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "backend.config", "worker", "--beat", "--pool", "solo",
         "--schedule", str(tmp_path / "beat-schedule"), "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        escalated = _wait_for(lambda: HumanTask.objects.filter(step="province_review").exists(), timeout=90)
        time.sleep(3)  # several more sweeps: nothing may fire twice
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0]
    assert escalated, output[-3000:]
    review.refresh_from_db()
    assert review.status == "cancelled" and review.outcome == "escalated"
    assert HumanTask.objects.filter(step="province_review", status="ready", org_unit__code="GD").count() == 1
    assert AuditEvent.objects.filter(action="task.escalated").count() == 1
    assert Timer.objects.filter(spec="review_deadline", status="fired").count() == 1

"""A real Celery worker + beat (Redis on PostgreSQL runs, the filesystem broker on SQLite
runs) sweeps the timers of the test database and escalates an overdue review exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from backend.common.models import AuditEvent
from processes.models import Timer
from tasks.models import HumanTask

pytestmark = [
    pytest.mark.integration,
    pytest.mark.xdist_group("celery-worker"),
    pytest.mark.skipif(os.environ.get("CUSTFLOW_INTEGRATION") != "1", reason="set CUSTFLOW_INTEGRATION=1 (scripts/test.sh does)"),
]
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    return f"postgres://{user}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


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
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CUSTFLOW_QUEUE": f"custflow-test-{uuid.uuid4().hex[:8]}",
        "CUSTFLOW_BROKER_DIR": str(tmp_path / "broker"),
        "CUSTFLOW_TIMER_SWEEP_SECONDS": "1",
        "CUSTFLOW_INTEGRATION": "1",
    }
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

"""R10: the multi-machine layout on loopback — two gunicorn web nodes, two Celery workers and one
beat, each a separate process under the production settings, on PostgreSQL and Redis.

Cases are driven over HTTP only, switching nodes between requests: an advanced opening is
submitted on node A, claimed on node B and approved on node A; a second one is left alone and
its review deadline is fired by beat + the workers (escalated exactly once to the province).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from backend.common.models import AuditEvent
from backend.customers.models import Customer
from tasks.models import HumanTask
from tests.factories import opening_payload, resident_id
from tests.integration.harness import ROOT, free_port, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.xdist_group("celery-worker"),
    pytest.mark.skipif(os.environ.get("CUSTFLOW_INTEGRATION") != "1", reason="set CUSTFLOW_INTEGRATION=1 (scripts/test.sh does)"),
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the multi-node layout runs on PostgreSQL + Redis"),
]
DEADLINE_SECONDS = 20


class Node:
    """An HTTP client of one web node, behind the TLS proxy the production settings expect."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        self.session.headers["X-Forwarded-Proto"] = "https"

    def up(self) -> bool:
        try:
            return self.session.get(self.base + "/api/tasks/", timeout=10).status_code in (401, 403)
        except requests.RequestException:
            return False

    def token(self, username: str) -> dict[str, str]:
        resp = self.session.post(self.base + "/api/auth/token/", json={"username": username, "password": "demo-pass-2026"}, timeout=30)
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Token {resp.json()['token']}"}

    def get(self, path, auth):
        return self.session.get(self.base + path, headers=auth, timeout=60)

    def post(self, path, auth, **kw):
        return self.session.post(self.base + path, headers=auth, timeout=60, **kw)


def _submit(node: Node, auth, **overrides):
    payload = opening_payload("advanced", **overrides)
    scan = payload.pop("scan")
    resp = node.post("/api/account-openings/", auth, data=payload, files={"scan": (scan.name, scan.read(), "image/png")})
    assert resp.status_code == 201, resp.text
    return resp.json()


@pytest.mark.django_db(transaction=True)
def test_two_web_nodes_two_workers_and_beat(users, tmp_path):
    # The test settings hash with MD5; the production nodes know only the production hashers.
    hasher = PBKDF2PasswordHasher()
    get_user_model().objects.update(password=hasher.encode("demo-pass-2026", hasher.salt()))
    s = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "CUSTFLOW_"))},
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://{s.get('USER') or 'postgres'}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CUSTFLOW_QUEUE": f"custflow-multinode-{uuid.uuid4().hex[:8]}",
        "CUSTFLOW_TIMER_SWEEP_SECONDS": "1",
        "CUSTFLOW_REVIEW_DEADLINE": f"PT{DEADLINE_SECONDS}S",
        "CUSTFLOW_DEMO_CERTIFICATES": "1",
        "CUSTFLOW_VAR_DIR": str(tmp_path / "var"),
    }
    ports = [free_port(), free_port()]
    bin_dir = Path(sys.executable).parent
    commands = {
        **{f"web{i}": [str(bin_dir / "gunicorn"), "backend.config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2",
                       "--timeout", "60"] for i, port in enumerate(ports)},
        **{f"worker{i}": [sys.executable, "-m", "celery", "-A", "backend.config", "worker", "--pool", "solo", "-n", f"w{i}@%h",
                          "--loglevel", "INFO"] for i in range(2)},
        "beat": [sys.executable, "-m", "celery", "-A", "backend.config", "beat", "--schedule", str(tmp_path / "beat-schedule"),
                 "--loglevel", "INFO"],
    }
    logs = {name: open(tmp_path / f"{name}.log", "w+") for name in commands}
    procs = {name: subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logs[name], stderr=subprocess.STDOUT) for name, cmd in commands.items()}

    def tail() -> str:
        out = []
        for name, f in logs.items():
            f.flush()
            out.append(f"--- {name} (exit {procs[name].poll()}) ---\n" + (tmp_path / f"{name}.log").read_text()[-1500:])
        return "\n".join(out)

    try:
        a, b = Node(ports[0]), Node(ports[1])
        assert wait_for(lambda: a.up() and b.up(), timeout=60, every=0.5), tail()
        # An officer's own advanced opening goes straight to review (a collector's waits for an officer).
        collector, reviewer = a.token("officer.sz"), b.token("reviewer.sz")
        first = _submit(a, collector)
        task = next(t for t in b.get("/api/tasks/", reviewer).json()["results"] if t["case_id"] == first["id"])
        assert b.post(f"/api/tasks/{task['id']}/claim/", reviewer).status_code == 200
        done = a.post(f"/api/tasks/{task['id']}/complete/", reviewer, json={"decision": "approve", "comment": "两节点"})
        assert done.status_code == 200, done.text
        assert Customer.objects.get(pk=first["customer_id"]).status == "active"
        assert b.get(f"/api/account-openings/{first['id']}/", collector).status_code == 200

        second = _submit(b, collector, id_number=resident_id(serial=321), phone="13900009999")
        review = HumanTask.objects.get(case_id=second["id"], step="review")
        escalated = wait_for(lambda: HumanTask.objects.filter(instance_id=review.instance_id, step="province_review").exists(),
                              timeout=DEADLINE_SECONDS + 60, every=0.5)
        assert escalated, tail()
        time.sleep(3)  # more sweeps by beat and both workers: nothing may fire twice
        province = a.get("/api/tasks/", a.token("reviewer.gd")).json()["results"]
        assert [t["case_id"] for t in province if t["step"] == "province_review"] == [second["id"]]
        assert AuditEvent.objects.filter(action="task.escalated", process_instance_id=review.instance_id).count() == 1
        # The jobs went through the broker to worker processes (not eagerly in the web nodes).
        worker_logs = "".join((tmp_path / f"worker{i}.log").read_text() for i in range(2))
        assert "processes.sweep_timers" in worker_logs, tail()
        assert all(p.poll() is None for p in procs.values()), tail()
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in logs.values():
            f.close()

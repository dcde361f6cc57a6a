"""Issue 9 item 5: a PostgreSQL restart and a Redis restart under load, on a PRIVATE PostgreSQL
cluster and a PRIVATE redis-server started by the test (the machine's shared servers are never
restarted). A real Celery worker and beat run on them; the load comes from
tests/integration/restart_driver.py in a subprocess (the pytest test database is not used).

Afterwards: no completion that returned success is lost, no timer fired twice, no case is stuck,
the audit chains verify, and the worker and beat recovered by themselves (neither restarted).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.integration.harness import (
    ROOT,
    Cluster,
    PrivatePostgres,
    PrivateRedis,
    private_servers_available,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.xdist_group("celery-worker"),
    pytest.mark.skipif(os.environ.get("CUSTFLOW_INTEGRATION") != "1", reason="set CUSTFLOW_INTEGRATION=1 (scripts/test.sh does)"),
    pytest.mark.skipif(not private_servers_available(), reason="needs initdb/pg_ctl, redis-server (and runuser + a postgres user as root)"),
]
DRIVER = Path(__file__).with_name("restart_driver.py")


@pytest.fixture(scope="module")
def private_pg():
    """One private cluster for the module: created, migrated and seeded once (~17 s)."""
    pg = PrivatePostgres()
    try:
        pg.init()
        pg.start()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backend.config.settings.test", "DATABASE_URL": pg.url}
        for cmd in (["migrate", "-v0"], ["seed_demo"]):
            r = subprocess.run([sys.executable, "manage.py", *cmd], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            assert r.returncode == 0, r.stdout + r.stderr
        yield pg
    finally:
        pg.destroy()


def _env(pg: PrivatePostgres, redis: PrivateRedis, tmp_path: Path, deadline: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CUSTFLOW_"))},
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
        "DATABASE_URL": pg.url,
        "CELERY_BROKER_URL": redis.url,
        "CUSTFLOW_QUEUE": f"custflow-restart-{uuid.uuid4().hex[:8]}",
        "CUSTFLOW_INTEGRATION": "1",
        "CUSTFLOW_TEST_RUN": uuid.uuid4().hex[:8],
        "CUSTFLOW_TIMER_SWEEP_SECONDS": "1",
        "CUSTFLOW_REVIEW_DEADLINE": deadline,
        "CUSTFLOW_BROKER_VISIBILITY_TIMEOUT": "8",
        "CUSTFLOW_BROKER_RESTORE_INTERVAL": "1",
    }


def _scalar(pg: PrivatePostgres, sql: str) -> int | None:
    """One number from the private database, or None while it is down."""
    try:
        with psycopg.connect(pg.url.replace("postgres://", "postgresql://"), connect_timeout=2) as conn:
            return conn.execute(sql).fetchone()[0]
    except psycopg.OperationalError:
        return None


FIRED = "SELECT count(*) FROM common_auditevent WHERE action = 'timer.fired'"
OVERDUE = "SELECT count(*) FROM processes_timer WHERE status = 'pending' AND due_at <= now()"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def _check(env) -> dict:
    r = subprocess.run([sys.executable, str(DRIVER), "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def _until_grows(pg, sql: str, timeout: float) -> float | None:
    """Seconds until the number grows past its first readable value (None: it never did)."""
    start = time.monotonic()
    first = None
    while time.monotonic() - start < timeout:
        now = _scalar(pg, sql)
        if first is None:
            first = now
        elif now is not None and now > first:
            return round(time.monotonic() - start, 2)
        time.sleep(0.1)
    return None


def _assert_invariants(state: dict, outcomes: list[dict]):
    successes = [o for o in outcomes if o.get("op") == "complete" and o.get("status") == 200]
    lost = [o["task"] for o in successes if str(o["task"]) not in state["completed_tasks"]]
    assert not lost, f"completions that returned 200 but are not in the database: {lost}"
    doubled = [o["task"] for o in successes if state["completed_events"].get(str(o["task"])) != 1]
    assert not doubled, f"completions without exactly one task.completed event: {doubled}"
    assert state["overdue_pending"] == 0, state["timers"]
    assert state["timers_named_in_events"] == state["fired_timers"] > 0, state
    assert not state["timers_fired_not_exactly_once"] and not state["instances_escalated_twice"], state
    assert not state["instances_with_two_ready_tasks"], state
    assert state["review_ready_but_timer_fired"] == 0, state
    assert not state["running_without_ready_task"], state
    assert not state["audit_broken"], state["audit_broken"]


def test_postgres_restart_and_crash_under_load(private_pg, tmp_path):
    pg = private_pg
    redis = PrivateRedis(tmp_path)
    redis.start()
    env = _env(pg, redis, tmp_path, deadline="PT4S")
    cluster = Cluster(tmp_path, env)
    out = tmp_path / "load.jsonl"
    try:
        cluster.worker("w1")
        cluster.beat()
        with open(out, "w") as f, open(tmp_path / "load.err", "w") as err:
            driver = subprocess.Popen([sys.executable, str(DRIVER), "load", "40", "1000"], cwd=ROOT, env=env, stdout=f, stderr=err)
        figures = {}
        assert wait_for(lambda: len(_lines(out)) >= 14 and (_scalar(pg, FIRED) or 0) >= 1, timeout=60), cluster.logs()
        t = time.monotonic()
        pg.ctl("restart", "fast")  # clean restart: every connection of the worker and driver is cut
        figures["fast_restart_s"] = round(time.monotonic() - t, 2)
        figures["sweep_resumed_after_fast_s"] = _until_grows(pg, FIRED, timeout=30)
        assert wait_for(lambda: len(_lines(out)) >= 34, timeout=60), cluster.logs()
        t = time.monotonic()
        pg.crash_and_start()  # `-m immediate`: a crash, WAL recovery on start
        figures["crash_restart_s"] = round(time.monotonic() - t, 2)
        figures["sweep_resumed_after_crash_s"] = _until_grows(pg, FIRED, timeout=30)
        assert driver.wait(90) == 0, (tmp_path / "load.err").read_text()[-3000:]
        # Every deadline is due 4 s after its submission: all of them fire, without any restart.
        time.sleep(4.5)
        t = time.monotonic()
        assert wait_for(lambda: _scalar(pg, OVERDUE) == 0, timeout=60, every=0.2), cluster.logs()
        figures["drained_after_load_s"] = round(time.monotonic() - t, 2)
        time.sleep(3)  # more sweeps: nothing may fire twice
        outcomes = _lines(out)
        figures["driver_errors_retried"] = sum(1 for o in outcomes if "error" in o)
        figures["completions_200"] = sum(1 for o in outcomes if o.get("op") == "complete" and o.get("status") == 200)
        figures["submissions_201"] = sum(1 for o in outcomes if o.get("op") == "submit" and o.get("status") == 201)
        # A submission whose COMMIT was cut with its connection: the client's retry is refused as
        # a duplicate (409) naming the case the first try made — one case, never two or none.
        figures["committed_before_drop"] = sum(1 for o in outcomes if o.get("op") == "submit" and o.get("committed_before_drop"))
        state = _check(env)
        figures["timers_fired"] = state["fired_timers"]
        print("postgres restart figures:", json.dumps(figures))
        assert figures["sweep_resumed_after_fast_s"] is not None and figures["sweep_resumed_after_crash_s"] is not None, cluster.logs()
        refused = [o for o in outcomes if o.get("op") == "submit" and o.get("status") != 201 and not o.get("committed_before_drop")]
        assert figures["submissions_201"] + figures["committed_before_drop"] == 40, refused
        assert all(o.get("case") for o in outcomes if o.get("op") == "submit"), outcomes
        assert state["openings"] == 40 and state["openings_per_id_number"] == 1, state
        _assert_invariants(state, outcomes)
        assert all(p.poll() is None for p in cluster.procs.values()), cluster.logs()  # recovered without a restart
    finally:
        cluster.stop()
        redis.kill()


def test_redis_killed_and_restarted_with_jobs_queued(private_pg, tmp_path):
    pg = private_pg
    redis = PrivateRedis(tmp_path, persistent=True)
    redis.start()
    env = _env(pg, redis, tmp_path, deadline="PT3S")
    cluster = Cluster(tmp_path, env)
    try:
        cluster.beat()  # sweeps queue up in Redis; no worker yet
        for cmd in (["batches", "6", "3000"], ["load", "10", "3100"]):
            r = subprocess.run([sys.executable, str(DRIVER), *cmd], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr[-3000:]
        done = "SELECT count(*) FROM customers_printbatch WHERE status = 'done'"
        before = _scalar(pg, done)
        cluster.worker("w1")
        assert wait_for(lambda: (_scalar(pg, done) or 0) >= before + 1, timeout=60, every=0.1), cluster.logs()
        assert (_scalar(pg, done) or 0) < before + 6, "every batch finished before the kill; raise the count"
        redis.kill()  # SIGKILL with jobs queued and one in the worker's hands (unacknowledged)
        time.sleep(3)
        t = time.monotonic()
        redis.start()
        # Work resumed: a timer fired or a batch finished (some batch is left, asserted above).
        progress = f"SELECT ({FIRED}) + ({done})"
        figures = {"work_resumed_after_redis_s": _until_grows(pg, progress, timeout=40)}
        assert wait_for(lambda: _scalar(pg, done) == before + 6 and _scalar(pg, OVERDUE) == 0, timeout=60, every=0.2), cluster.logs()
        figures["all_jobs_done_after_redis_s"] = round(time.monotonic() - t, 2)
        time.sleep(10)  # past the visibility timeout: a job handed out again must change nothing
        state = _check(env)
        print("redis restart figures:", json.dumps(figures))
        assert figures["work_resumed_after_redis_s"] is not None, cluster.logs()
        batches = state["batch_done"]
        assert all(s == "done" and d == n == 1 and doc != "None" for s, d, n, doc in batches.values()), batches
        _assert_invariants(state, [])
        assert all(p.poll() is None for p in cluster.procs.values()), cluster.logs()
    finally:
        cluster.stop()
        redis.kill()

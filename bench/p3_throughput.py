"""P3: complete openings per second through HTTP — locust (bench/locust/openings.py) against
gunicorn web workers and a Celery worker on PostgreSQL and Redis, the load generator on the
same machine. On demand only (not in CI, not in run.py): it saturates the machine.

Each flow: submit an advanced opening (multipart with a scan; checks A–D, engine start, task
rows, audit), find it in the reviewer's inbox, claim, approve (engine step, customer active).
The figure is approved openings per second over the run, counted in the database. Raw
baseline in the same run (bench/locust/inbox_only.py): the same users doing only authenticated
GETs of the reviewer's inbox page — what gunicorn + DRF + PostgreSQL sustain without engine work.

Usage: DATABASE_URL=postgres://…/custflow_p3 CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \
       python bench/p3_throughput.py [--users 16] [--seconds 60] [--web-workers 3]
Goal: ≥ 30 openings/s, and server CPU per opening ≤ 2× the floor: the server CPU of the six
bare requests an opening makes, measured in the same run (server CPU = user + system time of
gunicorn, its workers, the Celery worker and the script pools they spawn, read from /proc).
The web processes keep their database connections (DATABASE_CONN_MAX_AGE=60, as
docs/DEPLOYMENT.md recommends).
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GOAL = 30.0
REQUESTS_PER_OPENING = 6  # submit, officer inbox, confirm, reviewer inbox, claim, approve
CPU_GOAL = 2.0  # server CPU per opening ÷ per 6 bare requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these processes and all their descendants, live and reaped."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo, seen = 0, list(pids), set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        f = stats[pid]
        # utime, stime, cutime, cstime (fields 14-17 of stat; indexes 11-14 after the name)
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        todo.extend(children.get(pid, []))
    return total / ticks


def _psql(url: str, sql: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--web-workers", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("SKIP p3_throughput: needs PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL)")
        return 0
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    tmp = Path(tempfile.mkdtemp(prefix="custflow-p3-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/9"),
        "CUSTFLOW_QUEUE": f"custflow-p3-{secrets.token_hex(4)}",
        "CUSTFLOW_VAR_DIR": str(tmp / "var"),
        "CUSTFLOW_DEMO_CERTIFICATES": "1",
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
    }
    manage = [sys.executable, "manage.py"]
    for cmd in (["migrate", "-v", "0"], ["seed_demo"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run(manage + cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    port = _free_port()
    procs = [
        subprocess.Popen([str(BIN / "gunicorn"), "backend.config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
                          str(args.web_workers), "--timeout", "120"], cwd=ROOT, env=env,
                         stdout=open(tmp / "web.log", "w"), stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "backend.config", "worker", "--concurrency", "1",
                          "--loglevel", "WARNING"], cwd=ROOT, env=env, stdout=open(tmp / "worker.log", "w"),
                         stderr=subprocess.STDOUT),
    ]
    try:
        time.sleep(5)
        host = f"http://127.0.0.1:{port}"

        def locust(locustfile: str, prefix: str) -> dict[str, dict[str, str]]:
            subprocess.run([str(BIN / "locust"), "-f", locustfile, "--headless", "-u", str(args.users), "-r", str(args.users),
                            "-t", f"{args.seconds}s", "--host", host, "--csv", str(tmp / prefix), "--only-summary"],
                           cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
                           stdout=open(tmp / f"{prefix}.log", "w"), stderr=subprocess.STDOUT)
            with open(tmp / f"{prefix}_stats.csv") as f:
                return {row["Name"]: row for row in csv.DictReader(f)}

        server = [p.pid for p in procs]
        before = int(_psql(url, "SELECT count(*) FROM customers_customer WHERE status = 'active'"))
        started, cpu0 = time.perf_counter(), _tree_cpu(server)
        stats = locust("bench/locust/openings.py", "openings")
        elapsed, cpu1 = time.perf_counter() - started, _tree_cpu(server)
        approved = int(_psql(url, "SELECT count(*) FROM customers_customer WHERE status = 'active'")) - before
        raw = locust("bench/locust/inbox_only.py", "raw")
        cpu2 = _tree_cpu(server)
        raw_requests = int(raw.get("inbox page", {}).get("Request Count", 0) or 0)  # sign-ins not counted
        per_opening = (cpu1 - cpu0) / approved if approved else float("inf")
        floor = REQUESTS_PER_OPENING * (cpu2 - cpu1) / raw_requests if raw_requests else float("nan")
        rate = approved / args.seconds
        print(f"P3: {args.users} locust users, {args.seconds} s (wall {elapsed:.0f} s), {args.web_workers} gunicorn workers, "
              f"1 Celery worker, PostgreSQL + Redis, load generator on the same machine")
        for name in ("submit opening", "inbox", "claim", "approve", "opening approved"):
            row = stats.get(name)
            if row:
                print(f"  {name:16} n={row['Request Count']:>6} failures={row['Failure Count']:>4} "
                      f"median {row['Median Response Time']} ms p95 {row['95%']} ms")
        agg = raw.get("Aggregated", {})
        print(f"complete openings: {approved} → {rate:.1f} openings/s (goal ≥ {GOAL:.0f}/s: {'met' if rate >= GOAL else 'NOT met'})")
        print(f"raw HTTP baseline (authenticated GET of one task page, same users): {float(agg.get('Requests/s', 0)):.0f} req/s, "
              f"median {agg.get('Median Response Time')} ms")
        print(f"server CPU per complete opening {per_opening * 1000:.0f} ms; floor ({REQUESTS_PER_OPENING} bare authenticated GETs) {floor * 1000:.0f} ms; "
              f"ratio {per_opening / floor:.1f}× (goal ≤ {CPU_GOAL:.0f}×; both windows include their users' sign-ins, "
              f"a password hash each); load average {os.getloadavg()[0]:.1f}")
        print(f"logs in {tmp}")
        return 0
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main())

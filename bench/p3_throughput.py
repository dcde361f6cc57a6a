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
Goal: ≥ 100 openings/s.
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
GOAL = 100.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

        before = int(_psql(url, "SELECT count(*) FROM customers_customer WHERE status = 'active'"))
        started = time.perf_counter()
        stats = locust("bench/locust/openings.py", "openings")
        elapsed = time.perf_counter() - started
        approved = int(_psql(url, "SELECT count(*) FROM customers_customer WHERE status = 'active'")) - before
        raw = locust("bench/locust/inbox_only.py", "raw")
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

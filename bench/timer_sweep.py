"""P5: N due timers swept by 2 worker processes, on PostgreSQL.

One real account opening waits at its review step with its two timers: the reminder and the
review deadline (the interrupting boundary timer that escalates to province review). Its process instance, its ready task row and its pending
timer row are cloned N-1 times with INSERT … SELECT generate_series into a throwaway schema, so
every timer is a real engine timer: firing it restores the workflow, fires the boundary event,
runs the escalation service task, opens the province review task, saves, rewrites task and timer
rows and appends the audit events. All N instances are overdue when the workers start (a backlog: the worst
case), then 2 worker processes run the sweep (`timers_sweep`, back to back: exactly what
the beat job `processes.sweep_timers` runs) until nothing is due.

Checks: every timer FIRED, exactly one `timer.fired` and one `task.escalated` audit event and
one province review task per instance. Prints the lag (time from due to fired and committed)
p50/p95/p99 and timers/s. Raw baseline in the same run: the same N rows in a bare table, swept by
2 processes with `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT 200)` (no engine).

Goal: each fires exactly once; lag p99 ≤ 60 s.

Usage: DATABASE_URL=postgres://… python bench/timer_sweep.py [--n 100000] [--workers 2]
(BENCH_PROFILE=1 prints the first worker's cProfile, sorted by cumulative time.)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCHEMA = "bench_timer_sweep"
GOAL_P99_S = 60.0
BATCH = 200


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("SKIP timer_sweep: needs PostgreSQL (set DATABASE_URL=postgres://…)")
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["PGOPTIONS"] = f"-c search_path={SCHEMA}"

    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    try:
        return _run(args, url)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        print(f"dropped schema {SCHEMA}")


def _clone_sql(model, template_filter: str, overrides: dict[str, str]) -> str:
    cols = [f.column for f in model._meta.concrete_fields if f.column != "id"]
    select = [overrides.get(c, f"t.{c}") for c in cols]
    return (
        f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) SELECT {', '.join(select)} "
        f"FROM {model._meta.db_table} t, processes_processinstance i "
        f"WHERE {template_filter} AND i.id > %(template)s"
    )


def _load(n: int) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from processes.models import ProcessInstance, Timer
    from tasks.models import HumanTask
    from tests.web.helpers import submit_opening

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    # The engine keeps each timer's due time in the workflow state: a 1-second review deadline
    # makes the template (and so every clone) overdue by the time the sweep starts.
    settings.CUSTFLOW = {**settings.CUSTFLOW, "DEADLINES": {"review": "PT1S"}}
    opening = submit_opening()
    task = HumanTask.objects.get(case_id=opening.pk, status="ready")
    template = task.instance_id
    timers = list(Timer.objects.filter(instance_id=template).values_list("spec", "status"))
    assert ("review_deadline", "pending") in timers, timers
    inst_cols = [f.column for f in ProcessInstance._meta.concrete_fields if f.column != "id"]
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO processes_processinstance ({', '.join(inst_cols)}) "
            f"SELECT {', '.join('t.' + c for c in inst_cols)} FROM processes_processinstance t, generate_series(2, %(n)s) g "
            "WHERE t.id = %(template)s",
            {"n": n, "template": template},
        )
        cursor.execute(_clone_sql(HumanTask, "t.instance_id = %(template)s AND t.status = 'ready'", {"instance_id": "i.id"}), {"template": template})
        cursor.execute(_clone_sql(Timer, "t.instance_id = %(template)s AND t.status = 'pending'", {"instance_id": "i.id"}), {"template": template})
        cursor.execute("ANALYZE")
    print(f"loaded {n:,} waiting instances (instance + ready task + pending timer each) in {time.perf_counter() - start:.1f} s", flush=True)
    return template


def _worker(url: str, out: str, go) -> None:
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.utils import timezone

    from processes.services import timers_due, timers_sweep

    fired = 0
    go.wait()
    profile = None
    if os.environ.get("BENCH_PROFILE") == "1" and out.endswith("-0.json"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    while True:  # what the beat job runs, back to back
        fired += timers_sweep(now=timezone.now())
        if not timers_due(now=timezone.now(), limit=1):
            break
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
    Path(out).write_text(json.dumps(fired))


def _raw_worker(url: str, out: str, go) -> None:
    import psycopg

    go.wait()
    batches = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            rows = conn.execute(
                "UPDATE bench_raw_timer SET status = 'fired', fired_at = clock_timestamp() WHERE id IN ("
                " SELECT id FROM bench_raw_timer WHERE status = 'pending' AND due_at <= now()"
                f" ORDER BY due_at, id LIMIT {BATCH} FOR UPDATE SKIP LOCKED) RETURNING id"
            ).fetchall()
            if not rows:
                break
            batches += 1
    Path(out).write_text(json.dumps(batches))


def _sweep(target, url: str, workers: int, tmp: Path, make_due) -> tuple[float, float, list[Path]]:
    """Start the workers, let them import Django, make every timer due, go. Returns the due
    instant (epoch seconds), the sweep's wall time and the workers' output files."""
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    outs = [tmp / f"{target.__name__}-{i}.json" for i in range(workers)]
    procs = [ctx.Process(target=target, args=(url, str(o), go)) for o in outs]
    for p in procs:
        p.start()
    time.sleep(5)  # the workers import Django and wait
    due = make_due()
    start = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
        assert p.exitcode == 0, f"worker exited with {p.exitcode}"
    return due, time.perf_counter() - start, outs


def _overdue_now() -> float:
    """The instant every timer is overdue and the workers may start (the lag's origin)."""
    return time.time()


def _run(args, url: str) -> int:
    import tempfile

    import django

    django.setup()
    from django.db import connection

    from backend.common.models import AuditEvent
    from processes.models import Timer
    from tasks.models import HumanTask

    _load(args.n)
    search_url = url + ("&" if "?" in url else "?") + f"options=-c%20search_path%3D{SCHEMA}"
    with connection.cursor() as cursor:
        # The raw baseline's table: the same N timers, no engine behind them.
        cursor.execute(
            "CREATE TABLE bench_raw_timer AS SELECT id, spec, due_at, status, fired_at FROM processes_timer WHERE status = 'pending'"
        )
        cursor.execute("ALTER TABLE bench_raw_timer ADD PRIMARY KEY (id)")
        cursor.execute("CREATE INDEX ON bench_raw_timer (due_at) WHERE status = 'pending'")
        cursor.execute("ANALYZE bench_raw_timer")
    connection.close()
    with tempfile.TemporaryDirectory() as tmp:
        raw_due, raw_seconds, _ = _sweep(_raw_worker, search_url, args.workers, Path(tmp), _overdue_now)
        with connection.cursor() as cursor:
            cursor.execute("SELECT extract(epoch FROM fired_at) FROM bench_raw_timer WHERE spec = 'review_deadline'")
            raw_lags = [float(r[0]) - raw_due for r in cursor.fetchall()]
            cursor.execute("SELECT count(*) FROM bench_raw_timer WHERE status <> 'fired'")
            assert cursor.fetchone()[0] == 0
        connection.close()
        due, seconds, outs = _sweep(_worker, search_url, args.workers, Path(tmp), _overdue_now)
        per_worker = [json.loads(o.read_text()) for o in outs]
    # Each fired exactly once: one fire step per instance (its reminder, overdue too, fires in the
    # same step), and the workers' counts of fired engine timers add up.
    per_instance = Counter(AuditEvent.objects.filter(action="timer.fired").values_list("process_instance_id", flat=True))
    assert len(per_instance) == args.n and set(per_instance.values()) == {1}, Counter(per_instance.values())
    assert sum(per_worker) == Timer.objects.filter(status="fired").count()
    assert Timer.objects.filter(status="pending").count() == 0
    assert Timer.objects.filter(status="fired", spec="review_deadline").count() == args.n
    assert AuditEvent.objects.filter(action="timer.fired").count() == args.n
    assert AuditEvent.objects.filter(action="task.escalated").count() == args.n
    assert AuditEvent.objects.filter(action="task.escalated").values("process_instance_id").distinct().count() == args.n
    assert HumanTask.objects.filter(step="province_review", status="ready").count() == args.n
    assert HumanTask.objects.filter(step="review", status="ready").count() == 0
    # Lag: from the go instant to the fire step (its audit event's time, inside the step).
    stamps = AuditEvent.objects.filter(action="timer.fired").values_list("created_at", flat=True)
    ours = _percentiles([t.timestamp() - due for t in stamps])
    raw = _percentiles(raw_lags)
    rate, raw_rate = args.n / seconds, args.n / raw_seconds
    print(f"{args.n:,} due timers, {args.workers} worker processes: each fired exactly once "
          f"({args.n:,} timer.fired events, {args.n:,} escalations, {args.n:,} province review tasks); "
          f"engine timers fired per worker: {', '.join(str(r) for r in per_worker)}")
    print(f"ours: {seconds:.1f} s, {rate:,.0f} timers/s; lag p50 {ours['p50']:.1f} s, p95 {ours['p95']:.1f} s, "
          f"p99 {ours['p99']:.1f} s, max {ours['max']:.1f} s")
    print(f"raw SKIP LOCKED UPDATE loop (no engine): {raw_seconds:.2f} s, {raw_rate:,.0f} timers/s; lag p50 "
          f"{raw['p50']:.2f} s, p99 {raw['p99']:.2f} s")
    print(f"ours ÷ raw (time): {seconds / raw_seconds:.0f}×; goal lag p99 ≤ {GOAL_P99_S:.0f} s: "
          f"{'met' if ours['p99'] <= GOAL_P99_S else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

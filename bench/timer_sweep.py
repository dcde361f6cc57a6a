"""P5: N due timers swept by 2 worker processes, on PostgreSQL, isolation on and off side by side.

One real account opening waits at its review step with its two timers: the reminder and the
review deadline (the interrupting boundary timer that escalates to province review). Its process
instance, its ready task row and its pending timer row are cloned N-1 times with INSERT … SELECT
generate_series into a throwaway schema, so every timer is a real engine timer: firing it
restores the workflow, fires the boundary event, runs the escalation service task, opens the
province review task, saves, rewrites task and timer rows and appends the audit events.

Each run works on a fresh copy of the loaded database (CREATE DATABASE … TEMPLATE), all N
overdue when the workers start (a backlog: the worst case). 2 worker processes each run the beat
job's sweep (`processes.sweep.sweep_until_done`) until nothing is due, once with the production
setting (step isolation on: each batch in one bounded child) and once with isolation off, in
alternation, `--repeat` times (median reported). Raw baseline in the same run: the same N rows in
a bare table swept by 2 processes with `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED
LIMIT 200)` (no engine).

Checks, for every run: every timer FIRED, exactly one `timer.fired` and one `task.escalated` audit
event and one province review task per instance, no incident. Prints timers/s and the lag (time
from the go instant to the fire step) p50/p95/p99 per mode, the medians, and the cost of isolation.

Usage: DATABASE_URL=postgres://… python bench/timer_sweep.py [--n 3000] [--workers 2] [--repeat 3]
(BENCH_PROFILE=1 prints the first worker's cProfile, sorted by cumulative time.)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
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
    parser.add_argument("--n", type=int, default=3_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="on,off", help="isolation modes to run, in this order")
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
        cursor.execute(
            _clone_sql(
                HumanTask, "t.instance_id = %(template)s AND t.status = 'ready'", {"instance_id": "i.id"}
            ),
            {"template": template},
        )
        cursor.execute(
            _clone_sql(
                Timer, "t.instance_id = %(template)s AND t.status = 'pending'", {"instance_id": "i.id"}
            ),
            {"template": template},
        )
        cursor.execute("ANALYZE")
    print(
        f"loaded {n:,} waiting instances (instance + ready task + pending timer each) in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    return template


def _worker(url: str, out: str, go) -> None:
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.utils import timezone

    from processes.services import timers_due
    from processes.sweep import sweep_until_done

    fired = 0
    go.wait()
    profile = None
    if os.environ.get("BENCH_PROFILE") == "1" and out.endswith("-0.json"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    while True:  # what the beat job runs, back to back
        fired += sweep_until_done(max_seconds=3600)
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
    instant (epoch seconds), the sweep's wall time and the workers' output files. The workers
    inherit the environment (CUSTFLOW_TIMER_STEP_ISOLATION says the mode)."""
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


def _copy_url(url: str, copy: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + copy + (f"?{query}" if query else "")


def _check(conn, n: int, per_worker: list[int]) -> None:
    """Every timer fired exactly once, from the rows of the run's copy."""
    from backend.common.models import AuditEvent
    from processes.models import ProcessIncident, Timer
    from tasks.models import HumanTask

    audit, timer, task = AuditEvent._meta.db_table, Timer._meta.db_table, HumanTask._meta.db_table
    incident = ProcessIncident._meta.db_table

    def one(sql: str) -> int:
        return conn.execute(sql).fetchone()[0]

    fired = one(f"SELECT count(*) FROM {audit} WHERE action = 'timer.fired'")
    per_instance = one(
        f"SELECT count(DISTINCT process_instance_id) FROM {audit} WHERE action = 'timer.fired'"
    )
    assert fired == n and per_instance == n, (fired, per_instance)
    assert sum(per_worker) == one(f"SELECT count(*) FROM {timer} WHERE status = 'fired'")
    assert one(f"SELECT count(*) FROM {timer} WHERE status = 'pending'") == 0
    assert one(f"SELECT count(*) FROM {timer} WHERE status = 'fired' AND spec = 'review_deadline'") == n
    assert one(f"SELECT count(*) FROM {audit} WHERE action = 'task.escalated'") == n
    assert (
        one(f"SELECT count(DISTINCT process_instance_id) FROM {audit} WHERE action = 'task.escalated'") == n
    )
    assert one(f"SELECT count(*) FROM {task} WHERE step = 'province_review' AND status = 'ready'") == n
    assert one(f"SELECT count(*) FROM {task} WHERE step = 'review' AND status = 'ready'") == 0
    assert one(f"SELECT count(*) FROM {incident}") == 0


def _one_run(args, url: str, name: str, isolation: bool, tmp: Path) -> dict:
    """One sweep of all N on a fresh copy of the loaded database."""
    import psycopg

    from backend.common.models import AuditEvent

    copy = f"{name}_sweep_copy"
    admin_url = _copy_url(url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    copy_url = _copy_url(url, copy)
    search_url = copy_url + ("&" if "?" in copy_url else "?") + f"options=-c%20search_path%3D{SCHEMA}"
    os.environ["CUSTFLOW_TIMER_STEP_ISOLATION"] = "1" if isolation else "0"
    try:
        due, seconds, outs = _sweep(_worker, search_url, args.workers, tmp, _overdue_now)
        per_worker = [json.loads(o.read_text()) for o in outs]
        with psycopg.connect(search_url, autocommit=True) as conn:
            _check(conn, args.n, per_worker)
            stamps = conn.execute(
                f"SELECT extract(epoch FROM created_at) FROM {AuditEvent._meta.db_table} WHERE action = 'timer.fired'"
            ).fetchall()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    lag = _percentiles([float(t[0]) - due for t in stamps])
    return {"seconds": seconds, "rate": args.n / seconds, "lag": lag, "per_worker": per_worker}


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _run(args, url: str) -> int:
    import tempfile

    import django

    django.setup()
    from django.db import connection, connections

    _load(args.n)
    name = url.rsplit("/", 1)[1].split("?")[0]
    search_url = url + ("&" if "?" in url else "?") + f"options=-c%20search_path%3D{SCHEMA}"
    with connection.cursor() as cursor:
        # The raw baseline's table: the same N timers, no engine behind them.
        cursor.execute(
            "CREATE TABLE bench_raw_timer AS SELECT id, spec, due_at, status, fired_at FROM processes_timer WHERE status = 'pending'"
        )
        cursor.execute("ALTER TABLE bench_raw_timer ADD PRIMARY KEY (id)")
        cursor.execute("CREATE INDEX ON bench_raw_timer (due_at) WHERE status = 'pending'")
        cursor.execute("ANALYZE bench_raw_timer")
    connections.close_all()
    modes = [m.strip() == "on" for m in args.modes.split(",") if m.strip()]
    runs: dict[bool, list[dict]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        raw_due, raw_seconds, _ = _sweep(_raw_worker, search_url, args.workers, Path(tmp), _overdue_now)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM bench_raw_timer WHERE status <> 'fired'")
            assert cursor.fetchone()[0] == 0
        connections.close_all()
        for rep in range(args.repeat):
            for isolation in modes:
                run = _one_run(args, url, name, isolation, Path(tmp))
                runs[isolation].append(run)
                print(
                    f"run {rep + 1}, isolation {'on ' if isolation else 'off'}: {run['seconds']:.1f} s, "
                    f"{run['rate']:,.0f} timers/s; lag p50 {run['lag']['p50']:.1f} s, p99 {run['lag']['p99']:.1f} s; "
                    f"engine timers fired per worker: {', '.join(str(r) for r in run['per_worker'])}; "
                    f"load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    raw_rate = args.n / raw_seconds
    print(
        f"{args.n:,} due timers, {args.workers} worker processes, {args.repeat} run(s) per mode: every run fired each "
        f"timer exactly once ({args.n:,} timer.fired events, {args.n:,} escalations, {args.n:,} province review tasks, "
        "no incident)"
    )
    medians = {}
    for isolation in modes:
        rate = _median([r["rate"] for r in runs[isolation]])
        p99 = _median([r["lag"]["p99"] for r in runs[isolation]])
        medians[isolation] = rate
        print(
            f"median, isolation {'on (production)' if isolation else 'off'}: {rate:,.0f} timers/s, lag p99 {p99:.1f} s"
        )
    if len(medians) == 2:
        print(f"cost of isolation: on ÷ off = {medians[True] / medians[False]:.2f} (throughput ratio)")
    print(f"raw SKIP LOCKED UPDATE loop (no engine): {raw_seconds:.2f} s, {raw_rate:,.0f} timers/s")
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

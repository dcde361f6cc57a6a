"""P7: the SLA report over N tasks of one month, by org unit × step, on PostgreSQL.

Loads N human tasks with one INSERT … SELECT generate_series into a throwaway schema (created
here, dropped at the end), all with deadlines in one month, spread over the demo org units,
three processes and five steps, in every SLA state; ANALYZEs; then times

- ours: `report_query_clean` + `sla_report` as head-office compliance (scope filter, eight
  conditional counts, labels), exactly what the API view calls;
- raw: the same SQL statement (captured from ours) through a plain cursor.

Prints the median and best of several runs. Goal: ours ≤ 1 s at N = 1,000,000.

Usage: DATABASE_URL=postgres://…/db python bench/sla_report.py [--n 1000000] [--runs 5]
(skips with a message when DATABASE_URL is not PostgreSQL)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCHEMA = "bench_sla_report"
GOAL_S = 1.0
MONTH = "2026-03-01"

LOAD_SQL = """
INSERT INTO tasks_humantask (
    instance_id, engine_task_id, step, name, process_key, process_name, lane, role, org_unit_id,
    assignee_id, four_eyes, initiator_id, form_key, status, due_at, flags, case_type, case_id,
    customer_id, created_at, claimed_at, completed_at, completed_by_id, outcome, result, delegate_result
)
SELECT %(instance)s, 'bench-' || g,
       (ARRAY['review','province_review','fix','identity_review','apply'])[1 + g %% 5],
       (ARRAY['审核','省级审核','补正','身份审核','生效'])[1 + g %% 5],
       (ARRAY['individual_account_opening','customer_amendment','endorsement'])[1 + g %% 3],
       (ARRAY['个人客户开户','客户信息修改','批改'])[1 + g %% 3],
       'city_reviewer', 'reviewer', (%(units)s::bigint[])[1 + (g / 7) %% %(n_units)s],
       CASE WHEN g %% 4 = 0 THEN NULL ELSE (%(users)s::bigint[])[1 + g %% %(n_users)s] END,
       false, NULL, 'review',
       CASE WHEN g %% 10 < 7 THEN 'completed' WHEN g %% 10 = 7 THEN 'cancelled' ELSE 'ready' END,
       due, '[]', '', NULL, NULL, due - interval '48 hours', NULL,
       CASE WHEN g %% 10 < 7 THEN due + ((g %% 97) - 70) * interval '1 hour' END,
       CASE WHEN g %% 10 < 7 THEN (%(users)s::bigint[])[1 + g %% %(n_users)s] END,
       CASE WHEN g %% 10 < 7 THEN 'approve' WHEN g %% 10 = 7 THEN
            (CASE WHEN g %% 3 = 0 THEN 'cancelled' ELSE 'escalated' END) ELSE '' END,
       '{}', '{}'
FROM (
    SELECT g, TIMESTAMPTZ '2026-03-01 00:00:00+08' + ((g::bigint * 2654435761) %% 2678400) * interval '1 second' AS due
    FROM generate_series(1, %(n)s) AS g
) AS src
"""


def _database() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["PGOPTIONS"] = f"-c search_path={SCHEMA}"
    return url


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the loaded schema for --reuse")
    parser.add_argument("--reuse", action="store_true", help="reuse a schema kept by --keep")
    args = parser.parse_args()
    url = _database()
    if url is None:
        print("SKIP sla_report: needs PostgreSQL (set DATABASE_URL=postgres://…)")
        return 0
    import psycopg

    if not args.reuse:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            conn.execute(f"CREATE SCHEMA {SCHEMA}")
    try:
        return _run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            print(f"dropped schema {SCHEMA}")


def _run(args) -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from backend.organisation.models import OrgUnit
    from backend.reports.selectors import report_query_clean, sla_report
    from processes.models import ProcessInstance, ProcessVersion

    t0 = time.perf_counter()
    if not args.reuse:
        call_command("migrate", verbosity=0)
        call_command("seed_demo", stdout=open(os.devnull, "w"))
        units = list(OrgUnit.objects.values_list("pk", flat=True))
        users = list(get_user_model().objects.values_list("pk", flat=True))
        instance = ProcessInstance.objects.create(version=ProcessVersion.objects.first(), org_unit_id=units[0])
        with connection.cursor() as cursor:
            cursor.execute(
                LOAD_SQL,
                {
                    "instance": instance.pk,
                    "units": units,
                    "n_units": len(units),
                    "users": users,
                    "n_users": len(users),
                    "n": args.n,
                },
            )
            cursor.execute("ANALYZE tasks_humantask")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tasks_humantask")
        total = cursor.fetchone()[0]
    print(
        f"P7 SLA report: {total:,} tasks loaded in {time.perf_counter() - t0:.1f} s (deadlines in {MONTH[:7]})"
    )

    reader = get_user_model().objects.get(username="compliance.ho")
    params = {"from": MONTH, "to": "2026-03-31", "group_by": "org_unit,step"}

    def ours():
        query = report_query_clean(user=reader, params=params)
        return sla_report(user=reader, query=query)

    report = ours()  # warm up (and the user's roles cache)
    with CaptureQueriesContext(connection) as captured:
        ours()
    statement = [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"]][0]

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall()

    raw()
    ours_t, raw_t = [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        ours()
        ours_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        raw()
        raw_t.append(time.perf_counter() - t)
    print(
        f"  rows: {len(report['rows'])} (org unit × step), tasks counted: {report['totals']['total']:,}, breached {report['totals']['breached']:,}"
    )
    print(
        f"  ours (report_query_clean + sla_report): median {statistics.median(ours_t) * 1000:.0f} ms, best {min(ours_t) * 1000:.0f} ms"
    )
    print(
        f"  raw SQL (same GROUP BY statement):      median {statistics.median(raw_t) * 1000:.0f} ms, best {min(raw_t) * 1000:.0f} ms"
    )
    print(
        f"  ours/raw = {statistics.median(ours_t) / statistics.median(raw_t):.2f}; goal ours <= {GOAL_S:.0f} s: {'OK' if statistics.median(ours_t) <= GOAL_S else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

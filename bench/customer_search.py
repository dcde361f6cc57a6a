"""S1: exact customer search (客户业务关联查询) at scale, on PostgreSQL.

Loads N individual customers with one INSERT … SELECT generate_series into a throwaway schema
(created here, dropped at the end; the test databases are not touched), ANALYZEs, then times
500 exact searches by id number and 500 by phone:

- ours: the API's path without HTTP — `customer_search_clean` + `customer_list` (scope filter
  of a province reviewer, the page's COUNT and its first page of 50 rows) + `customer_view`
  masking of each row;
- raw: the very same two SQL statements (captured from ours) through a plain cursor.

Prints p50/p95/p99 in ms and ours/raw. Goal: p95 ≤ 20 ms.

Usage: DATABASE_URL=postgres://… python bench/customer_search.py [--n 1000000] [--queries 500]
(skips with a message when DATABASE_URL is not PostgreSQL)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCHEMA = "bench_customer_search"
GOAL_P95_MS = 20.0
PAGE_SIZE = 50  # REST_FRAMEWORK["PAGE_SIZE"]

# One statement: valid-looking 18-digit resident ids (GB 11643 check character), unique by
# construction ((g / 1000, g % 1000) → (birth date, sequence)); +86 mobile numbers, every 20th
# customer sharing the number of another; common names; three city branches.
LOAD_SQL = """
INSERT INTO customers_customer (
    customer_type, name, id_type, id_number, birth_date, gender, phone, address, email,
    legal_rep_name, legal_rep_id_type, legal_rep_id_number, contact_person, info_level, status,
    org_unit_id, collected_by_id, created_at, updated_at, activated_at, last_verified_at, version
)
SELECT 'individual',
       (ARRAY['王','李','张','刘','陈','杨','黄','赵','吴','周','徐','孙','马','朱','胡','郭','何','林','罗','高'])[1 + g %% 20]
         || (ARRAY['伟','芳','娜','秀英','敏','静','丽','强','磊','军','洋','勇','艳','杰','娟','涛','明','超','秀兰','霞',
                   '平','刚','桂英','建华','文','华','红','玉兰','建国','志强','晓东','海燕','子涵','浩然','欣怡','宇轩',
                   '梓萱','俊杰','佳怡','雨桐','一诺','思远','嘉怡','博文','晨曦','天佑','若曦','明轩','诗涵','睿'])[1 + (g / 20) %% 50],
       'resident_id',
       body || substr('10X98765432', 1 + (
           SELECT sum(substr(body, i, 1)::int * (ARRAY[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2])[i])::int %% 11
           FROM generate_series(1, 17) AS i), 1),
       birth,
       CASE WHEN (g %% 1000) %% 2 = 1 THEN 'M' ELSE 'F' END,
       '+861' || (ARRAY['38','39','58','86','35','37'])[1 + pk %% 6] || lpad(((pk::bigint * 7919) %% 100000000)::text, 8, '0'),
       '深圳市福田区福华路 ' || g || ' 号', '', '', '', '', '', 'advanced', 'active',
       (%(units)s::bigint[])[1 + g %% 3], NULL, now(), now(), now() - (g %% 700) * interval '1 day', NULL, 1
FROM (
    SELECT g,
           CASE WHEN g %% 20 = 0 THEN g / 20 + 1 ELSE g END AS pk,
           DATE '1960-01-01' + (g / 1000) * 13 AS birth,
           (ARRAY['440304','440305','440106','440104','330106','110101'])[1 + g %% 6]
             || to_char(DATE '1960-01-01' + (g / 1000) * 13, 'YYYYMMDD') || lpad((g %% 1000)::text, 3, '0') AS body
    FROM generate_series(1, %(n)s) AS g
) AS src
"""


def _database() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")
    os.environ["DJANGO_DEBUG"] = "0"  # no query log
    # Every connection (Django's and the raw one) works inside the throwaway schema.
    os.environ["PGOPTIONS"] = f"-c search_path={SCHEMA}"
    return url


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))] * 1000

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "mean": statistics.mean(ordered) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    url = _database()
    if url is None:
        print("SKIP customer_search: needs PostgreSQL (set DATABASE_URL=postgres://…)")
        return 0

    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    created_db = False
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            created_db = True
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    try:
        return _run(args)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        if created_db:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        print(f"dropped schema {SCHEMA}" + (f" and database {name}" if created_db else ""))


def _run(args) -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from backend.customers.selectors import customer_list, customer_search_clean, customer_view
    from backend.organisation.models import OrgUnit

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    units = [OrgUnit.objects.get(code=c).pk for c in ("GD-SZ", "GD-GZ", "ZJ-HZ")]
    with connection.cursor() as cursor:
        t1 = time.perf_counter()
        cursor.execute(LOAD_SQL, {"units": units, "n": args.n})
        t2 = time.perf_counter()
        cursor.execute("ANALYZE customers_customer")
        cursor.execute(
            "SELECT count(*), count(DISTINCT id_number), count(DISTINCT phone) FROM customers_customer"
        )
        total, ids, phones = cursor.fetchone()
        rng = random.Random(2026)
        cursor.execute(
            "SELECT id_number, phone FROM customers_customer TABLESAMPLE SYSTEM (5) REPEATABLE (7)"
        )
        pool = cursor.fetchall()
    print(
        f"loaded {total:,} customers ({ids:,} distinct ids, {phones:,} distinct phones) in "
        f"{t2 - t1:.1f} s (+ migrate/seed {t1 - t0:.1f} s)"
    )
    rng.shuffle(pool)
    id_values = [r[0] for r in pool[: args.queries]]
    phone_values = [r[1][3:] for r in pool[: args.queries]]  # typed in national form: 138…
    user = get_user_model().objects.get(username="reviewer.gd")  # province scope: 2 of 3 cities

    def ours(key: str, value: str) -> int:
        qs = customer_list(user=user, search=customer_search_clean({key: value}))
        count = qs.count()
        rows = [customer_view(user=user, customer=c, purpose="list") for c in qs[:PAGE_SIZE]] if count else []
        return len(rows)

    results = {}
    for key, values in (("id_number", id_values), ("phone", phone_values)):
        statements = []
        found = 0
        for value in values:  # capture the exact SQL (and warm the caches)
            with CaptureQueriesContext(connection) as captured:
                found += bool(ours(key, value))
            statements.append([q["sql"] for q in captured.captured_queries])
        ours_s, raw_s = [], []
        for value in values:
            start = time.perf_counter()
            ours(key, value)
            ours_s.append(time.perf_counter() - start)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the driver's cursor: no Django wrapper
            for sqls in statements:
                start = time.perf_counter()
                for sql in sqls:
                    raw.execute(sql)
                    raw.fetchall()
                raw_s.append(time.perf_counter() - start)
        o, r = _percentiles(ours_s), _percentiles(raw_s)
        results[key] = (o, r)
        print(
            f"{key:9s} {len(values)} searches ({found} with hits in scope): "
            f"ours p50 {o['p50']:.2f} p95 {o['p95']:.2f} p99 {o['p99']:.2f} ms | "
            f"raw p50 {r['p50']:.2f} p95 {r['p95']:.2f} p99 {r['p99']:.2f} ms | "
            f"ours/raw (p50) {o['p50'] / r['p50']:.2f}×"
        )
        with connection.cursor() as cursor:
            # The plans of one search with hits (its COUNT and its page), role lookup left out.
            sample = next((s for s in statements if len(s) >= 2), statements[0])
            for sql in [s for s in sample if "customers_customer" in s]:
                cursor.execute("EXPLAIN " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                scans = sorted(
                    {
                        line.strip().split(" on ")[0].lstrip("-> ")
                        for line in plan.splitlines()
                        if " on " in line
                    }
                )
                print(f"  plan: {' | '.join(scans)}")
                if "Seq Scan on customers_customer" in plan:
                    print("  WARNING: sequential scan of customers_customer\n" + plan)
    worst = max(o["p95"] for o, _ in results.values())
    print(
        f"goal p95 ≤ {GOAL_P95_MS:.0f} ms: {'met' if worst <= GOAL_P95_MS else 'NOT met'} (worst p95 {worst:.2f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""I1: historical customer import (历史数据的清洗) on PostgreSQL.

Writes a CSV of N rows (5 % bad: half with an invalid id number → suspicious-row review tasks,
half without a name → row errors) in GBK, then, in a throwaway schema:

- ours: a fresh process runs `import_batch_create` + `import_batch_run` (validation with the
  live opening's rules, duplicate/blacklist/shared-phone lookups, customers, per-row results,
  review tasks, the result XLSX); prints rows/s and the process's peak RSS. The same is done
  for a file of N/10 rows: peak memory must not grow with the file;
- raw: the valid rows inserted into customers_customer with plain `executemany` INSERTs in
  batches of 1,000 (no validation, no results), after emptying the table.

Usage: DATABASE_URL=postgres://… python bench/customer_import.py [--n 100000]
(skips with a message when DATABASE_URL is not PostgreSQL)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCHEMA = "bench_customer_import"
GOAL_ROWS_PER_S = 1000
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰"]


def _resident_id(g: int) -> str:
    birth = date(1950, 1, 1) + timedelta(days=g // 1000)
    body = f"440305{birth:%Y%m%d}{g % 1000:03d}"
    return body + _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def write_file(path: Path, n: int, seed: int = 2026) -> int:
    """Returns how many rows are good."""
    rng = random.Random(seed)
    good = 0
    with open(path, "w", encoding="gbk", newline="") as f:
        w = csv.writer(f)
        w.writerow(["姓名", "证件类型", "证件号码", "联系电话", "通讯地址"])
        for g in range(1, n + 1):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            number = _resident_id(g)
            phone = f"139{g:08d}"
            kind = g % 40
            if kind == 0:  # 2.5 %: wrong check character
                number = number[:-1] + ("1" if number[-1] != "1" else "2")
            elif kind == 20:  # 2.5 %: no name
                name = ""
            else:
                good += 1
            w.writerow([name, "居民身份证", number, phone, f"深圳市南山区科技园 {g} 号"])
    return good


def _database() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["PGOPTIONS"] = f"-c search_path={SCHEMA}"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    return url


def worker(path: str) -> int:
    """Child process: one import, its figures as JSON on stdout."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from backend.integrations.imports import import_batch_create, import_batch_run

    user = get_user_model().objects.get(username="officer.sz")
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    profile = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    with open(path, "rb") as f:  # eager Celery: the job runs here when the upload commits
        batch = import_batch_create(actor=user, fileobj=f, filename=Path(path).name)
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    batch = import_batch_run(batch_id=batch.pk)  # already done: returns the batch
    elapsed = time.perf_counter() - start
    # The review tasks are started by a follow-up job (here eager, after the import's commit):
    # the import's own time ends when the batch is marked done.
    import_seconds = (batch.finished_at - batch.created_at).total_seconds()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": batch.processed_rows,
                "seconds": import_seconds,
                "with_reviews_seconds": elapsed,
                "counts": batch.counts,
                "status": batch.status,
                "peak_rss_mb": peak / 1024,
                "base_rss_mb": base_rss / 1024,
            }
        )
    )
    return 0


def _ours(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    if os.environ.get("BENCH_PROFILE"):
        print(out.stderr[-12000:])
    if out.returncode != 0:
        print(out.stderr[-3000:])
        raise SystemExit("worker failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _raw(path: Path, org_unit_id: int) -> tuple[int, float]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE customers_customer CASCADE")
    sql = (
        "INSERT INTO customers_customer (customer_type, name, id_type, id_number, birth_date, gender, phone, address, email,"
        " legal_rep_name, legal_rep_id_type, legal_rep_id_number, contact_person, info_level, status, org_unit_id,"
        " created_at, updated_at, activated_at, version) VALUES"
        " ('individual', %s, 'resident_id', %s, NULL, '', %s, %s, '', '', '', '', '', 'primary', 'active', %s, now(), now(), now(), 1)"
    )
    n = 0
    start = time.perf_counter()
    with open(path, encoding="gbk", newline="") as f, connection.cursor() as cursor:
        raw = cursor.cursor
        reader = csv.reader(f)
        next(reader)
        batch = []
        for name, _t, number, phone, address in reader:
            if not name or number[-1] not in "0123456789X":
                continue
            batch.append((name, number, "+86" + phone, address, org_unit_id))
            if len(batch) == 1000:
                raw.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            raw.executemany(sql, batch)
            n += len(batch)
    connection.commit() if not connection.get_autocommit() else None
    return n, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--worker")
    args = parser.parse_args()
    url = _database()
    if url is None:
        print("SKIP customer_import: needs PostgreSQL (set DATABASE_URL=postgres://…)")
        return 0
    if args.worker:
        return worker(args.worker)
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    tmp = Path(tempfile.mkdtemp(prefix="custflow-import-bench-"))
    os.environ["CUSTFLOW_MEDIA_ROOT"] = str(tmp / "media")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from backend.organisation.models import OrgUnit

        call_command("migrate", verbosity=0)
        call_command("seed_demo", stdout=open(os.devnull, "w"))
        small, big = tmp / "small.csv", tmp / "big.csv"
        write_file(small, max(args.n // 10, 100), seed=1)
        good = write_file(big, args.n, seed=2)
        print(
            f"file: {args.n:,} rows ({good:,} good, {args.n - good:,} bad), {big.stat().st_size / 1e6:.1f} MB GBK CSV"
        )
        s = _ours(small)
        from django.db import connection

        with connection.cursor() as cursor:  # the big file starts from an empty customer table
            cursor.execute("TRUNCATE customers_customer, integrations_importrow CASCADE")
        b = _ours(big)
        for label, r in (("small", s), ("full", b)):
            print(
                f"ours {label:5s}: {r['rows']:,} rows in {r['seconds']:.1f} s = {r['rows'] / r['seconds']:,.0f} rows/s "
                f"(+ review tasks started by the follow-up job: {r['with_reviews_seconds'] - r['seconds']:.1f} s), "
                f"peak RSS {r['peak_rss_mb']:.0f} MB (after setup {r['base_rss_mb']:.0f} MB), {r['status']} {r['counts']}"
            )
        accounted = sum(b["counts"].values())
        print(
            f"every row accounted for: {accounted:,} of {args.n:,} ({'yes' if accounted == args.n else 'NO'})"
        )
        n, seconds = _raw(big, OrgUnit.objects.get(code="GD-SZ").pk)
        print(f"raw INSERT: {n:,} rows in {seconds:.1f} s = {n / seconds:,.0f} rows/s")
        rate = b["rows"] / b["seconds"]
        print(
            f"ours/raw time per row: {(b['seconds'] / b['rows']) / (seconds / n):.1f}×; "
            f"goal ≥ {GOAL_ROWS_PER_S:,} rows/s: {'met' if rate >= GOAL_ROWS_PER_S else 'NOT met'}; "
            f"peak RSS growth small→full: {b['peak_rss_mb'] - s['peak_rss_mb']:+.0f} MB"
        )
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        print(f"dropped schema {SCHEMA}")


if __name__ == "__main__":
    sys.exit(main())

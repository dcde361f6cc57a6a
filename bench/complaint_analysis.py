"""客户投诉分析表 over N complaints of one month (plus a fifth as many the month before, for
the repeat window), on the configured database (SQLite by default, PostgreSQL with
DATABASE_URL).

Creates a throwaway test database (Django's test-database machinery: `test_<name>`), loads the
demo org tree, bulk-creates the complaints with tests/complaints/factories.seed_month (every
state, repeats, merges, corrective actions), ANALYZEs, then times as head-office compliance:

- figures: `complaint_analysis` (three grouped queries: complaints, merges, actions);
- drill-down: `analysis_cases(metric="repeat")` counted, and its first page of 50 rows.

Prints the median and best of several runs, and the number of queries of one report.

Usage: [DATABASE_URL=postgres://…/db] python bench/complaint_analysis.py [--n 50000] [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from django.contrib.auth import get_user_model

        from backend.complaints.analysis import analysis_cases, complaint_analysis, month_parse
        from tests.complaints.factories import seed_month

        call_command("seed_demo", stdout=io.StringIO())
        month = dt.date(2026, 10, 1)
        started = time.perf_counter()
        seed_month(month=month, count=args.n, today=dt.date(2026, 11, 20), seed=7)
        load_s = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        user = get_user_model().objects.get(username="compliance.ho")
        m = month_parse("2026-10")

        def timed(fn) -> list[float]:
            out = []
            for _ in range(args.runs):
                t = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t)
            return out

        report_times = timed(lambda: complaint_analysis(user=user, month=m))
        with CaptureQueriesContext(connection) as ctx:
            report = complaint_analysis(user=user, month=m)
        drill_times = timed(lambda: analysis_cases(user=user, month=m, metric="repeat").count())
        page_times = timed(lambda: list(analysis_cases(user=user, month=m, metric="repeat")[:50]))
        print(
            f"database: {connection.vendor}; complaints in the month: {report['totals']['total']:,} "
            f"(+{args.n // 5 + 20:,} around it), loaded in {load_s:.1f} s"
        )
        print(f"queries per report: {len(ctx.captured_queries)}")
        for name, times in (
            ("figures", report_times),
            ("drill-down count (repeat)", drill_times),
            ("drill-down page", page_times),
        ):
            print(
                f"{name:28s} median {statistics.median(times) * 1000:8.1f} ms   best {min(times) * 1000:8.1f} ms"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

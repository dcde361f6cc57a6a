"""Runs every benchmark with one command: `python bench/run.py [--small|--full]`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    full = "--full" in sys.argv
    runs = [
        [sys.executable, str(BENCH / "engine_bench.py"), *(["--full"] if full else [])],
        [
            sys.executable,
            str(BENCH / "persisted_step.py"),
            "--rounds",
            "1000" if full else "200",
            "--samples",
            "30" if full else "15",
        ],
        # Works in a throwaway schema of the bench database (skips itself without PostgreSQL).
        [sys.executable, str(BENCH / "customer_search.py"), "--n", "1000000" if full else "20000"],
        [sys.executable, str(BENCH / "inbox_page.py"), "--n", "1000000" if full else "20000", "--queries", "200" if full else "50"],
        # Historical import: 5 % bad rows, ours vs raw INSERT, peak memory (PostgreSQL only).
        [sys.executable, str(BENCH / "customer_import.py"), "--n", "100000" if full else "2000"],
        # P7: SLA report by org unit × step over one month (throwaway schema; PostgreSQL only).
        [sys.executable, str(BENCH / "sla_report.py"), "--n", "1000000" if full else "20000", "--runs", "5" if full else "3"],
        # P5: N overdue review deadlines swept by 2 worker processes vs a raw SKIP LOCKED loop (PostgreSQL only).
        # (isolation on, as in production, and off, side by side; median of 3)
        [sys.executable, str(BENCH / "timer_sweep.py"), "--n", "30000" if full else "300"],
        # Issue 22: the production layout (gunicorn, 2 workers, beat, private redis, throwaway
        # database) under worker/broker/database faults, verified from the rows (3 × n timers).
        [sys.executable, str(BENCH / "faults.py"), "--n", "3000" if full else "100"],
        # 客户投诉分析表 over one month of complaints (a throwaway test database; SQLite unless
        # DATABASE_URL says otherwise).
        [sys.executable, str(BENCH / "complaint_analysis.py"), "--n", "100000" if full else "5000", "--runs", "5" if full else "3"],
        # Scripts through the sandbox worker pool vs in-process evaluation (issue 15 control 3).
        [sys.executable, str(BENCH / "script_pool.py"), "--n", "2000" if full else "200"],
        # P6: rendered + signed forms ÷ raw WeasyPrint on the same template, one process.
        [sys.executable, str(BENCH / "signed_forms.py"), "--n", "30" if full else "5"],
    ]
    status = 0
    for cmd in runs:
        print(f"== {Path(cmd[1]).name} ==", flush=True)
        env = dict(os.environ)
        if cmd[1].endswith(("customer_search.py", "inbox_page.py", "customer_import.py", "sla_report.py", "timer_sweep.py", "faults.py")):
            env["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/custflow_bench")
        status |= subprocess.call(cmd, cwd=BENCH.parent, env=env)
    return status


if __name__ == "__main__":
    sys.exit(main())

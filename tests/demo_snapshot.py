"""The demo seed once per test database instead of once per test.

`seed_demo` costs 0.5–1 s (users, roles, deploying every diagram). `DemoSnapshot.take()` runs it
once, committed, copies every table it filled into a side table (`CREATE TABLE … AS SELECT`,
invisible to Django: flushes and migrations leave it alone), then empties those tables again so
that a test without the `demo` fixture still starts from an empty database. `restore()` copies
the rows back inside the test's transaction with one `INSERT … SELECT` per table: the same
primary keys, timestamps and audit chain every time, rolled back with the test (or flushed after
a transactional test). Tables that already held rows before the seed (content types,
permissions, reference data from migrations) must not be touched by the seed; `take()` refuses
to run if they are, rather than restore half a seed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.management import call_command
from django.db import connection, transaction

PREFIX = "demo_snap__"


def _counts(cursor, tables: list[str]) -> dict[str, int]:
    qn = connection.ops.quote_name
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {qn(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


@dataclass(frozen=True)
class DemoSnapshot:
    tables: tuple[str, ...]

    @classmethod
    def take(cls) -> DemoSnapshot:
        qn = connection.ops.quote_name
        tables = sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))
        with connection.cursor() as cursor:
            before = _counts(cursor, tables)
        call_command("seed_demo", stdout=io.StringIO())
        with connection.cursor() as cursor:
            after = _counts(cursor, tables)
        grown = [t for t in tables if after[t] != before[t]]
        mixed = [t for t in grown if before[t]]
        if mixed:
            raise RuntimeError(f"seed_demo wrote to tables that held rows before it: {mixed}")
        with transaction.atomic(), connection.cursor() as cursor:
            for table in grown:
                cursor.execute(f"DROP TABLE IF EXISTS {qn(PREFIX + table)}")
                cursor.execute(f"CREATE TABLE {qn(PREFIX + table)} AS SELECT * FROM {qn(table)}")
            # Foreign keys are deferred (Django creates them so): the order of deletion is free.
            for table in grown:
                cursor.execute(f"DELETE FROM {qn(table)}")
        return cls(tables=tuple(grown))

    def restore(self) -> None:
        qn = connection.ops.quote_name
        # One transaction (a savepoint inside a test's): foreign keys are checked at its end.
        with transaction.atomic(), connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(f"INSERT INTO {qn(table)} SELECT * FROM {qn(PREFIX + table)}")

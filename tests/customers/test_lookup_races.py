"""The hourly look-up limit holds when many requests of one user arrive at once, each on its
own database connection (as from several gunicorn workers or nodes): exactly the limit
succeeds, every other one is a 429, and the record holds exactly the successful ones."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from backend.common.exceptions import ApplicationError
from backend.customers.lookups import customer_lookup
from backend.customers.models import RevealEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("races"),
    pytest.mark.skipif(
        "os.environ.get('DATABASE_URL', '').startswith('sqlite') or not os.environ.get('DATABASE_URL')",
        reason="races need PostgreSQL row locks (SQLite serialises every write)",
    ),
]

LIMIT = 5
AT_ONCE = 12


def test_concurrent_lookups_never_pass_the_limit(users, settings):
    settings.LOOKUP_LIMIT_PER_HOUR = LIMIT
    user = users["reviewer.sz"]
    barrier = threading.Barrier(AT_ONCE)
    outcomes: list[str] = [""] * AT_ONCE

    def run(i: int) -> None:
        try:
            barrier.wait()
            customer_lookup(actor=user, field="phone", value=f"1381234{i:04d}")
            outcomes[i] = "ok"
        except ApplicationError as exc:
            outcomes[i] = str(exc.status_code)
        except BaseException as exc:  # anything else fails the test
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(AT_ONCE)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(outcomes) == sorted(["ok"] * LIMIT + ["429"] * (AT_ONCE - LIMIT)), outcomes
    assert RevealEvent.objects.filter(kind="lookup", user=user).count() == LIMIT

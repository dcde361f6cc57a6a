"""P1 (issue 19): one persisted review step runs a bounded number of SQL statements.

A count, not a time: the step's hot path must not grow per-task round trips again. The bounds
are the counts measured when this test was written (docs/BENCHMARKS.md gives the list); a
change that adds statements to every step makes this fail and has to say why.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.customers.models import Customer
from tasks.models import HumanTask
from tasks.services import task_complete

pytestmark = pytest.mark.django_db

# Statements of task_complete for a review 退回 and the resubmission after it, transaction
# control not counted (SQLite, inside the test transaction: the on-commit outbox kick does not
# run). Before issue 19 they were 30 and 32 (a four-eyes check of three statements, run twice;
# signer, incident and outbox look-ups; org units read one by one).
# On PostgreSQL the audit chain takes its advisory lock in one more statement.
_AUDIT_LOCK = 1 if connection.vendor == "postgresql" else 0
REVIEW_STEP_MAX = 22 + _AUDIT_LOCK
FIX_STEP_MAX = 27 + _AUDIT_LOCK


def _statements(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT"))
    ]


def test_review_step_and_resubmission_stay_within_their_statement_counts(submit):
    body = submit("advanced").json()
    users = get_user_model().objects
    reviewer, collector = users.get(username="reviewer.sz"), users.get(username="collector.sz")
    customer = Customer.objects.get(pk=body["customer_id"])
    review = HumanTask.objects.get(customer_id=customer.pk, status="ready", step="review")
    with CaptureQueriesContext(connection) as captured:
        task_complete(actor=reviewer, task_id=review.pk, data={"decision": "return", "comment": "请补充材料"})
    review_sql = _statements(captured)
    fix = HumanTask.objects.get(instance_id=review.instance_id, status="ready", step="fix_submission")
    resubmission = {
        "name": customer.name,
        "id_type": customer.id_type,
        "id_number": customer.id_number,
        "phone": "13812345678",
    }
    with CaptureQueriesContext(connection) as captured:
        task_complete(actor=collector, task_id=fix.pk, data=resubmission)
    fix_sql = _statements(captured)
    # The collector's fix goes to the officer's step again before the review (issue 16 item 4).
    assert HumanTask.objects.filter(instance_id=review.instance_id, status="ready", step="officer_check").exists()
    assert len(review_sql) <= REVIEW_STEP_MAX, f"{len(review_sql)} statements:\n" + "\n".join(
        s[:160] for s in review_sql
    )
    assert len(fix_sql) <= FIX_STEP_MAX, f"{len(fix_sql)} statements:\n" + "\n".join(s[:160] for s in fix_sql)

"""R2/R3: `kill -9` of a Celery worker in the middle of a timer sweep (each fire is an engine step)
and in the middle of a PDF batch job, on PostgreSQL + Redis with real worker and beat processes.

Afterwards nothing is lost, no timer fired twice, no case is stuck, and the system recovers by
itself: the killed step's transaction is rolled back by PostgreSQL, the next sweep fires what is
left, and the killed job (acks_late + reject_on_worker_lost) is handed to another worker by Redis
once its visibility timeout passes (`CUSTFLOW_BROKER_VISIBILITY_TIMEOUT`, short here).
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from datetime import date

import pytest
from django.conf import settings as django_settings
from django.db import connection

from backend.common.models import AuditEvent
from backend.customers.batch_printing import print_batch_request
from backend.customers.jobs import print_batch_run
from backend.customers.models import PrintBatch
from processes.models import Timer
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.factories import resident_id
from tests.integration.harness import Cluster, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.xdist_group("celery-worker"),
    pytest.mark.skipif(os.environ.get("CUSTFLOW_INTEGRATION") != "1", reason="set CUSTFLOW_INTEGRATION=1 (scripts/test.sh does)"),
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="needs PostgreSQL + Redis"),
]

@pytest.fixture
def cluster(tmp_path):
    """Worker and beat processes on the test database and a queue of their own."""
    s = connection.settings_dict
    c = Cluster(tmp_path, {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
        "DATABASE_URL": f"postgres://{s.get('USER') or 'postgres'}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CUSTFLOW_QUEUE": f"custflow-crash-{uuid.uuid4().hex[:8]}",
        "CUSTFLOW_TIMER_SWEEP_SECONDS": "1",
        "CUSTFLOW_BROKER_VISIBILITY_TIMEOUT": "6",
        "CUSTFLOW_BROKER_RESTORE_INTERVAL": "1",
        "CUSTFLOW_INTEGRATION": "1",
    })
    yield c
    c.stop()


@pytest.mark.django_db(transaction=True)
def test_worker_killed_in_the_middle_of_a_timer_sweep(submit, settings, cluster):
    n = 40
    settings.CUSTFLOW = {**settings.CUSTFLOW, "DEADLINES": {"review": "PT1S"}}
    for i in range(n):
        assert submit("advanced", id_number=resident_id(birth=date(1950, 1, 1 + i % 28), serial=i)).status_code == 201
    time.sleep(1.5)  # every review deadline is now overdue

    def fired() -> int:
        return AuditEvent.objects.filter(action="timer.fired").count()

    first = cluster.worker("w1")
    cluster.beat()
    assert wait_for(lambda: fired() >= 3, timeout=90), cluster.logs()
    first.send_signal(signal.SIGKILL)  # in the middle of the sweep: each fire is an engine step
    first.wait(10)
    killed_at = fired()
    assert killed_at < n, "the sweep finished before the kill; raise n"
    assert Timer.objects.filter(spec="review_deadline", status="pending").exists()

    cluster.worker("w2")
    assert wait_for(lambda: not Timer.objects.filter(spec="review_deadline", status="pending").exists(), timeout=90), cluster.logs()
    time.sleep(3)  # more sweeps, and the killed sweep job handed out again: nothing fires twice
    per_instance = Counter(AuditEvent.objects.filter(action="timer.fired").values_list("process_instance_id", flat=True))
    assert len(per_instance) == n and set(per_instance.values()) == {1}
    escalations = Counter(AuditEvent.objects.filter(action="task.escalated").values_list("process_instance_id", flat=True))
    assert len(escalations) == n and set(escalations.values()) == {1}
    assert Timer.objects.filter(spec="review_deadline", status="fired").count() == n
    assert HumanTask.objects.filter(step="province_review", status="ready").count() == n
    assert HumanTask.objects.filter(step="review", status="ready").count() == 0
    ready = Counter(HumanTask.objects.filter(status="ready").values_list("instance_id", flat=True))
    assert set(ready.values()) == {1}  # no stuck or doubled case


@pytest.mark.django_db(transaction=True)
def test_worker_killed_in_the_middle_of_a_pdf_job(submit, api, users, cluster, django_capture_on_commit_callbacks):
    customers = []
    for i in range(5):
        body = submit("advanced", id_number=resident_id(birth=date(1970, 3, 1 + i), serial=200 + i)).json()
        [task] = [t for t in inbox(api("reviewer.sz")) if t["case_id"] == body["id"]]
        assert api("reviewer.sz").post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json").status_code == 200
        customers.append(body["customer_id"])
    with django_capture_on_commit_callbacks(execute=False):  # queued below, on the cluster's queue
        batch = print_batch_request(actor=users["reviewer.sz"], customer_ids=customers, reason="归档")
    first = cluster.worker("w1")
    print_batch_run.apply_async(args=[str(batch.pk)], queue=cluster.queue)

    def done() -> int:
        return PrintBatch.objects.get(pk=batch.pk).done

    assert wait_for(lambda: done() >= 1, timeout=120), cluster.logs()
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    batch.refresh_from_db()
    # Cards are recorded one by one (done moves) and laid out together at the end: the kill
    # lands while the job runs, whichever of the two phases it is in.
    assert batch.status == "running" and batch.document_id is None, "the job finished before the kill"

    cluster.worker("w2")  # recovers by itself: Redis hands the unacknowledged job out again
    assert wait_for(lambda: PrintBatch.objects.get(pk=batch.pk).status == "done", timeout=120, every=0.5), cluster.logs()
    batch.refresh_from_db()
    assert batch.done == len(customers) and batch.document_id is not None

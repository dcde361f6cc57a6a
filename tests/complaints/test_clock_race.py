"""A breach firing while a handler pauses the same complaint: both take the case's locks in the
same order (instance, then complaint), so neither deadlocks and the breach escalates once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from backend.complaints.models import ClockEventKind, Complaint
from backend.complaints.services import complaint_pause
from processes.sweep import timers_sweep
from tasks.models import HumanTask
from tests.complaints.helpers import accept


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_breach_and_pause_race_without_deadlock(api, users, round_):
    c = accept(api)
    row = Complaint.objects.get(pk=c["id"])
    later = timezone.now() + timedelta(days=20)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def sweep():
        try:
            with time_machine.travel(later, tick=False):
                barrier.wait()
                outcomes["sweep"] = str(timers_sweep(now=later))
        except BaseException as exc:
            outcomes["sweep"] = repr(exc)
        finally:
            connection.close()

    def pause():
        try:
            with time_machine.travel(later, tick=False):
                barrier.wait()
                complaint_pause(actor=users["handler.sz"], complaint_id=row.pk, reason="委托外部鉴定")
                outcomes["pause"] = "ok"
        except BaseException as exc:
            outcomes["pause"] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep), threading.Thread(target=pause)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes.get("pause") == "ok", outcomes
    assert outcomes.get("sweep") in {"0", "1"}, outcomes
    # Whichever went first, a second sweep leaves the case consistent: one breach at most,
    # one supervision task at most, and a pause recorded.
    with time_machine.travel(later, tick=False):
        timers_sweep(now=later)
    row.refresh_from_db()
    breaches = row.clock_events.filter(kind=ClockEventKind.BREACHED).count()
    assert breaches <= 1
    assert HumanTask.objects.filter(instance_id=row.process_instance_id, step="supervise").count() == breaches
    assert row.paused_since is not None

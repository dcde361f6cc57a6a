"""The timer sweep: claim due timers with SKIP LOCKED and fire each in its own transaction.

Claiming. Each step finds the earliest due timer whose instance no other step holds and locks
that instance in the same statement (``FOR UPDATE OF instance SKIP LOCKED``, in
``services.timer_fire_next``): sweepers running at once take disjoint instances instead of
reading the same first rows and queueing on each other's locks. The step commits on its own,
so a crash loses at most the step under way; its timer is still pending and the next claim
takes it again.

Isolation (``CUSTFLOW["TIMER_STEP_ISOLATION"]``, on in production). A batch of up to
``TIMER_SWEEP_BATCH`` steps runs in ONE forked child (``run_isolated_steps``) instead of one
fork per step: each step announces its timer to the parent before it fires, and that resets the
step's bounds (wall clock watched by the parent, CPU time by ``RLIMIT_CPU``; the address-space
bound covers the child). A child killed over a bound loses only its uncommitted step: the
parent files the incident on the announced timer, leaves it out, and runs the rest of the
batch in a new child. A child ended by a shutdown (or a database outage) is retried by the
next sweep, never an incident.

A sweep job (``sweep_until_done``) runs batches back to back until nothing is due or its time
budget is spent, so every worker process that picks up a sweep job keeps sweeping while a
backlog lasts rather than firing one batch per beat tick.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from backend.common.outbox import outbox_kicks_suspended, outbox_relay
from processes.engine import disposable_process
from processes.incidents import incident_record, is_step_failure
from processes.isolation import run_isolated_steps
from processes.models import Timer, TimerStatus
from processes.services import timer_fire_next

logger = logging.getLogger(__name__)

Note = Callable[[Any], None]


@dataclass
class SweepResult:
    fired: int  # engine timers fired (an instance's other due timers fire with its step)
    steps: int  # timers claimed
    more: bool  # the batch ended on its limit: more may be due


class _Claims(list):
    """The ``picked`` list of ``timer_fire_next``: announces each claimed timer as it is added,
    before the step fires it (the parent then knows which step a killed child was running)."""

    def __init__(self, note: Note):
        super().__init__()
        self._note = note

    def append(self, timer_id: int) -> None:
        super().append(timer_id)
        self._note(["claim", timer_id])


def _fire_loop(*, now: datetime, limit: int, exclude: set[int], note: Note) -> dict:
    """Up to `limit` steps, each claiming the next free due timer. Notes: ``claim`` (a step
    begins), ``done`` (it committed, with the engine timers it fired), ``failed`` (it failed in
    the diagram: an incident was recorded and the timer is left out of this sweep)."""
    fired = steps = 0
    for _round in range(limit):
        picked = _Claims(note)
        try:
            result = timer_fire_next(now=now, exclude=exclude, picked=picked)
        except Exception as exc:  # one broken instance must not stop the sweep
            exclude.update(picked)
            steps += len(picked)
            if picked and is_step_failure(exc):
                # The diagram failed (a script, a sandbox bound, a handler): a visible incident;
                # the timer stays pending, so a later sweep retries once the cause is fixed.
                message = getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}"
                extra = getattr(exc, "extra", None) or {}
                incident_record(
                    timer_id=picked[-1], message=str(message), element=str(extra.get("element") or "")
                )
                note(["failed", picked[-1]])
                continue
            # The infrastructure (database connection, broker, mail) or a concurrent update:
            # logged, and the timer stays pending for the next sweep. Never an incident.
            logger.exception(
                "timer %s failed to fire; retried by the next sweep", picked[-1] if picked else None
            )
            if picked:
                note(["failed", picked[-1]])
                continue
            return {"fired": fired, "steps": steps, "more": False}
        if result is None:
            return {"fired": fired, "steps": steps, "more": False}
        steps += 1
        fired += result
        note(["done", picked[-1], result])
    return {"fired": fired, "steps": steps, "more": True}


def _child_batch(*, now: datetime, limit: int, exclude: set[int], note: Note) -> dict:
    """In the forked, bounded child: its scripts run in the child itself (already a bounded,
    disposable process) rather than in a pool, and it publishes nothing over the broker
    connections it inherited (the parent relays the outbox)."""

    disposable_process()
    with outbox_kicks_suspended():
        return _fire_loop(now=now, limit=limit, exclude=exclude, note=note)


def _sweep_isolated(*, now: datetime, limit: int, exclude: set[int]) -> SweepResult:
    isolation = settings.CUSTFLOW["TIMER_STEP_ISOLATION"]
    fired = steps = 0
    while steps < limit:
        left = limit - steps
        kind, value, notes = run_isolated_steps(
            lambda note, left=left: _child_batch(now=now, limit=left, exclude=exclude, note=note),
            seconds=isolation["SECONDS"],
            memory_mb=isolation["MEMORY_MB"],
        )
        under_way: int | None = None
        for note in notes:
            if note[0] == "claim":
                under_way = note[1]
                steps += 1
            elif note[0] == "done":
                fired += note[2]
                under_way = None
            elif note[0] == "failed":
                exclude.add(note[1])
                under_way = None
        if kind == "ok":
            return SweepResult(fired=fired, steps=steps, more=value["more"])
        if kind == "transient":
            # Not the step's fault (broker, mail or database down; the worker shutting down):
            # logged, the timer stays pending and the next sweep retries. Never an incident.
            logger.warning(
                "timer sweep stopped, retried by the next sweep (timer %s): %s", under_way, value["message"]
            )
            return SweepResult(fired=fired, steps=steps, more=False)
        if under_way is None:
            logger.error("timer sweep child failed between steps: %s", value["message"])
            return SweepResult(fired=fired, steps=steps, more=False)
        exclude.add(under_way)
        if Timer.objects.filter(pk=under_way, status=TimerStatus.PENDING).exists():
            # Over its bound (killed) or failed outside the loop: the step's own incident; the
            # rest of the batch runs in a new child.
            incident_record(timer_id=under_way, message=value["message"], element=value.get("element") or "")
    return SweepResult(fired=fired, steps=steps, more=True)


def sweep_run(
    *, now: datetime | None = None, limit: int | None = None, exclude: set[int] | None = None
) -> SweepResult:
    """One batch: up to `limit` steps on timers due at `now` (default: now); any number of
    sweepers may run at once. `exclude` (timers whose step failed) is kept across batches."""
    now = now or timezone.now()
    limit = limit or settings.CUSTFLOW["TIMER_SWEEP_BATCH"]
    exclude = set() if exclude is None else exclude
    if settings.CUSTFLOW["TIMER_STEP_ISOLATION"]["ENABLED"]:
        due = Timer.objects.filter(status=TimerStatus.PENDING, due_at__lte=now).exclude(pk__in=exclude)
        if not due.exists():  # no child forked for an idle tick
            return SweepResult(fired=0, steps=0, more=False)
        result = _sweep_isolated(now=now, limit=limit, exclude=exclude)
    else:
        value = _fire_loop(now=now, limit=limit, exclude=exclude, note=lambda _note: None)
        result = SweepResult(fired=value["fired"], steps=value["steps"], more=value["more"])
    if result.fired and settings.CUSTFLOW["TIMER_STEP_ISOLATION"]["ENABLED"]:
        # The children left their outbox rows (e-mails, callbacks) for the relay; publish them now.

        try:
            outbox_relay()
        except Exception:  # noqa: BLE001 - the beat relay will publish them
            logger.exception("outbox relay after the timer sweep failed")
    return result


def sweep_until_done(*, max_seconds: float | None = None) -> int:
    """The beat job: batches back to back, each at the current time, until nothing is due or
    `max_seconds` (``TIMER_SWEEP_MAX_SECONDS``) have passed. Returns the engine timers fired."""
    budget = settings.CUSTFLOW["TIMER_SWEEP_MAX_SECONDS"] if max_seconds is None else max_seconds
    stop = time.monotonic() + budget
    exclude: set[int] = set()
    fired = 0
    while True:
        result = sweep_run(exclude=exclude)
        fired += result.fired
        if not result.more or time.monotonic() >= stop:
            return fired


def timers_sweep(*, now: datetime | None = None, limit: int | None = None) -> int:
    """One sweep: fire up to `limit` timers due at `now` (default: the current time), each in its
    own transaction; any number of sweepers may run at once."""
    return sweep_run(now=now, limit=limit).fired

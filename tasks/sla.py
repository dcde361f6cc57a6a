"""SLA classification of human tasks, as one SQL expression and as plain Python (the same
rules): a report counts rows with the expression; a task page shows the state of one row.

Task states: none (no deadline), on_time (ready and not yet due soon, or completed by its
deadline), due_soon, overdue (ready, past its deadline), breached_done (completed after it),
escalated (taken from the inbox by the escalation timer), cancelled (left without a decision).
Report metrics (`metric_q`): total (every task with a deadline except plain cancellations),
on_time (completed by the deadline), breached_done, escalated, overdue, breached (the last
three), open (ready, not yet due), due_soon. On-time rate = on_time / (on_time + breached).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from tasks.models import HumanTask, TaskStatus

METRICS = ("total", "on_time", "breached", "breached_done", "escalated", "overdue", "open", "due_soon")


def due_soon_delta() -> timedelta:
    return timedelta(hours=settings.CUSTFLOW["SLA_DUE_SOON_HOURS"])


def metric_q(metric: str, now: datetime, *, due_known: bool = False) -> Q:
    """The rows a report metric counts (conditional counts and drill-down filters).
    `due_known`: the queryset already keeps only rows with a deadline (a due_at range), so
    the conditions leave out `due_at IS NOT NULL` (one test less per row and metric)."""
    ready, done, cancelled = TaskStatus.READY, TaskStatus.COMPLETED, TaskStatus.CANCELLED
    has_due = Q() if due_known else Q(due_at__isnull=False)
    return has_due & {
        "on_time": Q(status=done, completed_at__lte=F("due_at")),
        "breached_done": Q(status=done, completed_at__gt=F("due_at")),
        "escalated": Q(status=cancelled, outcome="escalated"),
        "overdue": Q(status=ready, due_at__lt=now),
        "due_soon": Q(status=ready, due_at__gte=now, due_at__lt=now + due_soon_delta()),
        "breached": Q(status=done, completed_at__gt=F("due_at"))
        | Q(status=cancelled, outcome="escalated")
        | Q(status=ready, due_at__lt=now),
        "open": Q(status=ready, due_at__gte=now),
        "total": ~Q(status=cancelled) | Q(outcome="escalated"),
    }[metric]


def task_sla_state(task: HumanTask, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if task.due_at is None:
        return "none"
    if task.status == TaskStatus.COMPLETED:
        return "on_time" if task.completed_at and task.completed_at <= task.due_at else "breached_done"
    if task.status == TaskStatus.CANCELLED:
        return "escalated" if task.outcome == "escalated" else "cancelled"
    if task.due_at < now:
        return "overdue"
    return "due_soon" if task.due_at < now + due_soon_delta() else "on_time"

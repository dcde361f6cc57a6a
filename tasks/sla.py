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


def metric_q(metric: str, now: datetime) -> Q:
    """The rows a report metric counts (conditional counts and drill-down filters)."""
    ready, done, cancelled = TaskStatus.READY, TaskStatus.COMPLETED, TaskStatus.CANCELLED
    has_due = Q(due_at__isnull=False)
    return {
        "on_time": has_due & Q(status=done, completed_at__lte=F("due_at")),
        "breached_done": has_due & Q(status=done, completed_at__gt=F("due_at")),
        "escalated": has_due & Q(status=cancelled, outcome="escalated"),
        "overdue": has_due & Q(status=ready, due_at__lt=now),
        "due_soon": has_due & Q(status=ready, due_at__gte=now, due_at__lt=now + due_soon_delta()),
        "breached": has_due
        & (
            Q(status=done, completed_at__gt=F("due_at"))
            | Q(status=cancelled, outcome="escalated")
            | Q(status=ready, due_at__lt=now)
        ),
        "open": has_due & Q(status=ready, due_at__gte=now),
        "total": has_due & ~(Q(status=cancelled) & ~Q(outcome="escalated")),
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

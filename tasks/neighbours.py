"""The task page's 上一条/下一条: the ready tasks just before and after a task in the user's 待办,
in the inbox's default order (due first: `due_at`, then id; tasks without a deadline last)."""

from __future__ import annotations

from django.db.models import F, Q

from tasks.models import HumanTask
from tasks.selectors import task_inbox


def task_inbox_neighbours(*, user, task: HumanTask) -> tuple[int | None, int | None]:
    """(previous id, next id) around `task` in the user's inbox; two one-row reads. The task
    itself need not be in the inbox (a task just opened from a link keeps its place by due time)."""
    inbox = task_inbox(user=user).exclude(pk=task.pk).select_related(None)
    due, pk = task.due_at, task.pk
    if due is None:
        after = Q(due_at__isnull=True, id__gt=pk)
        before = Q(due_at__isnull=False) | Q(due_at__isnull=True, id__lt=pk)
    else:
        after = Q(due_at__gt=due) | Q(due_at=due, id__gt=pk) | Q(due_at__isnull=True)
        before = Q(due_at__lt=due) | Q(due_at=due, id__lt=pk)
    following = inbox.filter(after).order_by(F("due_at").asc(nulls_last=True), "id").values_list("id", flat=True).first()
    preceding = inbox.filter(before).order_by(F("due_at").desc(nulls_first=True), "-id").values_list("id", flat=True).first()
    return preceding, following

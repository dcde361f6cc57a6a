"""Inbox tabs beyond 待办: 已办 (done by me), 抄送我的 (copied to me), 我发起的 (cases I started),
and the filters every tab shares."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from backend.common.exceptions import ValidationFailed
from processes.models import ProcessInstance
from tasks.inbox import inbox_ordering, tab_q, task_search_q
from tasks.models import HumanTask, TaskStatus
from tasks.selectors import COUNT_KEYS, InboxRows, task_inbox, task_visible_q

TABS = ("todo", "done", "cc")


def task_tab(*, user, tab: str) -> QuerySet[HumanTask]:
    if tab == "todo":
        return task_inbox(user=user)
    if tab == "done":
        return (
            HumanTask.objects.filter(completed_by=user, status=TaskStatus.COMPLETED)
            .select_related("org_unit", "assignee")
            .order_by("-completed_at", "-id")
        )
    if tab == "cc":
        return (
            HumanTask.objects.filter(copies__to_user=user)
            .filter(task_visible_q(user))
            .select_related("org_unit", "assignee")
            .order_by("-copies__created_at", "-id")
        )
    raise ValidationFailed.field("tab", "可选: " + ", ".join(TABS))


def _when(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.field(field, "须为 ISO 8601 时间,如 2026-11-25T18:00:00+08:00")
    if moment.tzinfo is None:
        raise ValidationFailed.field(field, "须带时区,如 +08:00")
    return moment


FILTERS = ("process", "step", "org_unit", "flag", "due_before", "due_after", "q")


def task_filtered(params) -> bool:
    """Whether `params` narrow the tab (`task_filter` applies at least one filter)."""
    return any(params.get(name) for name in FILTERS)


def task_filter(qs: QuerySet[HumanTask], params) -> QuerySet[HumanTask]:
    """process, step, org_unit (code), flag, due_before / due_after (ISO 8601), q (a case number,
    the customer's name or its beginning, or words of the task name: tasks/inbox.py)."""
    if params.get("process"):
        qs = qs.filter(process_key=params["process"])
    if params.get("step"):
        qs = qs.filter(step=params["step"])
    if params.get("org_unit"):
        qs = qs.filter(org_unit__code=params["org_unit"])
    if params.get("flag"):
        # JSON list containment is not portable across SQLite/PostgreSQL: match the quoted item.
        qs = qs.filter(flags__icontains=f'"{params["flag"]}"')
    if params.get("due_before"):
        qs = qs.filter(due_at__lt=_when(params["due_before"], "due_before"))
    if params.get("due_after"):
        qs = qs.filter(due_at__gte=_when(params["due_after"], "due_after"))
    if params.get("q"):
        qs = qs.filter(task_search_q(str(params["q"])))
    return qs


def cases_started(*, user) -> QuerySet[ProcessInstance]:
    """我发起的: my cases, newest first, each with its open tasks (where it stands)."""
    open_tasks = HumanTask.objects.filter(status=TaskStatus.READY).select_related("org_unit", "assignee").order_by("id")
    return (
        ProcessInstance.objects.filter(started_by=user)
        .select_related("version__definition", "org_unit")
        .defer("state", "version__spec", "version__bpmn_xml", "version__metadata")
        .prefetch_related(Prefetch("human_tasks", queryset=open_tasks, to_attr="open_tasks"))
        .order_by("-created_at", "-id")
    )


def task_inbox_listing(*, user, tab: str = "all", sort: str = "due", filters=None, counts: dict[str, int] | None = None):
    """The 待办 as a page lists it: one tab (tasks/inbox.py), narrowed by the shared filters
    (tasks/tabs.py `task_filter`: process, q …), in one sort. Returns (InboxRows, known count):
    the tab's count from `counts` when nothing else narrows it (the paginator needs no COUNT)."""
    now = timezone.now()
    filters = filters or {}
    condition = tab_q(tab, user=user, now=now)
    rows = InboxRows(user=user, narrow=lambda qs: task_filter(qs, filters).filter(condition), order=inbox_ordering(sort, now))
    known = None if counts is None or task_filtered(filters) else counts[COUNT_KEYS[tab]]
    return rows, known

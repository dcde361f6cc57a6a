"""What makes the 待办 scannable: its tabs, its search, its sort orders and the case columns of
each row (case number, masked customer, branch, submitter).

- Tabs (全部 / 我的 / 组内 / 已超时 / 即将到期): one condition per tab (`tab_q`), which the counts
  aggregate and the tab filters by — one rule in one place.
- Search (`task_search_q`): a case number (`12`, `#12`, or a number the type declares, e.g. a
  complaint's 投诉编号), the customer's name typed whole or as its beginning, or the task name.
  It only ever narrows rows the caller already scoped (the user's inbox), and the rows show the
  customer masked: a search reveals no more than the row (the task page shows the name).
- Sort (`inbox_ordering`): due (overdue first), received (newest first), priority (blacklist
  hits, then overdue or escalated, then flagged, each by due time).
- Case columns (`inbox_case_rows`): read from each process type's declared `InboxRow` (defaults
  from the case base), one query per case model on the page, never one per row.

Like 钉钉/飞书 approvals and Camunda Tasklist: a row says whose case it is and what kind, the
search box finds a case by its number or the applicant, and the tab counts refresh by themselves.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, IntegerField, Q, Value, When

from backend.organisation import privacy
from processes.types import process_type_for_case, process_type_inbox_row, process_type_label, process_types
from tasks.models import HumanTask

TABS = ("all", "mine", "group", "overdue", "due_soon")
SORTS = ("due", "received", "priority")
SEARCH_MAX = 100
DUE_SOON = timedelta(hours=8)


@dataclass(frozen=True)
class InboxParams:
    tab: str = "all"
    q: str = ""
    sort: str = "due"


def text_clean(value: Any, limit: int = SEARCH_MAX) -> str:
    """Typed text as a filter may use it: printable characters only (PostgreSQL refuses NUL),
    trimmed, at most `limit` characters."""
    return "".join(ch for ch in str(value or "") if ch.isprintable()).strip()[:limit].strip()


def inbox_params_clean(params) -> InboxParams:
    """tab, q and sort from a query string: unknown values fall back to the defaults, the search
    is trimmed to SEARCH_MAX characters without control characters — nothing here can fail."""
    tab = str(params.get("tab") or "all")
    sort = str(params.get("sort") or "due")
    q = text_clean(params.get("q"))
    return InboxParams(tab=tab if tab in TABS else "all", q=q, sort=sort if sort in SORTS else "due")


def tab_q(tab: str, *, user, now: datetime) -> Q:
    """The rows of one tab, within the inbox."""
    if tab == "mine":
        return Q(assignee=user)
    if tab == "group":
        return Q(assignee__isnull=True)
    if tab == "overdue":
        # An escalated task without a deadline of its own is overdue by the one it replaces.
        return Q(due_at__lt=now) | Q(due_at__isnull=True, escalated_from__due_at__lt=now)
    if tab == "due_soon":
        return Q(due_at__gte=now, due_at__lt=now + DUE_SOON)
    return Q()


def _case_types() -> list[tuple[str, Any, Any]]:
    """(case type, case model, its inbox row) of every registered type with a case model."""
    seen: dict[str, tuple[str, Any, Any]] = {}
    for process_type in process_types():
        if process_type.case_model is not None and process_type.case_type not in seen:
            seen[process_type.case_type] = (process_type.case_type, process_type.case_model, process_type_inbox_row(process_type))
    return list(seen.values())


def task_search_q(q: str) -> Q:
    """Rows whose case number is `q` (`12`, `#12`, a declared number such as 投诉编号), whose
    customer's name is `q` or begins with it, or whose task name contains it."""
    q = text_clean(q)
    if not q:
        return Q()
    condition = Q(name__icontains=q)
    digits = q.removeprefix("#").removeprefix("＃").strip()
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        condition |= Q(case_id=int(digits))
    for case_type, model, row in _case_types():
        match = Q()
        if row.number:
            match |= Q(**{f"{row.number}__iexact": q})
        if row.customer_name:
            match |= Q(**{f"{row.customer_name}__startswith": q})
        if match:
            condition |= Q(case_type=case_type, case_id__in=model._default_manager.filter(match).values("pk"))
    return condition


def inbox_ordering(sort: str, now: datetime) -> tuple[dict[str, Any], tuple[str, ...]]:
    """(annotations, order_by keys) of a sort; every order ends on the id, so pages are stable."""
    if sort == "received":
        return {}, ("-created_at", "-id")
    if sort == "priority":
        priority = Case(
            When(flags__icontains='"blacklist_hit"', then=Value(0)),
            When(Q(due_at__lt=now) | Q(escalated_from__isnull=False), then=Value(1)),
            # Any flag (check D's shared phone, an agent's phone, a duplicate id): a quoted item.
            When(flags__icontains='"', then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
        return {"priority": priority}, ("priority", "due_at", "id")
    return {}, ("due_at", "id")


def _person(values: dict[str, Any], path: str) -> str:
    username = values.get(f"{path}__username")
    if not username:
        return ""
    full = f"{values.get(f'{path}__first_name') or ''} {values.get(f'{path}__last_name') or ''}".strip()
    return full or username


def inbox_case_rows(tasks: list[HumanTask]) -> dict[tuple[str, int], dict[str, str]]:
    """{(case type, case id): {number, customer, branch, submitter}} for the rows of a page: one
    query per case model among them. The customer's name is always masked (lists are)."""
    ids: dict[str, set[int]] = defaultdict(set)
    for task in tasks:
        if task.case_type and task.case_id is not None:
            ids[task.case_type].add(task.case_id)
    out: dict[tuple[str, int], dict[str, str]] = {}
    for case_type, case_ids in ids.items():
        process_type = process_type_for_case(case_type)
        model = process_type.case_model if process_type else None
        if model is None:
            continue
        row = process_type_inbox_row(process_type)
        names = {f.name for f in model._meta.get_fields()}
        columns = ["pk"]
        if "org_unit" in names:
            columns.append("org_unit__name")
        for path in filter(None, (row.number, row.customer_name)):
            columns.append(path)
        if row.submitter:
            columns += [f"{row.submitter}__username", f"{row.submitter}__first_name", f"{row.submitter}__last_name"]
        for values in model._default_manager.filter(pk__in=case_ids).values(*columns):
            out[(case_type, values["pk"])] = {
                "number": str(values.get(row.number) or "") if row.number else f"#{values['pk']}",
                "customer": privacy.masked("customer_name", values.get(row.customer_name)) if row.customer_name else "",
                "branch": values.get("org_unit__name") or "",
                "submitter": _person(values, row.submitter) if row.submitter else "",
            }
    return out


def inbox_rows_attach(tasks: list[HumanTask]) -> list[HumanTask]:
    """Each task gets `case_row` (inbox_case_rows; a case without a model: its id as number) and
    `kind` (its process type's label)."""
    rows = inbox_case_rows(tasks)
    for task in tasks:
        task.kind = process_type_label(task.process_key, task.process_name)
        fallback = {"number": f"#{task.case_id}" if task.case_id is not None else "", "customer": "", "branch": "", "submitter": ""}
        task.case_row = rows.get((task.case_type, task.case_id), fallback)
    return tasks

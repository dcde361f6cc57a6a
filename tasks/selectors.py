from __future__ import annotations

from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.exceptions import NotFound
from backend.organisation.selectors import scope_q, user_role_assignments
from tasks.cases import case_data_work_q
from tasks.eligibility import holds_role_in_scope
from tasks.inbox import TABS, tab_q
from tasks.models import HumanTask, TaskSigner, TaskStatus
from tasks.sla import task_sla_state
from tasks.substitution import absent_users_substituted_by

# The counts' keys of the tabs (the API's `counts` and the page's data-testids keep them).
COUNT_KEYS = {"all": "total", "mine": "mine", "group": "group", "overdue": "overdue", "due_soon": "due_soon"}


def effective_assignments(user) -> list:
    """The user's own role assignments plus, while they substitute for someone (代理), that
    person's — cached on the user object for the request."""
    cached = getattr(user, "_custflow_effective_roles", None)
    if cached is None:
        cached = list(user_role_assignments(user))

        for absent in absent_users_substituted_by(user):
            # Only the groups the substitute could be named to himself (control 5): a
            # substitution never lends a role.
            cached.extend(ra for ra in user_role_assignments(absent) if holds_role_in_scope(user, ra.role, ra.org_unit))
        user._custflow_effective_roles = cached
    return cached


def _candidate_q(user) -> Q:
    groups = [Q(role=ra.role, org_unit_id=ra.org_unit_id) for ra in effective_assignments(user)]
    return Q(assignee__isnull=True) & reduce(or_, groups) if groups else Q(pk__in=[])


def _signing_ids(user) -> list[int]:
    """加签: tasks the user is a pending signer of (an after-signer once the approver has
    decided), read first — a literal list keeps every arm of the inbox on an index (P4)."""

    return list(
        TaskSigner.objects.filter(user=user, status="pending")
        .filter(Q(position="before") | Q(task__outcome="awaiting_signers"))
        .values_list("task_id", flat=True)
    )


def _four_eyes_allowed_q(user) -> Q:
    """Never my own case on an approval step, nor one I worked on or gathered the data of (four
    eyes: the collector of an opening an officer submitted)."""

    return (
        ~Q(four_eyes=True, initiator=user)
        & ~(Q(four_eyes=True) & Exists(_worked_on_case(user)))
        & ~(Q(four_eyes=True) & case_data_work_q(user))
    )


def inbox_q(user, signing: list[int] | None = None) -> Q:
    """My ready tasks: assigned to me, or unassigned in a group I belong to; never my own case
    on an approval step (four eyes); plus the tasks I am to co-sign (加签: `signing`, read here
    when not given)."""
    signing = _signing_ids(user) if signing is None else signing
    mine = (Q(assignee=user) | _candidate_q(user)) & _four_eyes_allowed_q(user)
    return mine | Q(pk__in=signing) if signing else mine


def _inbox_arms(user, signing: list[int]) -> list[tuple[Q, bool]]:
    """`inbox_q` as disjoint-enough arms (a row in two arms is counted once), each one index
    range in due order: (condition, whether four eyes applies)."""
    arms = [(Q(assignee=user), True)]
    arms += [(Q(assignee__isnull=True, role=ra.role, org_unit_id=ra.org_unit_id), True) for ra in effective_assignments(user)]
    if signing:
        arms.append((Q(pk__in=signing), False))
    return arms


def task_inbox_rows(*, user, start: int, stop: int, narrow=None, order=None) -> list[HumanTask]:
    """Rows `start:stop` of the user's 待办 (as `task_inbox`, narrowed by `narrow(qs)`), in
    `order` ((annotations, order_by keys), tasks/inbox.py `inbox_ordering`; due order by default).

    On PostgreSQL each arm of the inbox (assigned to me; each of my groups; my co-signing)
    reads its first `stop` rows in due order from its own partial index, the arms are merged
    by UNION, and only the page's rows are then read with their org unit and assignee: the
    cost follows the page, not the number of tasks in the groups (P4). One OR over all arms
    would make the planner gather every matching row and sort them."""
    narrow = narrow or (lambda qs: qs)
    annotations, keys = order or ({}, ("due_at", "id"))
    signing = _signing_ids(user)
    qs = narrow(task_inbox(user=user, signing=signing)).annotate(**annotations).order_by(*keys)
    if connection.vendor != "postgresql" or stop <= start:
        return list(qs[start:stop])
    ready = HumanTask.objects.filter(status=TaskStatus.READY)
    allowed = _four_eyes_allowed_q(user)
    columns = [key.lstrip("-") for key in keys if key.lstrip("-") != "id"]
    parts = [
        narrow(ready.filter(arm & allowed if four_eyes else arm)).annotate(**annotations).order_by(*keys).values_list("id", *columns)[:stop]
        for arm, four_eyes in _inbox_arms(user, signing)
    ]
    merged = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    ids = [values[0] for values in merged.order_by(*keys)[start:stop]]
    # The arms already applied every condition: the rows are read by primary key alone (with
    # the inbox's OR again the planner may go back to scanning every matching row).
    rows = {row.pk: row for row in HumanTask.objects.filter(pk__in=ids).select_related("org_unit", "assignee", "escalated_from")}
    return [rows[pk] for pk in ids if pk in rows]


class InboxRows:
    """The 待办 as a sliceable sequence for a paginator: a slice is `task_inbox_rows`."""

    def __init__(self, *, user, narrow=None, order=None):
        self.user, self.narrow, self.order = user, narrow or (lambda qs: qs), order

    def count(self) -> int:
        return self.narrow(task_inbox(user=self.user)).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            if index.step not in (None, 1) or index.start is None or index.stop is None or index.start < 0:
                raise ValueError("InboxRows takes [start:stop] slices only")
            return task_inbox_rows(user=self.user, start=index.start, stop=index.stop, narrow=self.narrow, order=self.order)
        return self[index : index + 1][0]


def _worked_on_case(user):
    """Four eyes in the inbox (tasks/eligibility.py decides): rows of the outer task's instance
    that `user` completed as data work, or as the approval of another step."""
    return HumanTask.objects.filter(instance_id=OuterRef("instance_id"), status=TaskStatus.COMPLETED, completed_by=user).filter(
        Q(four_eyes=False) | (Q(outcome="approve") & ~Q(step=OuterRef("step")))
    )


def task_inbox(*, user, signing: list[int] | None = None) -> QuerySet[HumanTask]:
    return (
        HumanTask.objects.filter(status=TaskStatus.READY)
        .filter(inbox_q(user, signing))
        .select_related("org_unit", "assignee", "escalated_from")
        .order_by("due_at", "id")
    )


def task_inbox_counts(*, user) -> dict[str, int]:
    """The rows of each tab of the 待办 (tasks/inbox.py `tab_q`): one aggregate."""
    now = timezone.now()
    return task_inbox(user=user).aggregate(
        total=Count("id"), **{COUNT_KEYS[tab]: Count("id", filter=tab_q(tab, user=user, now=now)) for tab in TABS if tab != "all"}
    )


def task_visible_q(user) -> Q:
    return scope_q(user, "org_unit") | Q(assignee=user)


def task_get_visible(*, user, task_id) -> HumanTask:
    """A task the user may see; anything outside their scope is simply not found (404)."""
    try:
        task_id = int(task_id)
    except (TypeError, ValueError):
        raise NotFound(_("任务不存在"), code="task_not_found")
    task = HumanTask.objects.filter(task_visible_q(user)).select_related("org_unit", "assignee", "escalated_from").filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("任务不存在"), code="task_not_found")
    return task


def user_is_candidate(user, task: HumanTask) -> bool:
    if task.assignee_id is not None:
        return task.assignee_id == user.pk
    return any(ra.role == task.role and ra.org_unit_id == task.org_unit_id for ra in effective_assignments(user))


def task_candidates(task: HumanTask) -> list:
    """Who may work the task now: its assignee, or the holders of its role at its org unit
    (minus the initiator on approval steps)."""

    if task.assignee_id:
        return [task.assignee]
    users = get_user_model().objects.filter(role_assignments__role=task.role, role_assignments__org_unit=task.org_unit, is_active=True).distinct()
    if not task.four_eyes:
        return list(users)

    return [
        u
        for u in users
        if u.pk != task.initiator_id and not HumanTask.objects.filter(pk=task.pk).filter(case_data_work_q(u)).exists()
    ]


def task_history(*, user, case_type: str, case_id: int) -> QuerySet[HumanTask]:
    return HumanTask.objects.filter(case_type=case_type, case_id=case_id).filter(task_visible_q(user)).order_by("created_at", "id")


def sla_state(task: HumanTask) -> str:
    """on_time / due_soon / overdue / breached_done / escalated / cancelled / none (tasks/sla.py)."""

    return task_sla_state(task)


def task_transfer_targets(*, task: HumanTask, actor) -> QuerySet:
    """Who a task may be transferred (转办) to, for the picker: the active holders of its role at
    its org unit, other than the actor and (on approval steps) the case's initiator."""

    users = get_user_model().objects.filter(role_assignments__role=task.role, role_assignments__org_unit=task.org_unit, is_active=True).exclude(pk=actor.pk)
    if task.four_eyes and task.initiator_id:
        users = users.exclude(pk=task.initiator_id)
    return users.distinct().order_by("username")

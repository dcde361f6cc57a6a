"""P4 (issue 19): the 待办 page read arm by arm (assigned to me, each of my groups, my
co-signing) and merged in due order is the very page the single inbox query gives, for any
slice, with four eyes applied and a task in two arms listed once. On SQLite the page is the
single query itself; run with a PostgreSQL DATABASE_URL to exercise the merged path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from backend.organisation.models import OrgUnit
from tasks.inbox import inbox_ordering
from tasks.models import HumanTask, TaskSigner
from tasks.selectors import InboxRows, task_inbox, task_inbox_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowded_inbox(submit):
    """reviewer.sz's 待办 with ~40 rows over every arm: group rows with due ties and no due
    date, rows assigned to them, rows of another unit they co-sign, rows of their own case
    (four eyes: hidden) and rows of other groups (hidden)."""
    submit("advanced")
    template = HumanTask.objects.get(step="review", status="ready")
    users = get_user_model().objects
    me, other = users.get(username="reviewer.sz"), users.get(username="reviewer.gd")
    sz, gz = OrgUnit.objects.get(code="GD-SZ"), OrgUnit.objects.get(code="GD-GZ")
    now = timezone.now().replace(microsecond=0)
    fields = {
        f.attname: getattr(template, f.attname) for f in HumanTask._meta.concrete_fields if not f.primary_key
    }

    def row(i: int, **changes) -> HumanTask:
        data = {**fields, "engine_task_id": f"inbox-{i}", "due_at": now + timedelta(hours=i % 7), **changes}
        return HumanTask.objects.create(**data)

    rows = [row(i) for i in range(20)]  # my group, due ties every 7
    rows += [row(20 + i, due_at=None) for i in range(3)]  # no due date
    rows += [row(30 + i, assignee_id=me.pk) for i in range(6)]  # assigned to me
    signed = [row(40 + i, org_unit_id=gz.pk) for i in range(4)]  # another unit, I co-sign
    signed.append(row(45, assignee_id=me.pk))  # assigned to me and co-signed: listed once
    for task in signed:
        TaskSigner.objects.create(
            task=task, user=me, position="before", added_by=other, reason="加签", created_at=now
        )
    row(50, initiator_id=me.pk)  # my own case on an approval step: four eyes hides it
    row(51, org_unit_id=gz.pk)  # another unit's group: not mine
    row(52, assignee_id=other.pk, org_unit_id=sz.pk)  # someone else's
    return me


def _ids(rows) -> list[int]:
    return [t.pk for t in rows]


@pytest.mark.parametrize("start, stop", [(0, 3), (0, 50), (2, 9), (10, 20), (25, 40), (30, 80)])
def test_merged_page_is_the_single_query_page(crowded_inbox, start, stop):
    me = crowded_inbox
    expected = _ids(task_inbox(user=me)[start:stop])
    assert _ids(task_inbox_rows(user=me, start=start, stop=stop)) == expected
    if start == 0 and stop >= 50:  # the whole inbox: every arm contributes
        assert len(expected) == task_inbox(user=me).count() > 30, connection.vendor


def test_narrowed_page_and_count(crowded_inbox):
    me = crowded_inbox
    only_unassigned = lambda qs: qs.filter(assignee__isnull=True)  # noqa: E731
    rows = InboxRows(user=me, narrow=only_unassigned)
    assert rows.count() == task_inbox(user=me).filter(assignee__isnull=True).count()
    assert _ids(rows[0:50]) == _ids(task_inbox(user=me).filter(assignee__isnull=True)[0:50])
    assert _ids([rows[3]]) == _ids(task_inbox(user=me).filter(assignee__isnull=True)[3:4])


def test_api_pages_walk_the_whole_inbox_once(crowded_inbox, api):
    me = crowded_inbox
    client = api("reviewer.sz")
    seen, page = [], 1
    while True:
        body = client.get("/api/tasks/", {"page": page, "page_size": 7}).json()
        assert body["count"] == body["counts"]["total"] == task_inbox(user=me).count()
        seen += [t["id"] for t in body["results"]]
        if not body["next"]:
            break
        page += 1
    assert seen == _ids(task_inbox(user=me))


@pytest.mark.parametrize("sort", ["due", "received", "priority"])
@pytest.mark.parametrize("start, stop", [(0, 7), (5, 30), (0, 80)])
def test_merged_page_in_each_sort_is_the_single_query_page(crowded_inbox, sort, start, stop):
    """The inbox's other sorts (tasks/inbox.py) read arm by arm too, and give the same page."""
    me = crowded_inbox
    now = timezone.now()
    rows = list(task_inbox(user=me))
    for i, task in enumerate(rows):
        HumanTask.objects.filter(pk=task.pk).update(
            created_at=now - timedelta(minutes=i % 5),
            flags=["blacklist_hit"] if i % 6 == 0 else ["shared_phone"] if i % 4 == 0 else [],
        )
    order = inbox_ordering(sort, now)
    annotations, keys = order
    expected = _ids(task_inbox(user=me).annotate(**annotations).order_by(*keys)[start:stop])
    assert _ids(task_inbox_rows(user=me, start=start, stop=stop, order=order)) == expected
    assert len(expected) == min(stop, len(rows)) - start

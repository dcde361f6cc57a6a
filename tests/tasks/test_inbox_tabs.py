"""Inbox tabs (待办/已办/抄送我的/我发起的), filters, and 抄送 copy."""

from __future__ import annotations

import pytest

from backend.common.models import AuditEvent
from tasks.models import CaseCopy, HumanTask, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_cases(submit):
    first = submit("advanced", phone="13900000001").json()  # flagged: an agent's phone
    second = submit("advanced", phone="13700000009").json()
    return first, second


def tab(client, name, **params):
    resp = client.get("/api/tasks/", {"tab": name, **params})
    assert resp.status_code == 200, resp.content
    return [t["case_id"] for t in resp.json()["results"]]


def test_done_tab_lists_what_i_completed(api, two_cases):
    first, second = two_cases
    task = HumanTask.objects.get(case_id=first["id"], step="review")
    api("reviewer.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json")
    assert tab(api("reviewer.sz"), "done") == [first["id"]]
    assert tab(api("reviewer.sz"), "todo") == [second["id"]]
    assert tab(api("reviewer.gd"), "done") == []


def test_my_cases_show_where_each_stands(api, two_cases):
    first, second = two_cases
    body = api("collector.sz").get("/api/my-cases/").json()
    assert [c["case_id"] for c in body["results"]] == [second["id"], first["id"]]
    assert body["results"][0]["status"] == "running"
    assert [(t["step"], t["org_unit"]) for t in body["results"][0]["current"]] == [("review", "GD-SZ")]
    assert api("reviewer.sz").get("/api/my-cases/").json()["count"] == 0


def test_filters(api, two_cases):
    first, second = two_cases
    client = api("reviewer.sz")
    assert tab(client, "todo", flag="agent_phone") == [first["id"]]
    assert sorted(tab(client, "todo", process="individual_account_opening", step="review", org_unit="GD-SZ")) == sorted([first["id"], second["id"]])
    assert tab(client, "todo", org_unit="GD-GZ") == []
    assert tab(client, "todo", due_before="2000-01-01T00:00:00+08:00") == []
    assert client.get("/api/tasks/", {"due_before": "tomorrow"}).status_code == 400
    assert client.get("/api/tasks/", {"tab": "archive"}).status_code == 400


def test_api_searches_and_sorts_like_the_inbox_page(api, submit):
    """/api/tasks/ takes the page's `q` and `sort` (one selector, tasks/inbox.py) and each row
    says whose case it is, the customer's name masked."""
    from datetime import timedelta

    from django.utils import timezone

    first = submit("advanced", name="欧阳娜娜", phone="13700000001").json()
    second = submit("advanced", name="李小龙", phone="13700000002").json()
    client = api("reviewer.sz")
    body = client.get("/api/tasks/", {"q": "欧阳"}).json()
    assert [t["case_id"] for t in body["results"]] == [first["id"]]
    row = body["results"][0]
    assert (row["case_number"], row["customer"], row["branch"]) == (f"#{first['id']}", "欧**娜", "深圳市分公司")
    assert "欧阳娜娜" not in str(body)
    assert tab(client, "todo", q=f"#{second['id']}") == [second["id"]]
    assert tab(client, "todo", q="阳娜") == []  # a middle part of a name finds nothing
    now = timezone.now()
    HumanTask.objects.filter(case_id=first["id"], step="review").update(created_at=now - timedelta(hours=1))
    HumanTask.objects.filter(case_id=second["id"], step="review").update(created_at=now - timedelta(hours=2))
    assert tab(client, "todo", sort="received") == [first["id"], second["id"]]
    assert client.get("/api/tasks/", {"sort": "sideways"}).status_code == 400
    assert client.get("/api/tasks/", {"q": "\x00" + "王" * 500}).status_code == 200


def test_copy_to_users_who_can_see_the_case(api, two_cases):
    first, _ = two_cases
    task = HumanTask.objects.get(case_id=first["id"], step="review")
    resp = api("reviewer.sz").post(f"/api/tasks/{task.pk}/copy/", {"to": ["reviewer.gd", "compliance.ho"], "note": "请关注"}, format="json")
    assert resp.status_code == 200, resp.content
    assert sorted(resp.json()["copied_to"]) == ["compliance.ho", "reviewer.gd"]
    assert tab(api("reviewer.gd"), "cc") == [first["id"]]
    assert Notification.objects.filter(kind="copy").count() == 2
    again = api("reviewer.sz").post(f"/api/tasks/{task.pk}/copy/", {"to": ["reviewer.gd"]}, format="json")
    assert again.json() == {"copied_to": []}
    assert CaseCopy.objects.count() == 2
    assert AuditEvent.objects.filter(action="task.copied").count() == 1


@pytest.mark.parametrize("to", [["reviewer.gz"], ["reviewer.sz"], ["ghost"], [], "reviewer.gd", [1]])
def test_copy_refusals(api, two_cases, to):
    first, _ = two_cases
    task = HumanTask.objects.get(case_id=first["id"], step="review")
    resp = api("reviewer.sz").post(f"/api/tasks/{task.pk}/copy/", {"to": to}, format="json")
    assert resp.status_code == 400, resp.content
    assert "to" in resp.json()
    assert CaseCopy.objects.count() == 0


def test_copy_outside_scope_is_404(api, two_cases):
    first, _ = two_cases
    task = HumanTask.objects.get(case_id=first["id"], step="review")
    assert api("reviewer.gz").post(f"/api/tasks/{task.pk}/copy/", {"to": ["reviewer.gd"]}, format="json").status_code == 404

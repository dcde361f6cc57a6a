"""Bulk actions with one result per item; comments; the case timeline."""

from __future__ import annotations

import os

import pytest

from backend.customers.models import Customer
from backend.customers.services import account_opening_submit
from tasks.models import HumanTask, TaskComment
from tests.factories import resident_id, scan_upload

pytestmark = pytest.mark.django_db
BULK_SIZE = 500 if os.environ.get("CUSTFLOW_SLOW") == "1" else 40


def _open_many(users, n: int) -> list[int]:
    for i in range(n):
        account_opening_submit(  # an officer's own advanced openings go straight to review
            actor=users["officer.sz"], info_level="advanced", name=f"批量{i}", id_type="resident_id",
            id_number=resident_id(serial=i), phone=f"137{i:08d}", scan=scan_upload(), id_valid_until="2041-06-30",
        )
    return list(HumanTask.objects.filter(step="review", status="ready").order_by("id").values_list("id", flat=True))


def test_bulk_approve_reports_each_item_with_partial_failures(api, users):
    ids = _open_many(users, BULK_SIZE)
    assert len(ids) == BULK_SIZE
    # Someone else already took one; one id does not exist; one is outside the reviewer's scope.
    taken = ids[0]
    HumanTask.objects.filter(pk=taken).update(assignee=users["officer.sz"])
    request_ids = [*ids[:-1], 999999]  # exactly BULK_SIZE items, the last one unknown
    resp = api("reviewer.sz").post("/api/tasks/bulk/", {"action": "complete", "task_ids": request_ids, "data": {"decision": "approve"}}, format="json")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert [r["id"] for r in body["results"]] == request_ids
    by_id = {r["id"]: r for r in body["results"]}
    assert by_id[taken]["status"] == 409 and not by_id[taken]["ok"]
    assert by_id[999999]["status"] == 404
    assert body["succeeded"] == BULK_SIZE - 2 and body["failed"] == 2
    assert Customer.objects.filter(status="active").count() == BULK_SIZE - 2


def test_bulk_refuses_forms_that_do_not_allow_it(api, users, submit):
    ids = _open_many(users, 1)
    api("reviewer.sz").post(f"/api/tasks/{ids[0]}/complete/", {"decision": "return", "comment": "请补充"}, format="json")
    fix = HumanTask.objects.get(step="fix_submission")
    resp = api("collector.sz").post("/api/tasks/bulk/", {"action": "complete", "task_ids": [fix.pk], "data": {}}, format="json")
    assert resp.json()["results"][0]["status"] == 400 and resp.json()["results"][0]["code"] == "bulk_not_allowed"


def test_bulk_claim(api, users):
    ids = _open_many(users, 3)
    body = api("reviewer.sz").post("/api/tasks/bulk/", {"action": "claim", "task_ids": ids}, format="json").json()
    assert body["succeeded"] == 3
    assert set(HumanTask.objects.filter(pk__in=ids).values_list("assignee__username", flat=True)) == {"reviewer.sz"}


@pytest.mark.parametrize("payload, field", [({"action": "delete", "task_ids": [1]}, "action"), ({"action": "claim", "task_ids": []}, "task_ids"), ({"action": "claim", "task_ids": ["1"]}, "task_ids"), ({"action": "claim", "task_ids": list(range(501))}, "task_ids"), ({"action": "claim", "task_ids": [1], "data": [1]}, "data")])
def test_bulk_bad_requests(api, demo, payload, field):
    resp = api("reviewer.sz").post("/api/tasks/bulk/", payload, format="json")
    assert resp.status_code == 400 and field in resp.json()


def test_comments_and_timeline(api, users):
    ids = _open_many(users, 1)
    client = api("reviewer.sz")
    resp = client.post(f"/api/tasks/{ids[0]}/comments/", {"body": "请核实电话"}, format="json")
    assert resp.status_code == 201 and resp.json()["author"] == "reviewer.sz"
    assert client.post(f"/api/tasks/{ids[0]}/comments/", {"body": "  "}, format="json").status_code == 400
    assert api("reviewer.gz").post(f"/api/tasks/{ids[0]}/comments/", {"body": "x"}, format="json").status_code == 404
    assert [c["body"] for c in api("collector.sz").get(f"/api/tasks/{ids[0]}/comments/").json()] == ["请核实电话"]
    client.post(f"/api/tasks/{ids[0]}/complete/", {"decision": "approve"}, format="json")
    actions = [e["action"] for e in client.get(f"/api/tasks/{ids[0]}/timeline/").json()["events"]]
    assert actions == ["process.started", "task.created", "task.commented", "task.completed"]
    assert TaskComment.objects.count() == 1

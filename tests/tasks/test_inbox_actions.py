"""转办 transfer, 催办 remind and the notification centre."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit, Role, RoleAssignment
from tasks.models import HumanTask, Notification
from tests.conftest import inbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(users):
    """A second reviewer at 深圳."""
    user = get_user_model().objects.create_user("reviewer2.sz", password="demo-pass-2026", first_name="深圳审核岗二")
    RoleAssignment.objects.create(user=user, role=Role.REVIEWER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    return user


@pytest.fixture
def review(submit):
    assert submit("advanced").status_code == 201
    return HumanTask.objects.get(step="review")


def transfer(client, task, **body):
    return client.post(f"/api/tasks/{task.pk}/transfer/", body, format="json")


def test_transfer_to_an_eligible_colleague(api, review, colleague):
    resp = transfer(api("reviewer.sz"), review, to="reviewer2.sz", reason="出差,请代为审核")
    assert resp.status_code == 200, resp.content
    assert resp.json()["assignee"] == "reviewer2.sz"
    assert [t["id"] for t in inbox(api("reviewer2.sz"))] == [review.pk]
    assert inbox(api("reviewer.sz")) == []
    event = AuditEvent.objects.get(action="task.transferred")
    assert event.data == {"from": None, "to": "reviewer2.sz", "reason": "出差,请代为审核"}
    note = Notification.objects.get(user=colleague, kind="transfer")
    assert "出差,请代为审核" in note.message
    # The colleague can now decide; the original reviewer cannot.
    assert api("reviewer.sz").post(f"/api/tasks/{review.pk}/complete/", {"decision": "approve"}, format="json").status_code == 409
    assert api("reviewer2.sz").post(f"/api/tasks/{review.pk}/complete/", {"decision": "approve"}, format="json").status_code == 200


@pytest.mark.parametrize(
    "to, reason, status, field",
    [
        ("reviewer.gz", "请处理", 400, "to"),  # outside the task's org unit: not eligible
        ("reviewer.sz", "请处理", 400, "to"),  # to self
        ("collector.sz", "请处理", 400, "to"),  # the submitter (four eyes) and not a reviewer
        ("nobody", "请处理", 400, "to"),
        ("reviewer2.sz", "", 400, "reason"),
        ("reviewer2.sz", "x" * 501, 400, "reason"),
    ],
)
def test_transfer_refusals(api, review, colleague, to, reason, status, field):
    resp = transfer(api("reviewer.sz"), review, to=to, reason=reason)
    assert resp.status_code == status, resp.content
    assert field in resp.json()
    review.refresh_from_db()
    assert review.assignee_id is None
    assert not AuditEvent.objects.filter(action="task.transferred").exists()


def test_transfer_of_someone_elses_claimed_task_is_409(api, review, colleague):
    assert api("reviewer2.sz").post(f"/api/tasks/{review.pk}/claim/").status_code == 200
    resp = transfer(api("reviewer.sz"), review, to="reviewer2.sz", reason="x")
    assert resp.status_code == 409


def test_transfer_outside_scope_is_404_and_non_candidate_403(api, review, colleague):
    assert transfer(api("reviewer.gz"), review, to="reviewer2.sz", reason="x").status_code == 404
    assert transfer(api("reviewer.gd"), review, to="reviewer2.sz", reason="x").status_code == 403


def test_remind_notifies_the_holder_once_per_interval(api, review, colleague):
    assert api("reviewer2.sz").post(f"/api/tasks/{review.pk}/claim/").status_code == 200
    resp = api("reviewer.gd").post(f"/api/tasks/{review.pk}/remind/", {"message": "客户在等"}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"reminded": ["reviewer2.sz"]}
    assert Notification.objects.get(user=colleague, kind="reminder").message.endswith("客户在等")
    again = api("collector.sz").post(f"/api/tasks/{review.pk}/remind/", {}, format="json")
    assert again.status_code == 429
    assert Notification.objects.filter(kind="reminder").count() == 1


def test_remind_refusals(api, review, colleague):
    assert api("reviewer2.sz").post(f"/api/tasks/{review.pk}/claim/").status_code == 200
    assert api("reviewer2.sz").post(f"/api/tasks/{review.pk}/remind/", {}, format="json").status_code == 400
    assert api("reviewer.gz").post(f"/api/tasks/{review.pk}/remind/", {}, format="json").status_code == 404


def test_notification_centre(api, review, colleague):
    transfer(api("reviewer.sz"), review, to="reviewer2.sz", reason="请处理")
    client = api("reviewer2.sz")
    body = client.get("/api/notifications/").json()
    assert body["unread"] == 1 and body["results"][0]["kind"] == "transfer" and body["results"][0]["task_id"] == review.pk
    note_id = body["results"][0]["id"]
    assert api("reviewer.sz").post(f"/api/notifications/{note_id}/read/").status_code == 404  # not theirs
    assert client.post(f"/api/notifications/{note_id}/read/").json() == {"marked": 1}
    assert client.get("/api/notifications/?unread=1").json()["count"] == 0
    assert client.post("/api/notifications/read/").json() == {"marked": 0}


def test_submitter_who_is_also_reviewer_cannot_transfer_their_own_review(api, users, colleague, submit):
    RoleAssignment.objects.create(user=users["collector.sz"], role=Role.REVIEWER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    submit("advanced", as_user="collector.sz")
    task = HumanTask.objects.get(step="review")
    resp = transfer(api("collector.sz"), task, to="reviewer2.sz", reason="请处理")
    assert resp.status_code == 403 and resp.json()["code"] == "four_eyes"
    task.refresh_from_db()
    assert task.assignee_id is None


def test_remind_with_nobody_to_notify_is_refused_and_not_audited(api, review, users):
    RoleAssignment.objects.filter(role=Role.REVIEWER, org_unit__code="GD-SZ").delete()
    resp = api("collector.sz").post(f"/api/tasks/{review.pk}/remind/", {}, format="json")
    assert resp.status_code == 400 and resp.json()["code"] == "nobody_to_remind"
    assert not AuditEvent.objects.filter(action="task.reminded").exists()

"""代理 substitution: new tasks route to the substitute, open ones optionally move, all audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit, Role, RoleAssignment
from tasks.models import HumanTask
from tests.conftest import inbox

pytestmark = pytest.mark.django_db


def period(days_from: float = -1, days_to: float = 3) -> dict:
    now = timezone.now()
    return {"start_at": (now + timedelta(days=days_from)).isoformat(), "end_at": (now + timedelta(days=days_to)).isoformat()}


@pytest.fixture
def collector2(users):
    user = get_user_model().objects.create_user("collector2.sz", password="demo-pass-2026")
    RoleAssignment.objects.create(user=user, role=Role.COLLECTOR, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    return user


def test_substitute_works_the_absent_reviewers_groups(api, submit):
    resp = api("reviewer.sz").post("/api/substitutions/", {"substitute": "reviewer.gd", **period(), "reason": "年假"}, format="json")
    assert resp.status_code == 201, resp.content
    submit("advanced")
    task = HumanTask.objects.get(step="review")
    assert [t["id"] for t in inbox(api("reviewer.gd"))] == [task.pk]
    assert api("reviewer.gd").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json").status_code == 200
    assert AuditEvent.objects.filter(action="substitution.created").count() == 1


def test_new_task_for_an_absent_collector_goes_to_the_substitute(api, submit, collector2):
    body = submit("advanced").json()
    assert api("collector.sz").post("/api/substitutions/", {"substitute": "collector2.sz", **period()}, format="json").status_code == 201
    review = HumanTask.objects.get(step="review")
    api("reviewer.sz").post(f"/api/tasks/{review.pk}/complete/", {"decision": "return", "comment": "请补充"}, format="json")
    fix = HumanTask.objects.get(step="fix_submission")
    assert fix.assignee == collector2 and fix.case_id == body["id"]
    assert [t["id"] for t in inbox(api("collector2.sz"))] == [fix.pk]


def test_open_tasks_move_when_asked(api, submit, users):
    submit("advanced")
    task = HumanTask.objects.get(step="review")
    api("reviewer.sz").post(f"/api/tasks/{task.pk}/claim/")
    resp = api("reviewer.sz").post("/api/substitutions/", {"substitute": "reviewer.gd", **period(), "move_open": True}, format="json")
    assert resp.status_code == 201
    task.refresh_from_db()
    assert task.assignee == users["reviewer.gd"]
    assert AuditEvent.objects.get(action="task.transferred").data["to"] == "reviewer.gd"


def test_future_absence_changes_nothing_yet(api, submit):
    api("reviewer.sz").post("/api/substitutions/", {"substitute": "reviewer.gd", **period(2, 5)}, format="json")
    submit("advanced")
    assert inbox(api("reviewer.gd")) == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"substitute": "reviewer.gz"}, "substitute"),  # 广州 cannot see 深圳's work: not in scope
        ({"substitute": "reviewer.sz"}, "substitute"),
        ({"substitute": "ghost"}, "substitute"),
        ({"substitute": "reviewer.gd", "start_at": "tomorrow"}, "start_at"),
        ({"substitute": "reviewer.gd", **period(1, 0.5)}, "end_at"),
        ({"substitute": "reviewer.gd", **period(-5, -1)}, "end_at"),
        ({"substitute": "reviewer.gd", **period(0, 120)}, "end_at"),
    ],
)
def test_substitution_refusals(api, demo, body, field):
    resp = api("reviewer.sz").post("/api/substitutions/", {**period(), **body}, format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json()


def test_overlap_refused_and_cancel(api, demo):
    first = api("reviewer.sz").post("/api/substitutions/", {"substitute": "reviewer.gd", **period()}, format="json").json()
    assert api("reviewer.sz").post("/api/substitutions/", {"substitute": "reviewer.gd", **period(0, 1)}, format="json").status_code == 400
    assert api("reviewer.gz").post(f"/api/substitutions/{first['id']}/cancel/").status_code == 404
    assert api("reviewer.sz").post(f"/api/substitutions/{first['id']}/cancel/").json()["cancelled_at"] is not None
    assert api("reviewer.sz").post("/api/substitutions/", {"substitute": "reviewer.gd", **period(0, 1)}, format="json").status_code == 201

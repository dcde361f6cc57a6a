"""资格年度认证 (seed 001 §二: 资格认证每年进行一次): on the anniversary of his grade a manager's
recertification opens by itself; he submits last year's assessment; the grade's level confirms
the grade or lowers it (never an 不称职 year confirmed); four eyes; scoped reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign
from backend.service.models import CustomerManager, ManagerRecertification
from backend.service.recertification import certification_year_due, recertifications_open_due
from tasks.models import HumanTask
from tests.conftest import inbox

pytestmark = pytest.mark.django_db

PROCESS = "customer_manager_recertification"
CASE = "service.managerrecertification"


@pytest.mark.parametrize(
    ("since", "today", "year"),
    [
        (date(2025, 3, 10), date(2026, 3, 9), None),
        (date(2025, 3, 10), date(2026, 3, 10), 2026),
        (date(2024, 3, 10), date(2026, 12, 7), 2026),
        (date(2024, 12, 31), date(2026, 12, 7), 2025),
        (date(2024, 2, 29), date(2025, 2, 28), 2025),
        (date(2024, 2, 29), date(2025, 2, 27), None),
        (date(2026, 1, 1), date(2026, 12, 31), None),
    ],
)
def test_the_certification_year_is_the_latest_anniversary(since, today, year):
    assert certification_year_due(since, today) == year


def _graded(username="manager.sz", grade="junior", days_ago=370):
    manager = CustomerManager.objects.get(user__username=username)
    manager.grade, manager.since = grade, timezone.now() - timedelta(days=days_ago)
    manager.save(update_fields=["grade", "since"])
    return manager


def _task(client, case_id, step):
    return next((t for t in inbox(client) if t["process"] == PROCESS and t["case_id"] == case_id and t["step"] == step), None)


def _open_one(**kw) -> ManagerRecertification:
    _graded(**kw)
    assert recertifications_open_due() == 1
    return ManagerRecertification.objects.get()


def _submit(api, case, assessment="competent", results="全年服务客户 86 户，新增保费 210 万元，无有效投诉"):
    task = _task(api("manager.sz"), case.pk, "submit_assessment")
    assert task is not None
    resp = api("manager.sz").post(f"/api/tasks/{task['id']}/complete/", {"assessment": assessment, "results": results}, format="json")
    assert resp.status_code == 200, resp.content


def test_the_anniversary_opens_one_case_per_year_and_only_for_graded_managers(users):
    _graded(days_ago=30)
    assert recertifications_open_due() == 0  # before the first anniversary
    CustomerManager.objects.filter(user__username="manager.sz").update(grade="")
    assert recertifications_open_due() == 0  # not graded
    case = _open_one()
    assert recertifications_open_due() == 0  # idempotent
    assert case.year == timezone.localdate().year or case.year == timezone.localdate().year - 1
    assert case.grade == "junior" and case.status == "pending" and case.org_unit.code == "GD-SZ"
    assert AuditEvent.objects.filter(action="manager_recertification.opened", object_id=str(case.pk)).exists()
    task = HumanTask.objects.get(case_type=CASE, case_id=case.pk, status="ready")
    assert task.step == "submit_assessment" and task.assignee_id == users["manager.sz"].pk
    assert task.working_days  # P10WD


def test_the_manager_submits_and_the_city_confirms(api):
    case = _open_one()
    _submit(api, case)
    case.refresh_from_db()
    assert case.assessment == "competent" and case.submitted_at
    task = _task(api("reviewer.sz"), case.pk, "city_review")
    assert task is not None and _task(api("reviewer.gd"), case.pk, "province_review") is None
    resp = api("reviewer.sz").post(f"/api/tasks/{task['id']}/complete/", {"decision": "confirm", "comment": "考核称职，维持级别"}, format="json")
    assert resp.status_code == 200, resp.content
    case.refresh_from_db()
    assert case.status == "confirmed" and case.new_grade == "junior" and case.decided_by.username == "reviewer.sz"
    assert CustomerManager.objects.get(pk=case.manager_id).grade == "junior"
    body = api("manager.sz").get(f"/api/manager-recertifications/{case.pk}/").json()
    assert body["status"] == "confirmed" and body["assessment"] == "competent"


def test_an_incompetent_year_cannot_be_confirmed_and_a_downgrade_needs_a_lower_grade_and_a_reason(api):
    case = _open_one(grade="regular")
    _submit(api, case, assessment="incompetent", results="全年新增保费未达标，客户投诉 3 起")
    task = _task(api("reviewer.sz"), case.pk, "city_review")
    url = f"/api/tasks/{task['id']}/complete/"
    refused = [
        ({"decision": "confirm"}, "decision"),
        ({"decision": "downgrade", "new_grade": "senior", "comment": "升级"}, "new_grade"),
        ({"decision": "downgrade", "new_grade": "regular", "comment": "同级"}, "new_grade"),
        ({"decision": "downgrade", "new_grade": "junior"}, "comment"),
    ]
    for body, field in refused:
        resp = api("reviewer.sz").post(url, body, format="json")
        assert resp.status_code == 400, (body, resp.content)
        assert field in resp.content.decode(), (body, resp.content)
        case.refresh_from_db()
        assert case.status == "pending" and CustomerManager.objects.get(pk=case.manager_id).grade == "regular"
    resp = api("reviewer.sz").post(url, {"decision": "downgrade", "new_grade": "junior", "comment": "考核不称职，降为初级"}, format="json")
    assert resp.status_code == 200, resp.content
    case.refresh_from_db()
    assert case.status == "downgraded" and case.new_grade == "junior"
    assert CustomerManager.objects.get(pk=case.manager_id).grade == "junior"
    assert AuditEvent.objects.filter(action="manager_recertification.downgraded", object_id=str(case.pk)).exists()


def test_the_top_grades_are_recertified_at_the_province(api):
    case = _open_one(grade="senior")
    _submit(api, case, assessment="excellent")
    assert _task(api("reviewer.sz"), case.pk, "city_review") is None
    task = _task(api("reviewer.gd"), case.pk, "province_review")
    assert task is not None
    resp = api("reviewer.gd").post(f"/api/tasks/{task['id']}/complete/", {"decision": "confirm"}, format="json")
    assert resp.status_code == 200, resp.content
    assert ManagerRecertification.objects.get(pk=case.pk).status == "confirmed"


def test_bad_assessment_is_a_field_error(api):
    case = _open_one()
    task = _task(api("manager.sz"), case.pk, "submit_assessment")
    for body in ({}, {"assessment": "great", "results": "x"}, {"assessment": "competent", "results": ""}, {"assessment": "competent", "results": "x" * 2001}):
        resp = api("manager.sz").post(f"/api/tasks/{task['id']}/complete/", body, format="json")
        assert resp.status_code == 400, (body, resp.content)
    case.refresh_from_db()
    assert case.assessment == "" and case.submitted_at is None


def test_the_manager_never_decides_his_own(api, users):
    me = users["manager.sz"]
    role_assign(user=me, role=Role.REVIEWER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    case = _open_one()
    _submit(api, case)
    task = HumanTask.objects.get(case_type=CASE, case_id=case.pk, status="ready")
    assert task.step == "city_review"
    assert _task(api("manager.sz"), case.pk, "city_review") is None
    resp = api("manager.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "confirm"}, format="json")
    assert resp.status_code in (403, 404), resp.content
    assert ManagerRecertification.objects.get(pk=case.pk).status == "pending"


def test_reading_is_scoped(api):
    case = _open_one()
    url = f"/api/manager-recertifications/{case.pk}/"
    for username in ("manager.sz", "reviewer.sz", "reviewer.gd", "compliance.ho", "cs.ho"):
        assert api(username).get(url).status_code == 200, username
    missing = api("reviewer.gz").get("/api/manager-recertifications/987654321/")
    for username in ("reviewer.gz", "reviewer.hz", "collector.sz", "handler.sz", "head.sz"):
        got = api(username).get(url)
        assert got.status_code == 404 and got.content == missing.content, username

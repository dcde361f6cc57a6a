"""客户经理资格审批 (seed 001 §二): apply for a grade with evidence; approved by level (资深、高级
at the province branch, the others at the city branch); four eyes; one open application."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.common.exceptions import Forbidden
from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from backend.service.models import CustomerManager, ManagerQualification
from backend.service.services import manager_qualification_approve
from processes.models import ProcessInstance, Timer
from processes.sweep import timers_sweep
from tasks.models import HumanTask
from tests.conftest import inbox

pytestmark = pytest.mark.django_db

PROCESS = "customer_manager_qualification"


def evidence(**overrides):
    data = {
        "requested_grade": "regular",
        "ability": "熟悉财产险与寿险产品，能独立完成大客户方案设计",
        "experience_years": 6,
        "results": "上年度新增保费 320 万元，续保率 92%",
        "customer_types": ["individual", "corporate"],
    }
    data.update(overrides)
    return data


def apply(api, as_user="manager.sz", **overrides):
    return api(as_user).post("/api/manager-qualifications/", evidence(**overrides), format="json")


def tasks_of(client, case_id):
    return [t for t in inbox(client) if t["process"] == PROCESS and t["case_id"] == case_id]


def decide(api, reviewer, case_id, decision="approve", comment=""):
    [task] = tasks_of(api(reviewer), case_id)
    body = {"decision": decision, **({"comment": comment} if comment else {})}
    return api(reviewer).post(f"/api/tasks/{task['id']}/complete/", body, format="json")


def grade_of(username="manager.sz"):
    return CustomerManager.objects.get(user__username=username).grade


def test_regular_grade_goes_to_the_city_reviewer_and_approval_sets_the_grade(api):
    resp = apply(api)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "pending" and body["review_level"] == "city" and body["previous_grade"] == "junior"
    assert tasks_of(api("reviewer.gd"), body["id"]) == []
    assert decide(api, "reviewer.sz", body["id"]).status_code == 200
    case = ManagerQualification.objects.get(pk=body["id"])
    assert case.status == "approved" and case.decided_by.username == "reviewer.sz" and case.decided_at is not None
    assert grade_of() == "regular"
    assert ProcessInstance.objects.get(pk=case.process_instance_id).status == "completed"


def test_senior_grade_goes_to_the_province_reviewer_never_the_city(api):
    body = apply(api, requested_grade="senior").json()
    assert body["review_level"] == "province"
    assert tasks_of(api("reviewer.sz"), body["id"]) == []
    task = HumanTask.objects.get(case_type="service.managerqualification", case_id=body["id"], status="ready")
    assert task.org_unit.code == "GD" and task.step == "province_review"
    # Approval by the wrong level: the city reviewer can neither claim nor complete it.
    city = api("reviewer.sz")
    assert city.post(f"/api/tasks/{task.pk}/claim/").status_code in (403, 404)
    assert city.post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json").status_code in (403, 404)
    assert grade_of() == "junior" and ManagerQualification.objects.get(pk=body["id"]).status == "pending"
    assert decide(api, "reviewer.gd", body["id"]).status_code == 200
    assert grade_of() == "senior"


def test_the_service_refuses_a_decision_by_the_wrong_level(api, users):
    """Even if a diagram edit routed 高级 to the city lane, the service refuses the city reviewer."""
    body = apply(api, requested_grade="principal").json()
    with pytest.raises(Forbidden) as exc:
        manager_qualification_approve(actor=users["reviewer.sz"], case_id=body["id"])
    assert exc.value.code == "wrong_review_level" and "省分公司" in exc.value.message
    assert grade_of() == "junior"


def test_reject_records_the_reason_and_leaves_the_grade(api):
    body = apply(api).json()
    assert decide(api, "reviewer.sz", body["id"], "reject").status_code == 400  # a reason is required
    assert decide(api, "reviewer.sz", body["id"], "reject", "业绩材料不足").status_code == 200
    case = ManagerQualification.objects.get(pk=body["id"])
    assert case.status == "rejected" and case.decision_comment == "业绩材料不足"
    assert grade_of() == "junior"
    # Closed: a new application may follow.
    assert apply(api, requested_grade="trainee").status_code == 201


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"requested_grade": "boss"}, "requested_grade"),
        ({"requested_grade": "junior"}, "requested_grade"),  # already his grade
        ({"ability": ""}, "ability"),
        ({"ability": "x" * 1001}, "ability"),
        ({"results": "  "}, "results"),
        ({"experience_years": -1}, "experience_years"),
        ({"experience_years": 51}, "experience_years"),
        ({"experience_years": "六年"}, "experience_years"),
        ({"experience_years": True}, "experience_years"),
        ({"customer_types": []}, "customer_types"),
        ({"customer_types": ["vip"]}, "customer_types"),
        ({"customer_types": ["individual", "individual"]}, "customer_types"),
        ({"ability": "能力\x00"}, "ability"),
    ],
)
def test_bad_evidence_is_a_field_error_and_nothing_is_written(api, overrides, field):
    api("manager.sz")  # signed in (the sign-in is audited)
    events = AuditEvent.objects.count()
    resp = apply(api, **overrides)
    assert resp.status_code == 400 and field in resp.json(), resp.content
    assert ManagerQualification.objects.count() == 0 and ProcessInstance.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_every_bad_field_is_reported_at_once(api):
    resp = apply(api, requested_grade="", ability="", results="", experience_years=None, customer_types=None)
    assert resp.status_code == 400
    assert {"requested_grade", "ability", "results", "experience_years", "customer_types"} <= set(resp.json())


def test_only_customer_managers_at_a_base_level_unit_may_apply(api):
    resp = apply(api, as_user="collector.sz")
    assert resp.status_code == 403 and resp.json()["code"] == "not_customer_manager"
    province = user_ensure(username="manager.gd", password="demo-pass-2026")
    role_assign(user=province, role=Role.CUSTOMER_MANAGER, org_unit=OrgUnit.objects.get(code="GD"))
    resp = apply(api, as_user="manager.gd")
    assert resp.status_code == 400 and resp.json()["code"] == "not_base_level"
    assert "基层单位" in resp.json()["detail"]
    assert ManagerQualification.objects.count() == 0 and not CustomerManager.objects.filter(user=province).exists()


def test_a_first_application_registers_the_manager_at_his_unit(api):
    newcomer = user_ensure(username="manager.gz", password="demo-pass-2026")
    role_assign(user=newcomer, role=Role.CUSTOMER_MANAGER, org_unit=OrgUnit.objects.get(code="GD-GZ"))
    body = apply(api, as_user="manager.gz", requested_grade="trainee").json()
    assert body["previous_grade"] == "" and body["org_unit"] == "GD-GZ"
    assert CustomerManager.objects.get(user=newcomer).grade == ""
    assert tasks_of(api("reviewer.gz"), body["id"]) and not tasks_of(api("reviewer.sz"), body["id"])


def test_one_open_application_at_a_time(api):
    assert apply(api).status_code == 201
    resp = apply(api, requested_grade="senior")
    assert resp.status_code == 409 and resp.json()["code"] == "qualification_pending"
    assert ManagerQualification.objects.count() == 1


def test_reading_is_scoped(api):
    body = apply(api).json()
    url = f"/api/manager-qualifications/{body['id']}/"
    for username in ("manager.sz", "reviewer.sz", "reviewer.gd", "compliance.ho"):
        assert api(username).get(url).status_code == 200, username
    missing = api("reviewer.gz").get("/api/manager-qualifications/987654321/")
    for username in ("reviewer.gz", "reviewer.hz", "collector.gz", "collector.sz", "handler.sz"):
        got = api(username).get(url)
        assert got.status_code == 404 and got.content == missing.content, username
    # Another manager at the same unit sees only his own applications.
    colleague = user_ensure(username="manager2.sz", password="demo-pass-2026")
    role_assign(user=colleague, role=Role.CUSTOMER_MANAGER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    assert api("manager2.sz").get(url).status_code == 404


def test_the_applicant_can_never_approve_his_own(api, users):
    me = users["manager.sz"]
    for code in ("GD-SZ", "GD"):
        role_assign(user=me, role=Role.REVIEWER, org_unit=OrgUnit.objects.get(code=code))
    body = apply(api, requested_grade="senior").json()
    task = HumanTask.objects.get(case_type="service.managerqualification", case_id=body["id"], status="ready")
    assert tasks_of(api("manager.sz"), body["id"]) == []
    resp = api("manager.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json")
    assert resp.status_code in (403, 404)
    with pytest.raises(Forbidden):
        manager_qualification_approve(actor=me, case_id=body["id"])
    assert grade_of() == "junior"


def test_each_step_is_audited(api):
    body = apply(api).json()
    decide(api, "reviewer.sz", body["id"])
    actions = list(
        AuditEvent.objects.filter(object_type="service.managerqualification", object_id=str(body["id"])).values_list("action", "actor__username")
    )
    assert ("manager_qualification.applied", "manager.sz") in actions
    assert ("manager_qualification.approved", "reviewer.sz") in actions


def test_the_task_page_shows_the_evidence_and_the_diagram(api, client, users):
    body = apply(api, requested_grade="senior").json()
    [task] = tasks_of(api("reviewer.gd"), body["id"])
    detail = api("reviewer.gd").get(f"/api/tasks/{task['id']}/").json()
    assert detail["case"]["requested_grade"] == "senior" and detail["case"]["experience_years"] == 6
    client.force_login(users["reviewer.gd"])
    page = client.get(f"/tasks/{task['id']}/").content.decode()
    assert "高级客户经理" in page and "上年度新增保费 320 万元" in page
    # The instance page (process owners) shows the diagram with the current step.
    client.force_login(users["owner.ho"])
    diagram = client.get(f"/processes/instances/{body['process_instance_id']}/")
    assert diagram.status_code == 200
    text = diagram.content.decode()
    assert "customer_manager_qualification" in text and "province_review" in text


def test_an_overdue_approval_is_escalated_and_stays_at_its_level(api):
    """The review has a 48-hour deadline; when it passes, the escalation is recorded and the
    same level gets the step again with a fresh clock (never a lower level)."""
    body = apply(api, requested_grade="senior").json()
    task = HumanTask.objects.get(case_type="service.managerqualification", case_id=body["id"], status="ready")
    deadline = Timer.objects.get(instance_id=task.instance_id, spec="province_deadline", status="pending")
    assert task.due_at == deadline.due_at
    assert abs((deadline.due_at - task.created_at) - timedelta(hours=48)) < timedelta(minutes=1)
    timers_sweep(now=deadline.due_at + timedelta(seconds=1))
    again = HumanTask.objects.get(case_type="service.managerqualification", case_id=body["id"], status="ready")
    assert again.pk != task.pk and again.step == "province_review" and again.org_unit.code == "GD"
    assert again.due_at > deadline.due_at
    assert AuditEvent.objects.filter(process_instance_id=task.instance_id, action__contains="escalat").exists()
    assert ManagerQualification.objects.get(pk=body["id"]).status == "pending"

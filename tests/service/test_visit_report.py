"""月度走访分析报告 (seed 001 §二: a manager writes a monthly visit-analysis report): the daily job
opens last month's report once per manager and month, in his name; he submits it through his
task (visits, customers visited, his analysis); bad values are 400 at the field and change
nothing; one submitted after its due time is late, and the unit's page lists the late ones;
reads are scoped (404 outside)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from backend.service.models import VisitReport
from backend.service.services import customer_manager_ensure
from backend.service.visit_reports import previous_month, visit_report_due_at, visit_reports_open_due
from processes.models import ProcessInstance, Timer
from processes.sweep import timers_sweep
from tasks.models import HumanTask
from tests.conftest import inbox

pytestmark = pytest.mark.django_db

PROCESS = "customer_manager_visit_report"
CASE = "service.visitreport"
GOOD = {"visits": 24, "customers_visited": 18, "analysis": "客户普遍关注重疾险续保；两户反映理赔材料繁琐，建议简化。"}


def _task(client, case_id):
    return next((t for t in inbox(client) if t["process"] == PROCESS and t["case_id"] == case_id), None)


def _open(today: date) -> VisitReport:
    assert visit_reports_open_due(today=today) == 1
    return VisitReport.objects.get(month=previous_month(today))


def _complete(api, case, body=None, username="manager.sz"):
    task = _task(api(username), case.pk)
    assert task is not None
    return api(username).post(f"/api/tasks/{task['id']}/complete/", body or GOOD, format="json")


@pytest.mark.parametrize(
    ("today", "month"),
    [(date(2026, 12, 1), date(2026, 11, 1)), (date(2026, 12, 31), date(2026, 11, 1)), (date(2027, 1, 5), date(2026, 12, 1))],
)
def test_the_report_is_on_the_month_before(today, month):
    assert previous_month(today) == month


def test_the_due_time_is_the_fifth_working_day_of_the_next_month(demo):
    # October 2026: 1–7 October is the National Day holiday, 10 October a 调休 working Saturday.
    due = timezone.localtime(visit_report_due_at(date(2026, 9, 1)))
    assert (due.date(), due.hour, due.minute) == (date(2026, 10, 13), 23, 59)
    assert timezone.localtime(visit_report_due_at(date(2026, 11, 1))).date() == date(2026, 12, 7)
    with override_settings(CUSTFLOW={**_custflow(), "DEADLINES": {**_custflow()["DEADLINES"], "visit_report": "P3D"}}):
        assert timezone.localtime(visit_report_due_at(date(2026, 11, 1))) == timezone.make_aware(datetime(2026, 12, 4))


def _custflow():
    from django.conf import settings

    return settings.CUSTFLOW


def test_the_job_opens_one_report_per_active_manager_and_month(users):
    sz = OrgUnit.objects.get(code="GD-SZ")
    second = user_ensure(username="manager2.sz", password="demo-pass-2026")
    role_assign(user=second, role=Role.CUSTOMER_MANAGER, org_unit=sz)
    customer_manager_ensure(user=second, org_unit=sz, grade="")
    gone = user_ensure(username="manager3.sz", password="demo-pass-2026")
    customer_manager_ensure(user=gone, org_unit=sz, grade="")
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    assert visit_reports_open_due(today=date(2026, 12, 1)) == 2
    assert visit_reports_open_due(today=date(2026, 12, 1)) == 0  # idempotent
    assert visit_reports_open_due(today=date(2026, 12, 20)) == 0  # the same month, later
    reports = VisitReport.objects.order_by("manager__user__username")
    assert [(r.manager.user.username, r.month, r.status) for r in reports] == [
        ("manager.sz", date(2026, 11, 1), "open"),
        ("manager2.sz", date(2026, 11, 1), "open"),
    ]
    assert visit_reports_open_due(today=date(2027, 1, 1)) == 2  # the next month: a new report each
    report = reports.get(manager__user__username="manager.sz", month=date(2026, 11, 1))
    assert report.org_unit.code == "GD-SZ" and report.process_instance_id
    assert AuditEvent.objects.filter(action="visit_report.opened", object_id=str(report.pk)).exists()
    task = HumanTask.objects.get(case_type=CASE, case_id=report.pk, status="ready")
    assert task.step == "submit_report" and task.assignee_id == users["manager.sz"].pk
    assert task.process_key == PROCESS and task.working_days  # P5WD


def test_the_manager_submits_through_his_task_on_time(api):
    month = previous_month(timezone.localdate())
    case = _open(timezone.localdate())
    VisitReport.objects.filter(pk=case.pk).update(due_at=timezone.now() + timedelta(days=2))
    resp = _complete(api, case)
    assert resp.status_code == 200, resp.content
    case.refresh_from_db()
    assert (case.status, case.visits, case.customers_visited, case.late) == ("submitted", 24, 18, False)
    assert case.analysis.startswith("客户普遍关注") and case.submitted_at and case.month == month
    assert ProcessInstance.objects.get(pk=case.process_instance_id).status == "completed"
    assert not HumanTask.objects.filter(case_type=CASE, case_id=case.pk, status="ready").exists()  # no approval
    assert AuditEvent.objects.filter(action="visit_report.submitted", object_id=str(case.pk)).exists()
    body = api("manager.sz").get(f"/api/visit-reports/{case.pk}/").json()
    assert body["status"] == "submitted" and body["late"] is False and body["visits"] == 24


def test_a_report_submitted_after_its_due_time_is_late_and_listed(api, client, users):
    case = _open(date(2026, 10, 1))  # September's report, due 13 October 2026
    assert case.due_at < timezone.now()
    client.force_login(users["head.sz"])
    page = client.get("/visit-reports/").content.decode()
    assert 'data-testid="late-reports"' in page and "深圳客户经理" in page and "2026-09" in page and "逾期未交" in page
    assert _complete(api, case).status_code == 200
    case.refresh_from_db()
    assert case.status == "submitted" and case.late is True
    assert api("head.sz").get(f"/api/visit-reports/{case.pk}/").json()["late"] is True
    page = client.get("/visit-reports/").content.decode()
    late = page.split('data-testid="late-reports"')[1].split("</table>")[0]
    assert "2026-09" in late and "逾期提交" in late


def test_an_open_report_not_yet_due_is_not_late(api, client, users):
    case = _open(timezone.localdate())
    VisitReport.objects.filter(pk=case.pk).update(due_at=timezone.now() + timedelta(days=3))
    client.force_login(users["head.sz"])
    page = client.get("/visit-reports/").content.decode()
    late = page.split('data-testid="late-reports"')[1].split("</table>")[0]
    assert "深圳客户经理" not in late


def test_a_late_report_is_reminded_then_escalated_and_still_his_to_submit(api, users):
    case = _open(date(2026, 12, 1))
    instance = ProcessInstance.objects.get(pk=case.process_instance_id)
    timers = Timer.objects.filter(instance=instance, status="pending").order_by("due_at")
    assert timers.count() == 2  # the reminder (75 %) and the deadline
    timers_sweep(now=timers.last().due_at + timedelta(seconds=1))
    assert AuditEvent.objects.filter(process_instance_id=instance.pk, action="task.escalated").count() >= 1
    # The step waits again, still his own; he submits it, and it is late.
    task = HumanTask.objects.get(case_type=CASE, case_id=case.pk, status="ready")
    assert task.assignee_id == users["manager.sz"].pk
    VisitReport.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(hours=1))  # the case's own due time passed too
    assert _complete(api, case).status_code == 200
    case.refresh_from_db()
    assert case.status == "submitted" and case.late is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "visits": -1}, "visits"),
        ({**GOOD, "visits": 1001, "customers_visited": 3}, "visits"),
        ({**GOOD, "visits": "二十"}, "visits"),
        ({**GOOD, "visits": 3, "customers_visited": 4}, "customers_visited"),
        ({**GOOD, "customers_visited": -2}, "customers_visited"),
        ({**GOOD, "analysis": ""}, "analysis"),
        ({**GOOD, "analysis": "   "}, "analysis"),
        ({**GOOD, "analysis": "走" * 5001}, "analysis"),
        ({**GOOD, "analysis": "客户需求\x00"}, "analysis"),
        ({"visits": 3, "customers_visited": 2}, "analysis"),
    ],
)
def test_bad_input_is_a_400_at_the_field_and_nothing_changes(api, body, field):
    case = _open(date(2026, 12, 1))
    task = _task(api("manager.sz"), case.pk)
    resp = _complete(api, case, body)
    assert resp.status_code == 400, (body, resp.content)
    assert field in resp.json(), resp.json()
    case.refresh_from_db()
    assert (case.status, case.visits, case.customers_visited, case.analysis, case.submitted_at) == ("open", None, None, "", None)
    assert HumanTask.objects.get(pk=task["id"]).status == "ready"
    assert not AuditEvent.objects.filter(action="visit_report.submitted").exists()


def test_nobody_else_submits_his_report(api, users):
    case = _open(date(2026, 12, 1))
    task = HumanTask.objects.get(case_type=CASE, case_id=case.pk, status="ready")
    other = user_ensure(username="manager2.sz", password="demo-pass-2026")
    role_assign(user=other, role=Role.CUSTOMER_MANAGER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    for username in ("manager2.sz", "head.sz", "reviewer.sz"):
        assert task.pk not in {t["id"] for t in inbox(api(username))}
        resp = api(username).post(f"/api/tasks/{task.pk}/complete/", GOOD, format="json")
        assert resp.status_code in (403, 404, 409), (username, resp.content)  # 409: the task is his
    assert VisitReport.objects.get(pk=case.pk).status == "open"


def test_the_manager_cannot_cancel_or_withdraw_his_report(api):
    case = _open(date(2026, 12, 1))
    me = api("manager.sz")
    assert me.post(f"/api/cases/{case.process_instance_id}/cancel/", {"reason": "不想写"}, format="json").status_code == 409
    assert me.post(f"/api/cases/{case.process_instance_id}/withdraw/", {"reason": "不想写"}, format="json").status_code == 409
    case.refresh_from_db()
    assert case.status == "open" and ProcessInstance.objects.get(pk=case.process_instance_id).status == "running"


def test_reading_is_scoped(api):
    case = _open(date(2026, 12, 1))
    url = f"/api/visit-reports/{case.pk}/"
    for username in ("manager.sz", "head.sz", "reviewer.sz", "officer.sz", "reviewer.gd", "compliance.ho", "cs.ho"):
        assert api(username).get(url).status_code == 200, username
        assert [r["id"] for r in api(username).get("/api/visit-reports/").json()["results"]] == [case.pk], username
    missing = api("reviewer.gz").get("/api/visit-reports/987654321/")
    assert missing.status_code == 404
    for username in ("reviewer.gz", "reviewer.hz", "collector.sz", "handler.sz", "officer.gz"):
        got = api(username).get(url)
        assert got.status_code == 404 and got.content == missing.content, username
        assert api(username).get("/api/visit-reports/").json()["results"] == [], username


def test_the_page_is_for_managers_and_their_readers(client, users):
    case = _open(date(2026, 12, 1))
    client.force_login(users["manager.sz"])
    page = client.get("/visit-reports/").content.decode()
    assert 'data-testid="my-visit-reports"' in page and "2026-11" in page
    assert f'href="/tasks/{HumanTask.objects.get(case_type=CASE, case_id=case.pk, status="ready").pk}/"' in page
    assert 'data-testid="nav-visit-reports"' in page
    for username in ("collector.sz", "handler.sz"):
        client.force_login(users[username])
        assert client.get("/visit-reports/").status_code == 403
        assert 'data-testid="nav-visit-reports"' not in client.get("/inbox/").content.decode()
    client.force_login(users["head.sz"])
    assert 'data-testid="nav-visit-reports"' in client.get("/inbox/").content.decode()


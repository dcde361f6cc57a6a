"""回访与提醒 (seed 001 §三、§四; issue 20 item 5): the daily plan opens each revisit once per
customer, kind and period; the customer's own manager or the hotline (customer service at head
office) gets the step; completing it records a contact on the customer's file; bad input is a 400
at the field and changes nothing; a revisit made after its due time is late; reads are scoped."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.customers.models import Customer, CustomerContact
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from backend.policies.models import Policy, policy_end
from backend.segments.models import CustomerSegment
from backend.service.models import CustomerAssignment, CustomerManager, ManagedCustomer, Revisit
from backend.service.revisits import quarter_of, revisits_plan
from processes.models import ProcessInstance, Timer
from tasks.models import HumanTask
from tests.complaints.factories import complaint_make
from tests.conftest import inbox
from tests.customers.factories import corporate_make, customer_make

pytestmark = pytest.mark.django_db

PROCESS = "customer_revisit"
CASE = "service.revisit"
GOOD = {"contacted": "yes", "channel": "visit", "summary": "拜访客户财务总监，了解明年扩产计划，拟增加财产险保额。"}


def _serve(customer, manager: CustomerManager):
    case = CustomerAssignment.objects.create(
        customer=customer, manager=manager, reason="测试", requested_by=manager.user, org_unit=manager.org_unit, status="approved"
    )
    ManagedCustomer.objects.create(customer=customer, manager=manager, since=timezone.now(), assignment=case)


def _segment(customer, **flags):
    CustomerSegment.objects.create(customer=customer, org_unit=customer.org_unit, computed_at=timezone.now(), **flags)


def _policy(customer, ends_in_days: int, n: int = 1) -> Policy:
    effective = policy_end(timezone.localdate() + timedelta(days=ends_in_days), -12)
    return Policy.objects.create(
        policy_number=f"P-RV-{customer.pk}-{n}", product="家庭财产险", policyholder=customer, insured=customer,
        effective_date=effective, term_months=12, sum_insured=Decimal("100000"), premium=Decimal("800"),
        payment_mode="annual", org_unit=customer.org_unit,
    )


def _manager() -> CustomerManager:
    return CustomerManager.objects.get(user__username="manager.sz")


def _task(case: Revisit) -> HumanTask:
    return HumanTask.objects.get(case_type=CASE, case_id=case.pk, status="ready")


def _complete(api, username, case, body=None):
    return api(username).post(f"/api/tasks/{_task(case).pk}/complete/", body or GOOD, format="json")


@pytest.fixture
def plan(users):
    """Every kind's customers at 深圳: managed and not, due and not."""
    manager = _manager()
    key = corporate_make(name="深圳大客户有限公司")
    _segment(key, key=True)
    _serve(key, manager)
    key_unmanaged = corporate_make(name="无经理大客户", id_number="91440300MA5FXXXX1U")
    _segment(key_unmanaged, key=True)
    good = customer_make(name="优质客户甲")
    _segment(good, good=True)
    _serve(good, manager)
    good_alone = customer_make(name="优质客户乙")
    _segment(good_alone, good=True)
    good_corporate = corporate_make(name="优质企业", id_number="91440300MA5FXXXX2U")
    _segment(good_corporate, good=True)  # the seed's yearly call is for good *individual* customers
    renewing = customer_make(name="续保客户")
    _serve(renewing, manager)
    soon = _policy(renewing, 20)
    _policy(renewing, 90, n=2)  # too far ahead
    renewing_alone = customer_make(name="续保客户无经理")
    _policy(renewing_alone, 10)
    stale = customer_make(name="久未核实客户", last_verified_at=timezone.now() - timedelta(days=400))
    _serve(stale, manager)
    customer_make(name="久未核实无经理", last_verified_at=timezone.now() - timedelta(days=400))  # the officers' sample draws him
    complained = complaint_make(customer=good, status="closed", closed_at=timezone.now() - timedelta(days=2), decided_by=users["cs.ho"])
    stranger = complaint_make(status="closed", closed_at=timezone.now() - timedelta(days=1))
    complaint_make(status="closed", closed_at=timezone.now() - timedelta(days=90))  # before the look-back
    complaint_make(status="handling")
    return {
        "key": key, "good": good, "good_alone": good_alone, "renewing": renewing, "soon": soon, "renewing_alone": renewing_alone,
        "stale": stale, "complained": complained, "stranger": stranger,
    }


def test_each_plan_opens_once_per_period_for_the_right_person(plan, users):
    today = timezone.localdate()
    opened = revisits_plan(today=today)
    assert opened == {
        "key_quarterly_visit": 1, "good_yearly_call": 2, "complaint_satisfaction": 2, "renewal_reminder": 2, "stale_record": 1,
    }
    assert set(revisits_plan(today=today).values()) == {0}  # idempotent: the same day opens nothing
    manager = users["manager.sz"]
    visit = Revisit.objects.get(kind="key_quarterly_visit")
    assert (visit.customer, visit.period, visit.lane) == (plan["key"], quarter_of(today), "manager")
    task = _task(visit)
    assert (task.process_key, task.step, task.assignee_id, task.working_days) == (PROCESS, "visit", manager.pk, True)
    assert task.customer_id == plan["key"].pk and not task.four_eyes
    calls = {r.customer.name: r for r in Revisit.objects.filter(kind="good_yearly_call")}
    assert calls["优质客户甲"].lane == "manager" and _task(calls["优质客户甲"]).assignee_id == manager.pk
    assert _task(calls["优质客户甲"]).step == "call" and calls["优质客户甲"].period == str(today.year)
    hotline = _task(calls["优质客户乙"])
    assert (hotline.step, hotline.role, hotline.org_unit.code, hotline.assignee_id) == ("hotline_call", Role.CUSTOMER_SERVICE, "HO", None)
    renewals = {r.customer.name: r for r in Revisit.objects.filter(kind="renewal_reminder")}
    assert renewals["续保客户"].policy == plan["soon"] and renewals["续保客户"].period == f"{plan['soon'].pk}:{plan['soon'].end_date.isoformat()}"
    assert _task(renewals["续保客户"]).step == "renewal" and _task(renewals["续保客户无经理"]).step == "hotline_renewal"
    stale = Revisit.objects.get(kind="stale_record")
    assert stale.customer == plan["stale"] and _task(stale).assignee_id == manager.pk
    complaint_calls = {r.complaint_id: r for r in Revisit.objects.filter(kind="complaint_satisfaction")}
    assert set(complaint_calls) == {plan["complained"].pk, plan["stranger"].pk}
    assert complaint_calls[plan["stranger"].pk].customer is None  # not a customer: the hotline calls the complainant
    assert all(_task(r).step == "hotline_call" and _task(r).four_eyes for r in complaint_calls.values())
    assert AuditEvent.objects.filter(action="revisit.opened").count() == 8
    # The next quarter: the key customer's visit again, not the yearly call.
    later = today + timedelta(days=92)
    again = revisits_plan(today=later)
    assert again["key_quarterly_visit"] == 1
    if later.year == today.year:
        assert again["good_yearly_call"] == 0


def test_the_manager_visits_and_the_outcome_is_a_contact_on_the_timeline(plan, api):
    revisits_plan()
    case = Revisit.objects.get(kind="key_quarterly_visit")
    instance = ProcessInstance.objects.get(pk=case.process_instance_id)
    assert Timer.objects.filter(instance=instance, status="pending").count() == 2  # the reminder and the deadline
    assert _task(case).pk in {t["id"] for t in inbox(api("manager.sz"))}
    resp = _complete(api, "manager.sz", case, {**GOOD, "next_step_on": (timezone.localdate() + timedelta(days=30)).isoformat()})
    assert resp.status_code == 200, resp.content
    case.refresh_from_db()
    assert (case.status, case.contacted, case.channel, case.late) == ("done", True, "visit", False)
    assert case.completed_by.username == "manager.sz" and case.next_step_at
    assert ProcessInstance.objects.get(pk=case.process_instance_id).status == "completed"
    contact = case.contact
    assert (contact.customer_id, contact.kind, contact.channel, contact.recorded_by.username) == (plan["key"].pk, "visit", "visit", "manager.sz")
    assert contact.summary.startswith("【大客户季度拜访】拜访客户财务总监")
    timeline = api("officer.sz").get(f"/api/customers/{plan['key'].pk}/timeline/").json()
    assert "拜访客户财务总监" in str(timeline)
    assert AuditEvent.objects.filter(action="revisit.completed", object_id=str(case.pk)).exists()
    assert AuditEvent.objects.filter(action="customer.contact_recorded", data__revisit=case.pk).exists()


def test_a_confirmed_stale_record_is_verified_again(plan, api):
    revisits_plan()
    case = Revisit.objects.get(kind="stale_record")
    resp = _complete(api, "manager.sz", case, {"contacted": "yes", "channel": "phone", "summary": "客户确认地址电话未变。"})
    assert resp.status_code == 400 and "data_confirmed" in resp.json()
    body = {"contacted": "yes", "channel": "phone", "summary": "客户确认地址电话未变。", "data_confirmed": "yes"}
    assert _complete(api, "manager.sz", case, body).status_code == 200
    assert Customer.objects.get(pk=plan["stale"].pk).last_verified_at > timezone.now() - timedelta(minutes=1)
    assert Revisit.objects.get(pk=case.pk).data_confirmed is True


def test_the_satisfaction_call_is_the_hotlines_and_never_the_handlers(plan, api, users):
    revisits_plan()
    case = Revisit.objects.get(complaint=plan["complained"])
    task = _task(case)
    # cs.ho decided the complaint: he neither sees nor makes its satisfaction call.
    assert task.pk not in {t["id"] for t in inbox(api("cs.ho"))}
    assert _complete(api, "cs.ho", case, {"contacted": "yes", "channel": "hotline", "summary": "回访", "satisfaction": "satisfied"}).status_code in (403, 404)
    colleague = user_ensure(username="cs2.ho", password="demo-pass-2026", full_name="客服热线坐席")
    role_assign(user=colleague, role=Role.CUSTOMER_SERVICE, org_unit=OrgUnit.objects.get(code="HO"))
    assert task.pk in {t["id"] for t in inbox(api("cs2.ho"))}
    resp = _complete(api, "cs2.ho", case, {"contacted": "yes", "channel": "hotline", "summary": "客户对处理结果表示认可。"})
    assert resp.status_code == 400 and "satisfaction" in resp.json()  # required on a complaint call
    assert Revisit.objects.get(pk=case.pk).status == "open"
    body = {"contacted": "yes", "channel": "hotline", "summary": "客户对处理结果表示认可。", "satisfaction": "basic"}
    assert _complete(api, "cs2.ho", case, body).status_code == 200
    case.refresh_from_db()
    assert (case.status, case.satisfaction, case.completed_by.username) == ("done", "basic", "cs2.ho")
    assert case.contact.kind == "call" and "基本满意" in case.contact.outcome
    # The complainant who is not a customer: the outcome stays on the revisit, no contact log.
    other = Revisit.objects.get(complaint=plan["stranger"])
    assert _complete(api, "cs2.ho", other, {"contacted": "no", "channel": "hotline", "summary": "三次拨打无人接听。"}).status_code == 200
    other.refresh_from_db()
    assert other.status == "done" and other.contacted is False and other.contact is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "summary": ""}, "summary"),
        ({**GOOD, "summary": "  "}, "summary"),
        ({**GOOD, "summary": "长" * 2001}, "summary"),
        ({**GOOD, "summary": "带\x07控制字符"}, "summary"),
        ({**GOOD, "contacted": "maybe"}, "contacted"),
        ({k: v for k, v in GOOD.items() if k != "contacted"}, "contacted"),
        ({**GOOD, "channel": "pigeon"}, "channel"),
        ({**GOOD, "satisfaction": "ecstatic"}, "satisfaction"),
        ({**GOOD, "next_step_on": "2026-02-30"}, "next_step_on"),
        ({**GOOD, "next_step_on": "not a date"}, "next_step_on"),
        ({**GOOD, "next_step_on": "2001-01-01"}, "next_step_on"),
        ({**GOOD, "next_step_on": "2999-01-01"}, "next_step_on"),
    ],
)
def test_bad_input_is_a_400_at_the_field_and_nothing_changes(plan, api, body, field):
    revisits_plan()
    case = Revisit.objects.get(kind="key_quarterly_visit")
    contacts = CustomerContact.objects.count()
    resp = _complete(api, "manager.sz", case, body)
    assert resp.status_code == 400, resp.content
    assert field in resp.json(), resp.json()
    case.refresh_from_db()
    assert case.status == "open" and case.summary == "" and case.contact is None
    assert CustomerContact.objects.count() == contacts and _task(case).status == "ready"
    assert not AuditEvent.objects.filter(action="revisit.completed").exists()


def test_nobody_but_the_customers_manager_makes_his_visit(plan, api, users):
    revisits_plan()
    case = Revisit.objects.get(kind="key_quarterly_visit")
    other = user_ensure(username="manager2.sz", password="demo-pass-2026", full_name="另一位客户经理")
    role_assign(user=other, role=Role.CUSTOMER_MANAGER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    assert _task(case).pk not in {t["id"] for t in inbox(api("manager2.sz"))}
    assert _complete(api, "manager2.sz", case).status_code in (403, 404, 409)
    assert Revisit.objects.get(pk=case.pk).status == "open"


def test_a_revisit_made_after_its_due_time_is_late_and_listed(plan, api, client, users):
    revisits_plan()
    case = Revisit.objects.get(kind="key_quarterly_visit")
    Revisit.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(hours=1))
    client.force_login(users["head.sz"])
    page = client.get("/revisits/").content.decode()
    overdue = page.split('data-testid="overdue-revisits"')[1].split("</table>")[0]
    assert "大客户季度拜访" in overdue and f'data-testid="revisit-task-{case.pk}"' in overdue
    assert api("head.sz").get(f"/api/revisits/{case.pk}/").json()["overdue"] is True
    assert _complete(api, "manager.sz", case).status_code == 200
    case.refresh_from_db()
    assert case.late is True
    page = client.get("/revisits/").content.decode()
    assert f'data-testid="late-done-{case.pk}"' in page


def test_the_stale_plan_is_bounded_per_branch_and_run(users):
    manager = _manager()
    for n in range(3):
        customer = customer_make(name=f"久未核实{n}", last_verified_at=timezone.now() - timedelta(days=400 + n))
        _serve(customer, manager)
    revisit_settings = {**settings.CUSTFLOW["REVISITS"], "STALE_PER_BRANCH": 2}
    with override_settings(CUSTFLOW={**settings.CUSTFLOW, "REVISITS": revisit_settings}):
        assert revisits_plan()["stale_record"] == 2
        names = set(Revisit.objects.filter(kind="stale_record").values_list("customer__name", flat=True))
        assert names == {"久未核实1", "久未核实2"}  # the oldest first
        assert revisits_plan()["stale_record"] == 1
        assert revisits_plan()["stale_record"] == 0


def test_reading_is_scoped(plan, api, client, users):
    revisits_plan()
    case = Revisit.objects.get(kind="key_quarterly_visit")
    hotline = Revisit.objects.get(complaint=plan["stranger"])
    for username in ("manager.sz", "officer.sz", "head.sz", "compliance.ho", "cs.ho", "compliance.gd"):
        assert api(username).get(f"/api/revisits/{case.pk}/").status_code == 200, username
    for username in ("collector.sz", "reviewer.sz", "officer.gz", "reviewer.gd", "handler.sz"):
        assert api(username).get(f"/api/revisits/{case.pk}/").status_code == 404, username
        assert api(username).get("/api/revisits/").json()["count"] == 0, username
    assert api("manager.sz").get(f"/api/revisits/{hotline.pk}/").status_code == 404  # not his customer
    listed = api("manager.sz").get("/api/revisits/?kind=key_quarterly_visit&status=open").json()
    assert [r["id"] for r in listed["results"]] == [case.pk]
    assert listed["results"][0]["customer_name"] != plan["key"].name  # masked in lists
    bad = api("manager.sz").get("/api/revisits/?kind=nonsense&status=gone")
    assert bad.status_code == 400 and {"kind", "status"} <= set(bad.json())
    client.force_login(users["collector.sz"])
    assert client.get("/revisits/").status_code == 403
    assert api("manager.sz").get("/api/revisits/abc/").status_code == 404

"""R7/R9: the access matrix, generated from the URL configuration.

One object of every kind is created at the 深圳 city branch (GD-SZ). Then every API route with
an id path parameter is called, with every method its view has, as users of another city of the
same province (GD-GZ), a city of another province (ZJ-HZ) and the sibling province (ZJ): each
call must fail exactly as it fails for an id that does not exist (no 2xx, same status), so an
outsider can neither read nor act, nor learn that the object exists. The owning province (GD)
and head office may read. A new route with an id fails `test_every_id_route_is_covered` until
it gets an object here or an entry in EXEMPT with its reason.

No self-approval: a user holding every role at the city and the province starts each kind of
case; no approval step of their own case appears in their inbox, nor can they claim or complete
it, while another reviewer can.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from backend.customers.models import Customer, CustomerContact
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from backend.service.models import (
    CustomerAssignment,
    CustomerManager,
    ManagedCustomer,
    ManagerRecertification,
    VisitReport,
)
from backend.service.recertification import recertifications_open_due
from backend.service.revisits import revisit_open
from backend.service.services import customer_manager_ensure
from backend.service.visit_reports import visit_reports_open_due
from tasks.models import HumanTask
from tests.complaints.factories import complaint_make, complaint_users
from tests.complaints.helpers import complaint_payload
from tests.conftest import inbox, officer_confirm
from tests.factories import corporate_payload, opening_payload, resident_id

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("access-matrix")]

# Routes with an id that this matrix does not drive, each with the reason.
EXEMPT = {
    "api-document-verify": "public by design: anyone verifies a printed form by its QR id; answers a verdict, "
    "no personal data (tests/documents/test_signed_forms.py)",
    "api-integration-request": "upstream clients only (Bearer client token); scoped to the client "
    "(tests/integrations/test_automatic_opening.py)",
    "api-integration-client-rotate": "superusers only (tests/integrations)",
    "api-integration-client-revoke": "superusers only (tests/integrations)",
    "api-report-sla-export": "the path parameter is a file format, not an object id",
    # Process definitions are not org-scoped: one set for the company. Their routes are driven for
    # every role by test_process_routes_for_every_role below (owners and compliance read, others 403/404).
    **{
        name: "process definitions are company-wide: test_process_routes_for_every_role"
        for name in (
            "api-process-draft", "api-process-draft-request", "api-process-draft-approve", "api-process-draft-reject",
            "api-process-draft-form", "api-process-draft-form-preview", "api-process-versions", "api-process-version",
            "api-process-diff", "api-process-migrations", "api-process-migration-rollback",
        )
    },
    "api-report-archive-file": "monthly SLA archives exist for head office and provinces only (no city object); "
    "readers by report role and unit (tests/reports)",
}
# Answers that are 2xx by design but identical for a foreign and a missing id (nothing happens).
SAME_AS_MISSING = {"api-notification-read"}
OUTSIDERS = ["reviewer.gz", "collector.gz", "officer.gz", "reviewer.hz", "reviewer.zj", "officer.zj", "compliance.zj", "handler.gz", "handler.hz"]
READERS = ["reviewer.gd", "officer.gd", "compliance.gd", "compliance.ho", "officer.ho"]
COMPLAINT_READERS = ["handler.gd", "cs.ho"]  # the complaint roles of the owning province and head office
# Detail reads the owning province and head office must be able to make.
READER_ROUTES = [
    "api-opening", "api-opening-scan", "api-task", "api-task-timeline", "api-customer", "api-customer-history", "api-amendment",
    "api-customer-contacts", "api-customer-timeline",
    "api-blacklist-entry", "api-blacklist-change", "api-policy", "api-endorsement", "api-complaint",
    "api-manager-qualification", "api-visit-report",
]
MISSING = {"int": 987654321, "str": "00000000-0000-0000-0000-000000000000"}
KEEP = {"form"}  # path parameters that name a kind, not an object: the same for the missing-id call


def id_routes() -> list[tuple[str, dict[str, str], list[str]]]:
    """(url name, {param: converter type}, methods) of every named API route with a path parameter."""
    found = []

    def walk(patterns, prefix_converters):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, {**prefix_converters, **p.pattern.converters})
            elif isinstance(p, URLPattern) and (p.name or "").startswith("api-"):
                converters = {**prefix_converters, **p.pattern.converters}
                if not converters:
                    continue
                kinds = {k: "int" if type(c).__name__ == "IntConverter" else "str" for k, c in converters.items()}
                view = getattr(p.callback, "view_class", None)
                methods = [m for m in ("get", "post", "put", "patch", "delete") if view and hasattr(view, m)]
                found.append((p.name, kinds, methods))

    walk(get_resolver().url_patterns, {})
    return found


@pytest.fixture
def people(users):
    zj, ho = OrgUnit.objects.get(code="ZJ"), OrgUnit.objects.get(code="HO")
    for username, role, unit in [
        ("reviewer.zj", Role.REVIEWER, zj), ("officer.zj", Role.OFFICER, zj), ("compliance.zj", Role.COMPLIANCE, zj),
        ("officer.ho", Role.OFFICER, ho),
    ]:
        role_assign(user=user_ensure(username=username, password="demo-pass-2026"), role=role, org_unit=unit)


def _ok(resp, status=(200, 201, 202)):
    assert resp.status_code in status, resp.content[:500]
    return resp.json() if resp.get("Content-Type", "").startswith("application/json") else resp


def _approve(api, case_id, reviewer="reviewer.sz", process=None):
    [task] = [t for t in inbox(api(reviewer)) if t["case_id"] == case_id and (process is None or t["process"] == process)]
    _ok(api(reviewer).post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json"))


@pytest.fixture
def objects(api, people, django_capture_on_commit_callbacks):
    """One object of each kind, all at GD-SZ; returns {param: id} plus per-route overrides."""
    sz = api("collector.sz")

    def _open(payload):  # a collector's opening, confirmed by the officer (issue 16 item 4)
        opened = _ok(sz.post("/api/account-openings/", payload, format="multipart"))
        officer_confirm(api, opened["id"])
        return opened

    active = _open(opening_payload("advanced"))
    _approve(api, active["id"])
    other = _open(opening_payload("advanced", id_number=resident_id(birth=date(1960, 1, 2)), phone="13911112222"))
    _approve(api, other["id"])
    pending = _open(opening_payload("advanced", id_number=resident_id(birth=date(1990, 3, 4)), phone="13722223333"))
    task = HumanTask.objects.get(case_id=pending["id"], status="ready")
    signed = _open(opening_payload("advanced", id_number=resident_id(birth=date(1991, 5, 6)), phone="13633334444"))
    signed_task = HumanTask.objects.get(case_id=signed["id"], status="ready")
    signer = _ok(api("reviewer.sz").post(f"/api/tasks/{signed_task.pk}/signers/", {"user": "reviewer.gd", "position": "after", "reason": "复核"}, format="json"))
    customer_id = active["customer_id"]
    amendment = _ok(sz.post(f"/api/customers/{customer_id}/amendments/", {"address": "深圳市福田区 8 号", "reason": "客户来电"}, format="json"))
    # The file's static part (personal: employer, family) and one contact in its dynamic part.
    _ok(sz.post(f"/api/customers/{customer_id}/profile/", {
        "employer": "深圳市南山区示例科技有限公司", "family_members": "配偶王芳,儿子张小明", "income_band": "30_100", "occupation": "工程师",
    }, format="json"))
    _ok(sz.post(f"/api/customers/{customer_id}/contacts/", {"kind": "visit", "channel": "visit", "summary": "上门拜访,了解家庭保障"}, format="json"))
    change = _ok(api("officer.sz").post("/api/blacklist/", {"id_type": "resident_id", "id_number": resident_id(serial=99), "name": "黑名单人", "reason": "骗保记录", "source": "理赔调查"}, format="json"))
    policy = _ok(sz.post("/api/policies/", {
        "policy_number": "P4403-2026-0001", "product": "安心终身寿险", "policyholder_id": customer_id,
        "insured_id": other["customer_id"], "effective_date": "2026-01-01", "term_months": 240,
        "sum_insured": "500000.00", "premium": "12000.00", "payment_mode": "annual", "beneficiaries": [],
    }, format="json"))
    endorsement = _ok(sz.post(f"/api/policies/{policy['id']}/endorsements/", {"customer_changes": {}, "policy_changes": {"payment_mode": "monthly"}, "reason": "客户申请"}, format="json"))
    with django_capture_on_commit_callbacks(execute=True):
        batch = _ok(api("reviewer.sz").post("/api/print-batches/", {"customer_ids": [customer_id], "reason": "归档"}, format="json"))
        legacy = "姓名,证件类型,证件号码,联系电话,通讯地址\n".encode()
        f = io.BytesIO(legacy + f"张三,resident_id,{resident_id(birth=date(1970, 7, 7))},13500001111,深圳\n".encode())
        f.name = "legacy.csv"
        imported = _ok(api("officer.sz").post("/api/integrations/imports/", {"file": f}, format="multipart"))
    qualification = _ok(api("manager.sz").post("/api/manager-qualifications/", {
        "requested_grade": "regular", "ability": "独立完成客户方案", "experience_years": 5, "results": "上年度新增保费 200 万元",
        "customer_types": ["individual"],
    }, format="json"))
    complaint_users()
    complaint = _ok(api("handler.sz").post("/api/complaints/", complaint_payload(), format="json"))
    _ok(api("handler.sz").post(f"/api/complaints/{complaint['id']}/root-cause/", {"root_cause": "sales_conduct", "note": "夸大收益"}, format="json"))
    action = _ok(api("handler.sz").post(f"/api/complaints/{complaint['id']}/corrective-actions/", {
        "owner_org_unit": OrgUnit.objects.get(code="GD-SZ").pk, "due_date": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "description": "开展销售话术专项培训",
    }, format="json"))
    # 资格年度认证: manager.sz graded over a year ago; the anniversary job opens his case.
    CustomerManager.objects.filter(user__username="manager.sz").update(grade="junior", since=timezone.now() - timedelta(days=400))
    recertifications_open_due()
    recertification = ManagerRecertification.objects.get(manager__user__username="manager.sz")
    # 月度走访分析报告: the monthly job opens last month's report of manager.sz.
    assert visit_reports_open_due() == 1
    visit_report = VisitReport.objects.get(manager__user__username="manager.sz")
    assignment = _ok(api("manager.sz").post("/api/customer-assignments/", {
        "customer_id": customer_id, "manager": "manager.sz", "reason": "本人开发的新客户",
    }, format="json"))
    # 离岗移交: manager.sz serves the second customer; an officer moves his customers to a colleague.
    colleague = user_ensure(username="manager2.sz", password="demo-pass-2026")
    role_assign(user=colleague, role=Role.CUSTOMER_MANAGER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    customer_manager_ensure(user=colleague, org_unit=OrgUnit.objects.get(code="GD-SZ"), grade="regular")
    served = CustomerAssignment.objects.get(pk=assignment["id"])
    ManagedCustomer.objects.create(customer_id=other["customer_id"], manager=served.manager, since=timezone.now(), assignment=served)
    transfer = _ok(api("officer.sz").post("/api/manager-transfers/", {
        "manager": "manager.sz", "to_manager": "manager2.sz", "reason": "客户经理离职",
    }, format="json"))
    major_event = _ok(api("manager.sz").post("/api/major-events/", {
        "customer_id": customer_id, "kind": "large_claim", "occurred_on": timezone.localdate().isoformat(),
        "description": "客户车辆全损，报案金额较大",
    }, format="json"))
    # 客户回访: the plan opens a key customer's visit for the manager who serves him.
    revisit = revisit_open(
        kind="key_quarterly_visit", period="2026Q4", org_unit=OrgUnit.objects.get(code="GD-SZ"),
        customer=Customer.objects.get(pk=customer_id), manager=CustomerManager.objects.get(user__username="manager.sz"),
    )
    now = timezone.now()
    substitution = _ok(api("reviewer.sz").post("/api/substitutions/", {"substitute": "reviewer.gd", "start_at": (now + timedelta(days=1)).isoformat(), "end_at": (now + timedelta(days=3)).isoformat(), "reason": "年假"}, format="json"))
    notification = api("reviewer.sz").get("/api/notifications/").json()["results"][0]
    # 分群阈值调整: the branch's officer proposes; the head approves through the task API.
    threshold_change = _ok(api("officer.sz").post("/api/segment-thresholds/", {"alert_claims_count": 2, "reason": "理赔频度偏高"}, format="json"))
    # 热线坐席台: the province's hotline agent logs a call from the customer.
    call = _ok(api("hotline.gd").post("/api/hotline/calls/", {"caller_phone": "13900001111", "customer_id": customer_id, "category": "policy", "summary": "询问保单"}, format="json"))
    # 准客户: a prospect from a third party, with the person's consent (its phone and id number are personal).
    prospect = _ok(sz.post("/api/prospects/", {
        "name": "周准客", "phone": "13566667777", "id_type": "resident_id", "id_number": resident_id(birth=date(1982, 8, 8)),
        "source": "third_party", "source_detail": "某汽车经销商", "consent": True, "interest": "车险",
    }, format="json"))
    ids = {
        "call_id": call["id"],
        "opening_id": pending["id"], "task_id": task.pk, "instance_id": task.instance_id, "customer_id": customer_id,
        "amendment_id": amendment["id"], "entry_id": change["entry"]["id"], "change_id": change["id"],
        "policy_id": policy["id"], "endorsement_id": endorsement["id"], "substitution_id": substitution["id"],
        "notification_id": notification["id"], "complaint_id": complaint["id"], "action_id": action["id"],
        "qualification_id": qualification["id"], "event_id": major_event["id"], "recertification_id": recertification.pk,
        "report_id": visit_report.pk, "revisit_id": revisit.pk,
        "assignment_id": assignment["id"], "transfer_id": transfer["id"], "threshold_change_id": threshold_change["id"],
        "prospect_id": prospect["id"],
    }
    overrides = {
        "api-print-batch": {"batch_id": batch["id"]}, "api-print-batch-pdf": {"batch_id": batch["id"]},
        "api-import": {"batch_id": imported["id"]}, "api-import-result": {"batch_id": imported["id"]},
        "api-task-signer-remove": {"task_id": signed_task.pk, "signer_id": signer["id"]},
        "api-complaint-form": {"form": "register"},
        "api-complaint-form-reprint": {"form": "register"},
        "api-complaint-form-reprint-pdf": {"form": "register"},
    }
    return ids, overrides


def _call(client, method, url):
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    return getattr(client, method)(url, {}, format="json")


def _body(resp) -> bytes:
    return b"<stream>" if resp.streaming else resp.content


def _url(name, kinds, values):
    return reverse(name, kwargs={k: values[k] for k in kinds})


def test_every_id_route_is_covered(objects):
    ids, overrides = objects
    uncovered = [
        name for name, kinds, _ in id_routes()
        if name not in EXEMPT and not all(k in {**ids, **overrides.get(name, {})} for k in kinds)
    ]
    assert uncovered == [], "routes with an id and no object in the access matrix (add one, or to EXEMPT with a reason)"
    assert all(name in {n for n, _, _ in id_routes()} for name in EXEMPT), "stale EXEMPT entry"


def test_no_cross_scope_read_or_action(api, objects):
    ids, overrides = objects
    routes = [r for r in id_routes() if r[0] not in EXEMPT]
    assert len(routes) > 40
    owner_reads = {"api-opening": "collector.sz", "api-amendment": "collector.sz", "api-policy": "collector.sz", "api-complaint": "handler.sz"}
    leaks = []
    for name, kinds, methods in routes:
        values = {**ids, **overrides.get(name, {})}
        url = _url(name, kinds, values)
        missing = _url(name, kinds, {k: values[k] if k in KEEP else MISSING[t] for k, t in kinds.items()})
        if "get" in methods and name in READER_ROUTES:  # the object is real: its owners read it
            assert api(owner_reads.get(name, "reviewer.sz")).get(url).status_code == 200, url
        for username in OUTSIDERS:
            client = api(username)
            for method in methods:
                got, expected = _call(client, method, url), _call(client, method, missing)
                if name in SAME_AS_MISSING:
                    same = got.status_code == expected.status_code and _body(got) == _body(expected)
                else:
                    same = got.status_code == expected.status_code and got.status_code >= 400
                if not same or got.status_code >= 500:
                    leaks.append(f"{username} {method.upper()} {url} → {got.status_code} (missing id → {expected.status_code}): {_body(got)[:200]!r}")
    assert leaks == []
    # Nothing an outsider tried changed anything.
    task = HumanTask.objects.get(pk=ids["task_id"])
    assert task.status == "ready" and task.assignee_id is None
    assert Customer.objects.get(pk=ids["customer_id"]).status == "active"
    assert CustomerContact.objects.filter(customer_id=ids["customer_id"]).count() == 2  # the visit and the hotline call
    assert Customer.objects.get(pk=ids["customer_id"]).occupation == "工程师"


def test_owning_province_and_head_office_read(api, objects):
    ids, overrides = objects
    denied = []
    for name, kinds, _methods in id_routes():
        if name not in READER_ROUTES:
            continue
        url = _url(name, kinds, {**ids, **overrides.get(name, {})})
        for username in COMPLAINT_READERS if name.startswith("api-complaint") else READERS:
            status = api(username).get(url).status_code
            if status != 200:
                denied.append(f"{username} GET {url} → {status}")
    assert denied == []


@pytest.fixture
def self_approver(users, people):
    """A user holding every role at 深圳 and at 广东: only four eyes stops them approving their own cases."""
    user = user_ensure(username="all.sz", password="demo-pass-2026")
    for code in ("GD-SZ", "GD"):
        for role in (Role.COLLECTOR, Role.OFFICER, Role.REVIEWER, Role.COMPLIANCE):
            role_assign(user=user, role=role, org_unit=OrgUnit.objects.get(code=code))
    return user


def test_no_self_approval_on_any_process(api, self_approver):
    me = api("all.sz")
    opened = _ok(me.post("/api/account-openings/", opening_payload("advanced"), format="multipart"))
    _approve(api, opened["id"])
    customer_id = opened["customer_id"]
    other = _ok(api("collector.sz").post("/api/account-openings/", opening_payload("advanced", id_number=resident_id(birth=date(1960, 1, 2)), phone="13911112222"), format="multipart"))
    officer_confirm(api, other["id"])
    _approve(api, other["id"])
    # Cases started by all.sz: each kind of approval process.
    _ok(me.post("/api/account-openings/", opening_payload("advanced", id_number=resident_id(birth=date(1990, 3, 4)), phone="13722223333"), format="multipart"))
    _ok(me.post("/api/account-openings/", corporate_payload("advanced"), format="multipart"))
    _ok(me.post(f"/api/customers/{customer_id}/amendments/", {"address": "深圳市福田区 8 号", "reason": "客户来电"}, format="json"))
    _ok(me.post(f"/api/customers/{other['customer_id']}/amendments/", {"name": "王晓明", "reason": "更名"}, format="json"))
    _ok(me.post("/api/blacklist/", {"id_type": "resident_id", "id_number": resident_id(serial=99), "name": "黑名单人", "reason": "骗保记录", "source": "理赔调查"}, format="json"))
    policy = _ok(me.post("/api/policies/", {
        "policy_number": "P4403-2026-0002", "product": "安心终身寿险", "policyholder_id": customer_id,
        "insured_id": customer_id, "effective_date": "2026-01-01", "term_months": 240,
        "sum_insured": "500000.00", "premium": "12000.00", "payment_mode": "annual", "beneficiaries": [],
    }, format="json"))
    _ok(me.post(f"/api/policies/{policy['id']}/endorsements/", {"customer_changes": {}, "policy_changes": {"payment_mode": "monthly"}, "reason": "客户申请"}, format="json"))
    # 客户经理资格: the grade's approval at the province (高级), applied for by a manager who reviews there too.
    role_assign(user=self_approver, role=Role.CUSTOMER_MANAGER, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    _ok(me.post("/api/manager-qualifications/", {
        "requested_grade": "senior", "ability": "独立完成客户方案", "experience_years": 8, "results": "上年度新增保费 500 万元",
        "customer_types": ["corporate", "major"],
    }, format="json"))

    # 客户重大事件: reported by a manager who is also the unit's head and in customer service.
    for role, code in ((Role.UNIT_HEAD, "GD-SZ"), (Role.CUSTOMER_SERVICE, "HO")):
        role_assign(user=self_approver, role=role, org_unit=OrgUnit.objects.get(code=code))
    _ok(me.post("/api/major-events/", {
        "customer_id": customer_id, "kind": "media",
        "occurred_on": timezone.localdate().isoformat(), "description": "客户投诉被媒体报道",
    }, format="json"))

    # 资格年度认证: his own recertification, his assessment submitted; the review is four-eyes.
    CustomerManager.objects.filter(user=self_approver).update(grade="junior", since=timezone.now() - timedelta(days=400))
    recertifications_open_due()
    mine = ManagerRecertification.objects.get(manager__user=self_approver)
    submit = HumanTask.objects.get(case_type="service.managerrecertification", case_id=mine.pk, status="ready")
    _ok(me.post(f"/api/tasks/{submit.pk}/complete/", {"assessment": "competent", "results": "全年新增保费 180 万元"}, format="json"))

    # 月度走访分析报告: his own report, his step (submitter); nobody approves it, so no step of
    # his case is left waiting for anyone once he has submitted it.
    visit_reports_open_due()
    report = VisitReport.objects.get(manager__user=self_approver)
    write = HumanTask.objects.get(case_type="service.visitreport", case_id=report.pk, status="ready")
    assert write.process_key == "customer_manager_visit_report" and not write.four_eyes and write.assignee_id == self_approver.pk
    _ok(me.post(f"/api/tasks/{write.pk}/complete/", {"visits": 12, "customers_visited": 9, "analysis": "客户关注续保优惠"}, format="json"))
    assert not HumanTask.objects.filter(case_type="service.visitreport", case_id=report.pk, status="ready").exists()
    assert VisitReport.objects.get(pk=report.pk).status == "submitted"

    # 客户分配: he asks for a customer to be his own, holding the unit head's role too.
    customer_manager_ensure(user=self_approver, org_unit=OrgUnit.objects.get(code="GD-SZ"), grade="junior")
    _ok(me.post("/api/customer-assignments/", {"customer_id": other["customer_id"], "manager": "all.sz", "reason": "本人客户"}, format="json"))

    # 离岗移交: he (an officer and unit head at 深圳) moves manager.sz's customers to himself.
    first = _ok(api("manager.sz").post("/api/customer-assignments/", {"customer_id": customer_id, "manager": "manager.sz", "reason": "本人客户"}, format="json"))
    ManagedCustomer.objects.create(customer_id=customer_id, manager=CustomerManager.objects.get(user__username="manager.sz"), since=timezone.now(), assignment_id=first["id"])
    _ok(me.post("/api/manager-transfers/", {"manager": "manager.sz", "to_manager": "all.sz", "reason": "离职"}, format="json"))
    # 分群阈值调整: he (an officer and the unit head at 深圳) proposes the branch's new thresholds.
    _ok(me.post("/api/segment-thresholds/", {"org_unit": "GD-SZ", "alert_claims_count": 2, "reason": "理赔频度偏高"}, format="json"))

    # 客户回访: opened by the plan in nobody's name. The visit of a customer he serves is his own
    # work (no approval, so no four eyes); the satisfaction call of a complaint he decided waits for
    # another hotline agent, never for him, though he holds customer service at head office.
    visit = revisit_open(
        kind="key_quarterly_visit", period="2026Q4", org_unit=OrgUnit.objects.get(code="GD-SZ"),
        customer=Customer.objects.get(pk=customer_id), manager=CustomerManager.objects.get(user=self_approver),
    )
    step = HumanTask.objects.get(case_type="service.revisit", case_id=visit.pk, status="ready")
    assert step.assignee_id == self_approver.pk and not step.four_eyes and step.initiator_id is None
    decided = complaint_make(status="closed", closed_at=timezone.now(), decided_by=self_approver)
    call = revisit_open(kind="complaint_satisfaction", period=f"complaint:{decided.pk}", org_unit=decided.org_unit, complaint=decided)
    hotline = HumanTask.objects.get(case_type="service.revisit", case_id=call.pk, status="ready")
    assert hotline.four_eyes and hotline.pk not in {t["id"] for t in inbox(me)}
    assert me.post(f"/api/tasks/{hotline.pk}/claim/").status_code in (403, 404)
    body = {"contacted": "yes", "channel": "hotline", "summary": "自己回访自己处理的投诉", "satisfaction": "satisfied"}
    assert me.post(f"/api/tasks/{hotline.pk}/complete/", body, format="json").status_code in (403, 404)
    hotline.refresh_from_db()
    assert hotline.status == "ready" and hotline.assignee_id is None
    assert hotline.pk in {t["id"] for t in inbox(api("cs.ho"))}

    own = HumanTask.objects.filter(initiator=self_approver, status="ready")
    processes = set(own.values_list("process_key", flat=True))
    assert {
        "individual_account_opening", "corporate_account_opening", "customer_amendment", "blacklist_change", "endorsement",
        "customer_manager_qualification", "customer_major_event", "customer_manager_recertification",
        "customer_assignment", "customer_bulk_transfer", "segment_threshold_change",
    } <= processes
    visible = {t["id"] for t in inbox(me)}
    for task in own:
        assert task.pk not in visible, (task.process_key, task.step)
        assert me.post(f"/api/tasks/{task.pk}/claim/").status_code in (403, 404), (task.process_key, task.step)
        resp = me.post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve", "comment": "自己批"}, format="json")
        assert resp.status_code in (403, 404), (task.process_key, task.step, resp.content[:200])
        task.refresh_from_db()
        assert task.status == "ready" and task.assignee_id is None
        # Someone else can: the step is a real approval step waiting for a second person.
        other = {Role.UNIT_HEAD: "head.sz", Role.CUSTOMER_SERVICE: "cs.ho"}.get(
            task.role, "reviewer.gd" if task.org_unit.code == "GD" else "reviewer.sz"
        )
        assert task.pk in {t["id"] for t in inbox(api(other))}, (task.process_key, task.step, task.org_unit.code)


# ---- control 11: diagrams are for their owners -------------------------------------------------

PROCESS_READ_ROLES = {Role.PROCESS_OWNER, Role.COMPLIANCE}
PROCESS_VALUES = {"key": "individual_account_opening", "version": "1", "form_key": "account_opening/review", "migration_id": str(MISSING["int"])}
PROCESS_QUERIES = {"api-process-diff": {"old": 1, "new": 1}}
PROCESS_PAGES = ["processes", "process-drafts", "process-modeler", "process-draft-form", "process-versions"]


def process_routes() -> list[tuple[str, list[str], list[str]]]:
    """(url name, path parameters, methods) of every API route about process definitions."""
    found = []

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and (p.name or "").startswith("api-process"):
                view = getattr(p.callback, "view_class", None)
                methods = [m for m in ("get", "post", "put", "patch", "delete") if view and hasattr(view, m)]
                found.append((p.name, list(p.pattern.converters), methods))

    walk(get_resolver().url_patterns)
    return found


def _converters_of(name: str) -> list[str]:
    def walk(patterns, inherited):
        for p in patterns:
            if isinstance(p, URLResolver):
                found = walk(p.url_patterns, [*inherited, *p.pattern.converters])
                if found is not None:
                    return found
            elif isinstance(p, URLPattern) and p.name == name:
                return [*inherited, *p.pattern.converters]
        return None

    return walk(get_resolver().url_patterns, []) or []


def test_process_routes_for_every_role(api, users, client, django_user_model):
    """Every process route (definitions, versions, drafts, forms, diffs, XML, catalogue, migrations),
    generated from the URL conf, for every demo user: process owners and compliance read, anybody
    else gets 403/404 on every method and changes nothing; compliance writes nothing either."""
    from processes.drafts import process_draft_create, process_draft_publish_request
    from processes.models import ProcessDraft, ProcessVersion

    owner = users["owner.ho"]
    draft = process_draft_create(actor=owner, key="individual_account_opening")
    process_draft_publish_request(actor=owner, draft_id=draft.pk)
    values = {**PROCESS_VALUES, "draft_id": str(draft.pk)}
    routes = process_routes()
    assert {"api-process-definitions", "api-process-drafts", "api-process-draft", "api-process-version", "api-process-diff"} <= {r[0] for r in routes}
    exempt_process = {n for n in EXEMPT if n.startswith("api-process")}
    assert exempt_process <= {r[0] for r in routes}

    people = list(django_user_model.objects.filter(is_superuser=False, is_active=True).exclude(username__startswith="api:").order_by("username"))
    readers = [u for u in people if {ra.role for ra in u.role_assignments.all()} & PROCESS_READ_ROLES]
    others = [u for u in people if u not in readers]
    assert {"owner.ho", "compliance.ho", "compliance.gd"} <= {u.username for u in readers}
    assert len(others) >= 15
    versions_before = ProcessVersion.objects.count()
    problems = []
    for name, params, methods in routes:
        url = reverse(name, kwargs={k: values[k] for k in params})
        query = PROCESS_QUERIES.get(name, {})
        for user in others:
            c = api(user.username)
            for method in methods:
                resp = c.get(url, query) if method == "get" else getattr(c, method)(url, {}, format="json")
                allowed = (403, 404) if method == "get" else (400, 403, 404, 415)
                if resp.status_code not in allowed:
                    problems.append(f"{user.username} {method.upper()} {url} → {resp.status_code}: {resp.content[:150]!r}")
        for user in readers:
            c = api(user.username)
            if "get" in methods and name != "api-process-migrations":
                resp = c.get(url, query)
                if resp.status_code != 200:
                    problems.append(f"reader {user.username} GET {url} → {resp.status_code}: {resp.content[:150]!r}")
            if Role.PROCESS_OWNER not in {ra.role for ra in user.role_assignments.all()}:
                for method in (m for m in methods if m != "get"):
                    resp = getattr(c, method)(url, {}, format="json")
                    if resp.status_code not in (400, 403, 404, 415):
                        problems.append(f"compliance {user.username} {method.upper()} {url} → {resp.status_code}")
    # The web pages: the same rule.
    web_values = {"draft_id": draft.pk, "key": "individual_account_opening", "form_key": "account_opening/review"}
    for name in PROCESS_PAGES:
        url = reverse(name, kwargs={k: web_values[k] for k in _converters_of(name)})
        for user in people:
            client.force_login(user)
            status = client.get(url).status_code
            expected = (200,) if user in readers else (403, 404)
            if status not in expected:
                problems.append(f"page {user.username} GET {url} → {status}")
    assert problems == [], "\n".join(problems)
    draft.refresh_from_db()
    assert draft.status == "pending" and ProcessVersion.objects.count() == versions_before
    assert ProcessDraft.objects.count() == 1


# ---- Four eyes by construction (control 5) --------------------------------------------------------
#
# Generated from the shipped diagrams: every user task in an approval lane, at the org unit its
# lane resolves to from a 深圳 case. Everybody below holds the reviewer role there, so only the
# four-eyes rule (or, for collector.sz, the step's role) can stop them. Each route must refuse:
# the actor with 403, a person named to the task with 400 and the reason on the named field.


def _approval_steps() -> list[tuple[str, str, str]]:
    from backend.organisation.lanes import lanes_known
    from processes.services import diagram_check, shipped_diagrams

    steps = []
    for path in shipped_diagrams():
        diagram, _problems = diagram_check(path.read_bytes(), path.name)
        for task in diagram.user_tasks:
            rule = lanes_known().get(task.get("lane") or "")
            if rule is not None and rule.approval:
                steps.append((diagram.process_key, task["id"], task["lane"]))
    return steps


APPROVAL_STEPS = _approval_steps()
FOUR_EYES_PEOPLE = ("fe.submitter", "fe.amender", "fe.earlier")  # submitted / corrected / approved an earlier step
# Openings also name their collector (seed 003 §1.1.1), who may have done no step of the case at
# all (an officer opened on his behalf): he never approves it either.
OPENING_PROCESSES = {"individual_account_opening", "corporate_account_opening"}


def four_eyes_people(process: str) -> tuple[str, ...]:
    return (*FOUR_EYES_PEOPLE, "fe.collector") if process in OPENING_PROCESSES else FOUR_EYES_PEOPLE


def test_every_shipped_approval_step_is_walked():
    assert len(APPROVAL_STEPS) >= 9
    assert {k for k, _s, _l in APPROVAL_STEPS} >= {"individual_account_opening", "corporate_account_opening", "customer_amendment", "blacklist_change", "endorsement"}


@pytest.fixture
def approval_case(users):
    """make(process, step, lane) → a ready approval task of a 深圳 case submitted by fe.submitter,
    corrected by fe.amender (a completed data step) and approved at an earlier step by fe.earlier."""
    from backend.organisation.lanes import lane_org_unit
    from processes.models import ProcessInstance
    from processes.services import process_version_latest

    sz = OrgUnit.objects.get(code="GD-SZ")

    def make(process: str, step: str, lane: str) -> HumanTask:
        unit = lane_org_unit(lane, sz)
        people = {name: user_ensure(username=name, password="demo-pass-2026") for name in (*FOUR_EYES_PEOPLE, "fe.collector", "fe.approver")}
        for user in people.values():
            role_assign(user=user, role=Role.REVIEWER, org_unit=unit)
        role_assign(user=people["fe.submitter"], role=Role.COLLECTOR, org_unit=sz)
        role_assign(user=people["fe.collector"], role=Role.COLLECTOR, org_unit=sz)
        version = process_version_latest(process)
        instance = ProcessInstance.objects.create(version=version, org_unit=sz, started_by=people["fe.submitter"])
        now = timezone.now()
        common = {"instance": instance, "process_key": process, "process_name": process, "initiator": people["fe.submitter"], "created_at": now}
        if process in OPENING_PROCESSES:
            from backend.customers.models import AccountOpening

            customer = Customer.objects.create(
                name="四眼", id_type="resident_id", id_number=resident_id(), info_level="advanced", org_unit=sz,
                collected_by=people["fe.collector"], status="pending_review",
            )
            opening = AccountOpening.objects.create(
                customer=customer, info_level="advanced", org_unit=sz, submitted_by=people["fe.submitter"],
                collector=people["fe.collector"], opened_by=people["fe.submitter"], process_instance=instance,
            )
            common.update(case_type="customers.accountopening", case_id=opening.pk)
        HumanTask.objects.create(
            **common, engine_task_id="fix", step="fix", name="修改", lane="collector", role=Role.COLLECTOR, org_unit=sz,
            form_key="account_opening/fix", status="completed", completed_by=people["fe.amender"], completed_at=now, outcome="completed",
        )
        HumanTask.objects.create(
            **common, engine_task_id="earlier", step=f"earlier_{step}", name="前一环节审核", lane=lane, role=Role.REVIEWER, org_unit=unit,
            four_eyes=True, form_key="account_opening/review", status="completed", completed_by=people["fe.earlier"], completed_at=now, outcome="approve",
        )
        return HumanTask.objects.create(
            **common, engine_task_id="now", step=step, name="审核", lane=lane, role=Role.REVIEWER, org_unit=unit, four_eyes=True,
            form_key="account_opening/review",
        )

    return make


def _refused(resp, status: int, field: str | None = None) -> bool:
    if resp.status_code != status:
        return False
    return field is None or field in resp.json()


@pytest.mark.parametrize("process, step, lane", APPROVAL_STEPS)
def test_four_eyes_on_every_route_of_every_approval_step(api, approval_case, process, step, lane):
    task = approval_case(process, step, lane)
    url = f"/api/tasks/{task.pk}"
    failures = []
    # submitter, corrector, earlier approver (and an opening's collector): may neither claim nor
    # decide, nor in bulk.
    for name in four_eyes_people(process):
        me = api(name)
        if task.pk in {t["id"] for t in inbox(me)}:
            failures.append(f"{name} sees it in his inbox")
        for route, resp in (
            ("claim", me.post(f"{url}/claim/")),
            ("complete", me.post(f"{url}/complete/", {"decision": "approve", "comment": "同意"}, format="json")),
        ):
            if not _refused(resp, 403):
                failures.append(f"{name} {route} → {resp.status_code}")
        bulk = me.post("/api/tasks/bulk/", {"action": "complete", "task_ids": [task.pk], "data": {"decision": "approve"}}, format="json")
        if bulk.status_code != 200 or bulk.json()["results"][0]["ok"]:
            failures.append(f"{name} bulk complete → {bulk.content[:200]!r}")
    # The legitimate approver may not name any of them, nor a collector, to the step.
    approver = api("fe.approver")
    for name in (*four_eyes_people(process), "collector.sz"):
        for route, resp, field in (
            ("transfer", approver.post(f"{url}/transfer/", {"to": name, "reason": "转办"}, format="json"), "to"),
            ("delegate", approver.post(f"{url}/delegate/", {"to": name, "reason": "委派"}, format="json"), "to"),
            ("signer", approver.post(f"{url}/signers/", {"user": name, "position": "after", "reason": "加签"}, format="json"), "user"),
        ):
            if not _refused(resp, 400, field):
                failures.append(f"{route} to {name} → {resp.status_code} {resp.content[:200]!r}")
    # Nor name a collector (no reviewer role) as his substitute.
    now = timezone.now()
    period = {"start_at": now.isoformat(), "end_at": (now + timedelta(days=2)).isoformat(), "reason": "年假"}
    resp = approver.post("/api/substitutions/", {"substitute": "collector.sz", **period}, format="json")
    if not _refused(resp, 400, "substitute"):
        failures.append(f"substitute collector.sz → {resp.status_code}")
    assert failures == [], (process, step)
    task.refresh_from_db()
    assert (task.status, task.assignee_id, task.delegated_by_id, task.signers.count()) == ("ready", None, None, 0)
    # The rule refuses persons, not the step: the approver himself sees it and may claim it.
    assert task.pk in {t["id"] for t in inbox(approver)}
    assert approver.post(f"{url}/claim/").status_code == 200


def test_a_substitute_without_the_role_never_approves(api, submit):
    """The attack as found: a reviewer names a collector (no reviewer role; not the submitter of
    this case) as his substitute, and the collector approves. Naming is refused; a substitution
    stored before this rule lends no role."""
    from tasks.models import Substitution

    collector = user_ensure(username="collector3.sz", password="demo-pass-2026")
    role_assign(user=collector, role=Role.COLLECTOR, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    submit("advanced")
    review = HumanTask.objects.get(step="review", status="ready")
    now = timezone.now()
    period = {"start_at": now.isoformat(), "end_at": (now + timedelta(days=2)).isoformat()}
    resp = api("reviewer.sz").post("/api/substitutions/", {"substitute": "collector3.sz", **period}, format="json")
    assert resp.status_code == 400 and "substitute" in resp.json(), resp.content
    reviewer = review.org_unit.role_assignments.get(role=Role.REVIEWER, user__username="reviewer.sz").user
    Substitution.objects.create(user=reviewer, substitute=collector, start_at=now - timedelta(hours=1), end_at=now + timedelta(days=1), created_by=reviewer, created_at=now)
    me = api("collector3.sz")
    assert review.pk not in {t["id"] for t in inbox(me)}
    assert me.post(f"/api/tasks/{review.pk}/claim/").status_code in (403, 404)
    assert me.post(f"/api/tasks/{review.pk}/complete/", {"decision": "approve", "comment": "代批"}, format="json").status_code in (403, 404)
    review.refresh_from_db()
    assert (review.status, review.assignee_id) == ("ready", None)

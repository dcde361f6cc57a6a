"""批改 end to end through the API: request → checks → city/province review → apply or reject."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from backend.common.exceptions import Conflict
from backend.common.models import AuditEvent
from backend.customers.amendments import customer_changes_apply
from backend.customers.models import Customer, CustomerFieldChange, PrintedDocument
from backend.organisation.models import OrgUnit, Role, RoleAssignment
from backend.policies import services
from backend.policies.models import Endorsement, Policy
from processes.models import ProcessInstance
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.factories import resident_id
from tests.policies.conftest import policy_payload

pytestmark = pytest.mark.django_db


def endorse(client, policy_id, *, customer_changes=None, policy_changes=None, reason="客户申请变更"):
    return client.post(
        f"/api/policies/{policy_id}/endorsements/",
        {
            "customer_changes": customer_changes or {},
            "policy_changes": policy_changes or {},
            "reason": reason,
        },
        format="json",
    )


def complete(client, task_id, **data):
    return client.post(f"/api/tasks/{task_id}/complete/", data, format="json")


def review_task(endorsement_id: int) -> HumanTask:
    return HumanTask.objects.get(case_type="policies.endorsement", case_id=endorsement_id, status="ready")


def snapshot(policy_id: int) -> tuple:
    policy = Policy.objects.get(pk=policy_id)
    customers = Customer.objects.filter(pk__in=[policy.policyholder_id, policy.insured_id]).order_by("pk")
    return (
        policy.version,
        policy.payment_mode,
        policy.sum_insured,
        list(policy.beneficiaries.values_list("name", "share")),
        [(c.pk, c.version, c.phone, c.name, c.id_number) for c in customers],
        CustomerFieldChange.objects.count(),
    )


def test_create_policy_then_read_it(api, policy, parties):
    holder, insured = parties
    assert policy["policy_number"] == "P4403-2026-0001"
    assert policy["policyholder"]["id"] == holder.pk and policy["insured"]["id"] == insured.pk
    assert [b["share"] for b in policy["beneficiaries"]] == ["60.00", "40.00"]
    assert policy["version"] == 1 and policy["status"] == "in_force" and policy["org_unit"] == "GD-SZ"
    detail = api("reviewer.sz").get(f"/api/policies/{policy['id']}/")
    assert detail.status_code == 200
    assert detail.json()["policyholder"]["phone"] == "138****5678"  # a reviewer sees it masked
    listed = api("reviewer.sz").get(f"/api/policies/?customer={insured.pk}").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == policy["id"]
    assert api("reviewer.sz").get("/api/policies/?customer=999999").json()["count"] == 0


def test_contact_and_policy_change_city_review_applies_both(api, policy, parties, users):
    holder, _insured = parties
    resp = endorse(
        api("collector.sz"),
        policy["id"],
        customer_changes={"policyholder": {"phone": "13700001111"}},
        policy_changes={"payment_mode": "monthly"},
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "pending" and body["scope"] == "contact" and body["flags"] == []
    assert body["process_instance_id"] == Endorsement.objects.get(pk=body["id"]).process_instance_id
    task = review_task(body["id"])
    assert task.step == "review" and task.org_unit.code == "GD-SZ" and task.lane == "city_reviewer"
    assert task.due_at is not None
    # The reviewer's task page shows the diff: old → new, masked for a reviewer.
    detail = api("reviewer.sz").get(f"/api/tasks/{task.pk}/").json()
    case = detail["case"]
    assert case["endorsement_id"] == body["id"]
    assert case["diff"]["customers"] == [
        {
            "customer_id": holder.pk,
            "role": "policyholder",
            "role_label": "投保人",
            "name": "王小明",
            "masked": True,
            "changes": [{"field": "phone", "label": "联系电话", "old": "138****5678", "new": "137****1111"}],
        }
    ]
    assert case["diff"]["policy"] == [
        {"field": "payment_mode", "label": "缴费方式", "old": "年缴", "new": "月缴"}
    ]
    assert Customer.objects.get(pk=holder.pk).phone == "+8613812345678"  # nothing applied yet

    resp = complete(api("reviewer.sz"), task.pk, decision="approve", comment="资料齐全")
    assert resp.status_code == 200, resp.content
    endorsement = Endorsement.objects.get(pk=body["id"])
    assert endorsement.status == "applied" and endorsement.decided_by == users["reviewer.sz"]
    customer = Customer.objects.get(pk=holder.pk)
    assert customer.phone == "+8613700001111" and customer.version == holder.version + 1
    saved = Policy.objects.get(pk=policy["id"])
    assert saved.payment_mode == "monthly" and saved.version == 2
    change = CustomerFieldChange.objects.get(customer=customer)
    assert (change.field, change.old_value, change.new_value) == ("phone", "+8613812345678", "+8613700001111")
    assert (change.case_type, change.case_id) == ("policies.endorsement", endorsement.pk)
    assert change.changed_by == users["collector.sz"] and change.approved_by == users["reviewer.sz"]
    assert ProcessInstance.objects.get(pk=endorsement.process_instance_id).status == "completed"
    assert AuditEvent.objects.filter(action="policy.endorsed", object_id=str(saved.pk)).count() == 1
    # The endorsement reads back as applied, and a second endorsement may now start.
    got = api("collector.sz").get(f"/api/endorsements/{endorsement.pk}/").json()
    assert got["status"] == "applied" and got["policy_number"] == "P4403-2026-0001"
    again = endorse(api("collector.sz"), policy["id"], policy_changes={"payment_mode": "annual"})
    assert again.status_code == 201, again.content


def test_beneficiaries_change_replaces_the_list(api, policy):
    new = [
        {
            "name": "王小红",
            "id_type": "resident_id",
            "id_number": resident_id(birth=date(2010, 3, 1)),
            "relationship": "child",
            "share": "100",
        }
    ]
    resp = endorse(
        api("collector.sz"), policy["id"], policy_changes={"beneficiaries": new, "sum_insured": "600000"}
    )
    assert resp.status_code == 201, resp.content
    task = review_task(resp.json()["id"])
    assert complete(api("reviewer.sz"), task.pk, decision="approve").status_code == 200
    saved = Policy.objects.get(pk=policy["id"])
    assert list(saved.beneficiaries.values_list("name", "share")) == [("王小红", Decimal("100.00"))]
    assert saved.sum_insured == Decimal("600000.00")
    assert CustomerFieldChange.objects.count() == 0


def test_identity_change_goes_to_province_and_city_reviewer_cannot_touch_it(api, policy, parties, users):
    _holder, insured = parties
    resp = endorse(api("collector.sz"), policy["id"], customer_changes={"insured": {"name": "王大名"}})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["scope"] == "identity"
    task = review_task(body["id"])
    assert task.step == "province_review" and task.org_unit.code == "GD"
    city = api("reviewer.sz")
    assert [t["id"] for t in inbox(city)] == []
    assert city.get(f"/api/tasks/{task.pk}/").status_code == 404
    assert city.post(f"/api/tasks/{task.pk}/claim/").status_code == 404
    assert complete(city, task.pk, decision="approve").status_code == 404
    assert Customer.objects.get(pk=insured.pk).name == "王大明"
    province = api("reviewer.gd")
    assert [t["id"] for t in inbox(province)] == [task.pk]
    resp = complete(province, task.pk, decision="approve")
    assert resp.status_code == 200, resp.content
    assert Customer.objects.get(pk=insured.pk).name == "王大名"
    assert CustomerFieldChange.objects.get(customer_id=insured.pk).case_type == "policies.endorsement"


def test_identity_change_refused_for_reviewer_below_province(api, policy, users):
    resp = endorse(api("collector.sz"), policy["id"], customer_changes={"insured": {"name": "王大名"}})
    task = review_task(resp.json()["id"])
    # A city reviewer given the province task (a row edited behind the transfer's back) still
    # may not approve it: he holds no reviewer role in the step's org scope (control 5 answers
    # 403 before the form's own level rule is reached).
    HumanTask.objects.filter(pk=task.pk).update(assignee=users["reviewer.sz"])
    resp = complete(api("reviewer.sz"), task.pk, decision="approve")
    assert resp.status_code == 403, resp.content
    assert resp.json()["code"] == "not_eligible"
    assert Endorsement.objects.get(pk=task.case_id).status == "pending"


def test_requester_never_approves_own_endorsement(api, policy, users):
    RoleAssignment.objects.create(
        user=users["collector.sz"], role=Role.REVIEWER, org_unit=OrgUnit.objects.get(code="GD-SZ")
    )
    resp = endorse(api("collector.sz"), policy["id"], policy_changes={"payment_mode": "quarterly"})
    task = review_task(resp.json()["id"])
    assert inbox(api("collector.sz")) == []
    resp = complete(api("collector.sz"), task.pk, decision="approve")
    assert resp.status_code == 403
    assert resp.json()["code"] == "four_eyes"
    assert Policy.objects.get(pk=policy["id"]).payment_mode == "annual"


def test_stale_endorsement_cannot_be_approved_and_nothing_changes(api, policy, parties, users):
    holder, _insured = parties
    resp = endorse(
        api("collector.sz"),
        policy["id"],
        customer_changes={"policyholder": {"phone": "13700001111"}},
        policy_changes={"payment_mode": "monthly"},
    )
    task = review_task(resp.json()["id"])
    # The customer is amended elsewhere after the request was made.
    customer_changes_apply(
        actor=users["officer.sz"],
        customer_id=holder.pk,
        changes={"address": {"old": "深圳市南山区科技园 1 号", "new": "深圳市福田区 8 号"}},
        base_version=holder.version,
        reason="客户来电",
        case_type="",
        case_id=None,
    )
    before = snapshot(policy["id"])
    resp = complete(api("reviewer.sz"), task.pk, decision="approve")
    assert resp.status_code == 400, resp.content
    assert resp.json()["code"] == "stale_endorsement"
    assert resp.json()["decision"] == [
        "保单或客户信息在申请提交后已被修改,本次批改已过期,不能通过;请选择拒绝"
    ]
    assert snapshot(policy["id"]) == before
    assert Customer.objects.get(pk=holder.pk).phone == "+8613812345678"
    assert Policy.objects.get(pk=policy["id"]).payment_mode == "annual"
    assert HumanTask.objects.get(pk=task.pk).status == "ready"
    # Rejecting it is still possible, and closes it without change.
    assert complete(api("reviewer.sz"), task.pk, decision="reject", comment="已过期").status_code == 200
    assert Endorsement.objects.get(pk=task.case_id).status == "rejected"
    assert snapshot(policy["id"]) == before


def test_apply_refuses_a_stale_part_even_past_the_form(api, policy, parties, users):
    """The apply step itself re-checks: a policy moved since the request → 409, nothing applied."""
    holder, _insured = parties
    resp = endorse(
        api("collector.sz"),
        policy["id"],
        customer_changes={"policyholder": {"phone": "13700001111"}},
        policy_changes={"payment_mode": "monthly"},
    )
    task = review_task(resp.json()["id"])
    endorsement = Endorsement.objects.get(pk=task.case_id)
    Policy.objects.filter(pk=policy["id"]).update(version=5)
    before = snapshot(policy["id"])
    with pytest.raises(Conflict) as exc, transaction.atomic():
        services.endorsement_apply(actor=users["reviewer.sz"], case_id=endorsement.pk)
    assert exc.value.code == "stale_endorsement" and exc.value.extra == {"stale": ["policy"]}
    assert snapshot(policy["id"]) == before
    assert Customer.objects.get(pk=holder.pk).phone == "+8613812345678"


def test_shares_not_summing_to_100_is_400_and_nothing_created(api, policy, parties):
    holder, insured = parties
    bad = [
        {
            "name": "王小红",
            "id_type": "resident_id",
            "id_number": resident_id(birth=date(2010, 3, 1)),
            "relationship": "child",
            "share": "60",
        },
        {
            "name": "李芳",
            "id_type": "resident_id",
            "id_number": resident_id(birth=date(1986, 8, 8)),
            "relationship": "spouse",
            "share": "30",
        },
    ]
    resp = endorse(api("collector.sz"), policy["id"], policy_changes={"beneficiaries": bad})
    assert resp.status_code == 400, resp.content
    assert resp.json()["beneficiaries"] == ["受益比例合计应为 100%,当前合计 90%"]
    assert (
        Endorsement.objects.count() == 0
        and ProcessInstance.objects.filter(subject_type="policies.endorsement").count() == 0
    )
    resp = api("collector.sz").post(
        "/api/policies/",
        policy_payload(holder, insured, policy_number="P-2", beneficiaries=bad),
        format="json",
    )
    assert resp.status_code == 400
    assert resp.json()["beneficiaries"] == ["受益比例合计应为 100%,当前合计 90%"]
    zero = [{**bad[0], "share": "0"}, {**bad[1], "share": "100"}]
    resp = api("collector.sz").post(
        "/api/policies/",
        policy_payload(holder, insured, policy_number="P-3", beneficiaries=zero),
        format="json",
    )
    assert resp.status_code == 400
    assert resp.json()["beneficiaries.0.share"] == ["受益比例应大于 0、不超过 100,最多两位小数"]
    assert Policy.objects.count() == 1


def test_frozen_customer_cannot_be_endorsed(api, policy, parties):
    holder, _insured = parties
    customer = Customer.objects.get(pk=holder.pk)
    customer.freeze()
    customer.save(update_fields=["status"])
    before = snapshot(policy["id"])
    resp = endorse(api("collector.sz"), policy["id"], policy_changes={"payment_mode": "monthly"})
    assert resp.status_code == 400, resp.content
    assert resp.json()["policyholder"] == ["客户当前状态为「已冻结」,不能批改"]
    assert Endorsement.objects.count() == 0
    assert snapshot(policy["id"]) == before


def test_frozen_customer_cannot_take_out_a_policy(api, parties):
    holder, insured = parties
    customer = Customer.objects.get(pk=insured.pk)
    customer.freeze()
    customer.save(update_fields=["status"])
    resp = api("collector.sz").post("/api/policies/", policy_payload(holder, insured), format="json")
    assert resp.status_code == 400
    assert resp.json()["insured"] == ["客户当前状态为「已冻结」,不能投保"]
    assert Policy.objects.count() == 0


def test_bad_customer_part_is_keyed_by_party_and_nothing_created(api, policy):
    resp = endorse(api("collector.sz"), policy["id"], customer_changes={"policyholder": {"phone": "12"}})
    assert resp.status_code == 400, resp.content
    assert list(resp.json()) == ["policyholder.phone", "code"]
    assert Endorsement.objects.count() == 0


def test_request_that_changes_nothing_is_400(api, policy):
    resp = endorse(
        api("collector.sz"),
        policy["id"],
        customer_changes={"policyholder": {"phone": "13812345678"}},
        policy_changes={"payment_mode": "annual", "sum_insured": "500000"},
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "no_changes"
    assert Endorsement.objects.count() == 0


def test_one_pending_endorsement_per_policy(api, policy):
    assert (
        endorse(api("collector.sz"), policy["id"], policy_changes={"payment_mode": "monthly"}).status_code
        == 201
    )
    resp = endorse(api("officer.sz"), policy["id"], policy_changes={"payment_mode": "quarterly"})
    assert resp.status_code == 409
    assert resp.json()["code"] == "endorsement_pending"
    assert Endorsement.objects.count() == 1


def test_rejected_endorsement_changes_nothing(api, policy):
    resp = endorse(
        api("collector.sz"),
        policy["id"],
        customer_changes={"policyholder": {"phone": "13700001111"}},
        policy_changes={"payment_mode": "monthly"},
    )
    task = review_task(resp.json()["id"])
    before = snapshot(policy["id"])
    assert complete(api("reviewer.sz"), task.pk, decision="reject").status_code == 400  # needs a reason
    resp = complete(api("reviewer.sz"), task.pk, decision="reject", comment="材料不全")
    assert resp.status_code == 200, resp.content
    endorsement = Endorsement.objects.get(pk=task.case_id)
    assert endorsement.status == "rejected" and endorsement.decision_comment == "材料不全"
    assert snapshot(policy["id"]) == before


def test_other_city_gets_404(api, policy):
    resp = endorse(api("collector.sz"), policy["id"], policy_changes={"payment_mode": "monthly"})
    endorsement_id = resp.json()["id"]
    gz = api("reviewer.gz")
    assert gz.get(f"/api/policies/{policy['id']}/").status_code == 404
    assert gz.get(f"/api/endorsements/{endorsement_id}/").status_code == 404
    assert gz.post(f"/api/endorsements/{endorsement_id}/form.pdf", format="json").status_code == 404
    assert endorse(gz, policy["id"], policy_changes={"payment_mode": "single"}).status_code == 404
    assert gz.get("/api/policies/").json()["count"] == 0


def test_endorsement_form_pdf(api, policy, tmp_path):
    resp = endorse(
        api("collector.sz"),
        policy["id"],
        customer_changes={"policyholder": {"phone": "13700001111"}},
        policy_changes={"payment_mode": "monthly"},
    )
    endorsement_id = resp.json()["id"]
    pdf = api("reviewer.sz").post(f"/api/endorsements/{endorsement_id}/form.pdf", format="json")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    document = PrintedDocument.objects.get(pk=pdf["X-Document-Id"])
    assert document.kind == "endorsement_form" and document.customer_id == policy["policyholder"]["id"]
    source = Path(tmp_path) / "e.pdf"
    source.write_bytes(pdf.content)
    try:
        out = subprocess.run(["pdftotext", str(source), "-"], capture_output=True, check=True, timeout=60)
    except FileNotFoundError:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = re.sub(r"\s+", "", out.stdout.decode("utf-8"))
    for expected in (
        "批改申请书",
        "P4403-2026-0001",
        "王小明",
        "137****1111",
        "138****5678",
        "年缴",
        "月缴",
        "批改校验",
        "审批记录",
    ):
        assert expected in text, expected
    assert re.search(r"第1页/共[12]页", text), text
    assert "13700001111" not in text  # masked for a reviewer


def test_city_review_deadline_escalates_to_province(api, policy):
    resp = endorse(api("collector.sz"), policy["id"], policy_changes={"payment_mode": "monthly"})
    task = review_task(resp.json()["id"])
    assert task.step == "review"
    at = task.created_at + timedelta(hours=49)
    call_command("run_timers", "--at", at.isoformat(), stdout=io.StringIO())
    assert HumanTask.objects.get(pk=task.pk).status == "cancelled"
    escalated = review_task(task.case_id)
    assert (escalated.step, escalated.org_unit.code) == ("province_review", "GD")
    assert AuditEvent.objects.filter(action="task.escalated", task_id=task.pk).count() == 1
    assert complete(api("reviewer.gd"), escalated.pk, decision="approve").status_code == 200
    assert Policy.objects.get(pk=policy["id"]).payment_mode == "monthly"
    trail = api("collector.sz").get(f"/api/endorsements/{task.case_id}/").json()
    assert trail["status"] == "applied" and trail["decided_by"] == "reviewer.gd"


def test_customer_frozen_after_the_request_cannot_be_approved(api, policy, parties):
    holder, _insured = parties
    resp = endorse(
        api("collector.sz"), policy["id"], customer_changes={"policyholder": {"phone": "13700001111"}}
    )
    task = review_task(resp.json()["id"])
    customer = Customer.objects.get(pk=holder.pk)
    customer.freeze()
    customer.save(update_fields=["status"])
    before = snapshot(policy["id"])
    resp = complete(api("reviewer.sz"), task.pk, decision="approve")
    assert resp.status_code == 400, resp.content
    assert resp.json()["decision"] == ["客户当前状态为「已冻结」,不能批改"]
    assert snapshot(policy["id"]) == before
    assert HumanTask.objects.get(pk=task.pk).status == "ready"

"""抽样核实 (monthly sample, idempotent per month; "wrong" starts an amendment) and the
decisions on import review rows."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from backend.customers.models import Customer, CustomerAmendment, CustomerStatus
from backend.integrations.models import ImportReview, VerificationSample
from backend.integrations.verification import sample_verification_run
from backend.organisation.models import OrgUnit
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.factories import resident_id

pytestmark = pytest.mark.django_db


def make_customers(n: int, unit: str, users, month=(2026, 10)) -> list[Customer]:
    org = OrgUnit.objects.get(code=unit)
    out = []
    for i in range(n):
        c = Customer.objects.create(
            name=f"客户{i}",
            id_type="resident_id",
            id_number=resident_id(),
            phone=f"+86138000{i:05d}",
            info_level="advanced",
            status=CustomerStatus.ACTIVE,
            org_unit=org,
            collected_by=users["collector.sz"],
        )
        out.append(c)
    when = datetime(*month, 15, tzinfo=UTC)
    Customer.objects.filter(pk__in=[c.pk for c in out]).update(created_at=when, updated_at=when)
    return out


def test_monthly_sample_is_drawn_once_per_branch(users):
    make_customers(40, "GD-SZ", users)
    make_customers(3, "GD-GZ", users)
    make_customers(5, "GD-SZ", users, month=(2026, 9))  # another month: not sampled
    first = sample_verification_run(period="2026-10", share=0.1)
    assert first == {"period": "2026-10", "created": 5}  # 4 of 40 in Shenzhen + at least 1 in Guangzhou
    assert dict(
        (code, VerificationSample.objects.filter(org_unit__code=code).count()) for code in ("GD-SZ", "GD-GZ")
    ) == {"GD-SZ": 4, "GD-GZ": 1}
    again = sample_verification_run(period="2026-10", share=0.1)
    assert again == {"period": "2026-10", "created": 0}
    assert HumanTask.objects.filter(process_key="sample_verification").count() == 5


def test_wrong_starts_an_amendment_confirmed_marks_verified(users, api):
    customers = make_customers(2, "GD-SZ", users)
    sample_verification_run(period="2026-10", share=1.0)
    officer = api("officer.sz")
    tasks = sorted(inbox(officer), key=lambda t: t["id"])
    assert [t["process"] for t in tasks] == ["sample_verification", "sample_verification"]
    refused = officer.post(f"/api/tasks/{tasks[0]['id']}/complete/", {"result": "wrong"}, format="json")
    assert refused.status_code == 400
    assert "notes" in refused.json()
    wrong = officer.post(
        f"/api/tasks/{tasks[0]['id']}/complete/",
        {"result": "wrong", "notes": "客户说电话已换", "phone": "13912345678"},
        format="json",
    )
    assert wrong.status_code == 200, wrong.content
    sample = VerificationSample.objects.get(pk=tasks[0]["case_id"])
    amendment = CustomerAmendment.objects.get(pk=sample.amendment_id)
    assert amendment.changes["phone"]["new"] == "+8613912345678"
    assert amendment.status == "pending"
    ok = officer.post(
        f"/api/tasks/{tasks[1]['id']}/complete/", {"result": "confirmed", "notes": ""}, format="json"
    )
    assert ok.status_code == 200, ok.content
    confirmed = VerificationSample.objects.get(pk=tasks[1]["case_id"])
    assert confirmed.result == "confirmed"
    assert Customer.objects.get(pk=confirmed.customer_id).last_verified_at is not None
    assert {c.pk for c in customers} == {sample.customer_id, confirmed.customer_id}


def test_accepting_a_merge_review_starts_an_amendment(api, django_capture_on_commit_callbacks):
    number = resident_id()
    header = "姓名,证件类型,证件号码,联系电话\n"
    for line in (f"张三,居民身份证,{number},13800000021", f"张三,居民身份证,{number},13800000022"):
        f = io.BytesIO((header + line + "\n").encode())
        f.name = "x.csv"
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                api("officer.sz")
                .post("/api/integrations/imports/", {"file": f}, format="multipart")
                .status_code
                == 202
            )
    review = ImportReview.objects.get()
    task = HumanTask.objects.get(process_key="import_row_review")
    page = api("officer.sz").get(f"/api/tasks/{task.pk}/")
    assert page.status_code == 200
    resp = api("officer.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "accept"}, format="json")
    assert resp.status_code == 200, resp.content
    amendment = CustomerAmendment.objects.get(customer=review.customer)
    assert amendment.changes == {"phone": {"old": "+8613800000021", "new": "+8613800000022"}}
    review.refresh_from_db()
    assert review.decision == "accept"

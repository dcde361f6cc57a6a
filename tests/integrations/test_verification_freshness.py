"""Issue 16 item 6: freshness starts work. Stale customers join the monthly sample; an
unreachable call opens a follow-up with its own deadline; the last allowed failure marks the
customer unreachable on the data-quality page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.customers.models import Customer
from backend.integrations.models import VerificationSample
from backend.integrations.verification import sample_verification_run
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.integrations.test_verification_and_reviews import make_customers

pytestmark = pytest.mark.django_db


def _age(customers, *, created_days: int, verified_days: int | None):
    now = timezone.now()
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(
        created_at=now - timedelta(days=created_days),
        updated_at=now - timedelta(days=created_days),
        last_verified_at=None if verified_days is None else now - timedelta(days=verified_days),
    )


def test_stale_customers_join_the_sample_next_to_the_months_changes(users):
    changed = make_customers(20, "GD-SZ", users)  # changed in 2026-10: 10% drawn
    stale = make_customers(2, "GD-SZ", users)
    _age(stale[:1], created_days=900, verified_days=400)  # verified too long ago
    _age(stale[1:], created_days=500, verified_days=None)  # opened long ago, never verified
    fresh = make_customers(1, "GD-SZ", users)
    _age(fresh, created_days=900, verified_days=100)  # verified recently: not due
    elsewhere = make_customers(1, "GD-GZ", users)
    _age(elsewhere, created_days=800, verified_days=None)  # a branch with no changes this month

    result = sample_verification_run(period="2026-10", share=0.1)

    samples = VerificationSample.objects.filter(period="2026-10")
    by_reason = {
        r: set(samples.filter(reason=r).values_list("customer_id", flat=True)) for r in ("changed", "stale")
    }
    assert by_reason["stale"] == {stale[0].pk, stale[1].pk, elsewhere[0].pk}
    assert len(by_reason["changed"]) == 2 and by_reason["changed"] <= {c.pk for c in changed}
    assert fresh[0].pk not in by_reason["changed"] | by_reason["stale"]
    assert result == {"period": "2026-10", "created": 5}
    # Runs twice: nothing twice; a customer still being verified is not drawn again next month.
    assert sample_verification_run(period="2026-10", share=0.1)["created"] == 0
    again = sample_verification_run(period="2026-11", share=0.1)
    assert again["created"] == 0


def test_verify_after_days_is_a_setting(users, settings):
    settings.CUSTFLOW = {**settings.CUSTFLOW, "VERIFY_AFTER_DAYS": 30}
    due = make_customers(1, "GD-SZ", users)
    _age(due, created_days=200, verified_days=40)
    sample_verification_run(period="2026-10", share=0.1)
    assert list(VerificationSample.objects.values_list("customer_id", "reason")) == [(due[0].pk, "stale")]


def _task(officer, customer):
    sample = VerificationSample.objects.get(customer=customer)
    return [t for t in inbox(officer) if t["process"] == "sample_verification" and t["case_id"] == sample.pk]


def test_unreachable_opens_follow_ups_and_the_third_failure_marks_the_customer(users, api, client):
    customer = make_customers(1, "GD-SZ", users)[0]
    sample_verification_run(period="2026-10", share=1.0)
    officer = api("officer.sz")
    [first] = _task(officer, customer)
    resp = officer.post(
        f"/api/tasks/{first['id']}/complete/", {"result": "unreachable", "notes": "无人接听"}, format="json"
    )
    assert resp.status_code == 200, resp.content

    [follow] = _task(officer, customer)
    row = HumanTask.objects.get(pk=follow["id"])
    assert row.step == "follow_up" and row.form_key == "integrations/verification_call_followup"
    assert row.due_at is not None and row.due_at > timezone.now() + timedelta(
        days=2
    )  # its own deadline (5 working days)
    # A follow-up must say how the customer was sought: 400 on the field, nothing recorded.
    bad = officer.post(f"/api/tasks/{follow['id']}/complete/", {"result": "unreachable"}, format="json")
    assert bad.status_code == 400 and "method" in bad.json()
    bad = officer.post(
        f"/api/tasks/{follow['id']}/complete/", {"method": "fax", "result": "unreachable"}, format="json"
    )
    assert bad.status_code == 400
    assert VerificationSample.objects.get(customer=customer).attempts == 1

    ok = officer.post(
        f"/api/tasks/{follow['id']}/complete/",
        {"method": "letter", "result": "unreachable", "notes": "信函退回"},
        format="json",
    )
    assert ok.status_code == 200, ok.content
    sample = VerificationSample.objects.get(customer=customer)
    assert (sample.attempts, sample.unreachable_at, sample.closed_at) == (2, None, None)

    [last] = _task(officer, customer)
    ok = officer.post(
        f"/api/tasks/{last['id']}/complete/",
        {"method": "visit", "result": "unreachable", "notes": "上门无人"},
        format="json",
    )
    assert ok.status_code == 200, ok.content
    sample.refresh_from_db()
    assert sample.attempts == 3 and sample.unreachable_at is not None and sample.closed_at is not None
    assert sample.follow_up_method == "visit"
    assert _task(officer, customer) == []

    client.force_login(users["officer.sz"])
    page = client.get("/data-quality/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"#{customer.pk}</a>" in html
    assert "多次核实无法联系" in html or "unreachable" in html


def test_a_follow_up_that_reaches_the_customer_closes_the_sample(users, api):
    customer = make_customers(1, "GD-SZ", users)[0]
    sample_verification_run(period="2026-10", share=1.0)
    officer = api("officer.sz")
    [first] = _task(officer, customer)
    officer.post(f"/api/tasks/{first['id']}/complete/", {"result": "unreachable"}, format="json")
    [follow] = _task(officer, customer)
    ok = officer.post(
        f"/api/tasks/{follow['id']}/complete/", {"method": "retry", "result": "confirmed"}, format="json"
    )
    assert ok.status_code == 200, ok.content
    sample = VerificationSample.objects.get(customer=customer)
    assert sample.result == "confirmed" and sample.unreachable_at is None and sample.closed_at is not None
    assert Customer.objects.get(pk=customer.pk).last_verified_at is not None
    assert _task(officer, customer) == []


def test_the_follow_up_deadline_escalates_and_reopens_the_follow_up(users, api):
    from processes.sweep import timers_sweep

    customer = make_customers(1, "GD-SZ", users)[0]
    sample_verification_run(period="2026-10", share=1.0)
    officer = api("officer.sz")
    [first] = _task(officer, customer)
    officer.post(f"/api/tasks/{first['id']}/complete/", {"result": "unreachable"}, format="json")
    [follow] = _task(officer, customer)
    due = HumanTask.objects.get(pk=follow["id"]).due_at
    timers_sweep(now=due + timedelta(minutes=1))
    assert HumanTask.objects.get(pk=follow["id"]).outcome == "escalated"
    [again] = _task(officer, customer)
    assert again["id"] != follow["id"]
    assert VerificationSample.objects.get(customer=customer).attempts == 1  # staff lateness is no failed call

"""Issue 16 item 5: the monthly job lists customers whose identity document expires within
ID_EXPIRY_NOTICE_DAYS (default 60) or has expired and opens an update task for the owning
branch; it is idempotent; the task records what the officer did."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings

from backend.common.models import AuditEvent
from backend.customers.expiry import id_expiry_run
from backend.customers.models import CustomerStatus, IdDocumentRenewal
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.customers.factories import customer_make

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)


@pytest.fixture
def population(users):
    return {
        "expired": customer_make("GD-SZ", id_valid_until=TODAY - timedelta(days=3)),
        "soon": customer_make("GD-SZ", id_valid_until=TODAY + timedelta(days=60)),
        "later": customer_make("GD-SZ", id_valid_until=TODAY + timedelta(days=61)),
        "long_term": customer_make("GD-SZ", id_valid_long_term=True),
        "unrecorded": customer_make("GD-SZ"),
        "other_branch": customer_make("GD-GZ", id_valid_until=TODAY + timedelta(days=10)),
        "rejected": customer_make("GD-SZ", id_valid_until=TODAY, status=CustomerStatus.REJECTED),
    }


def _renewal_tasks(api, username):
    return [t for t in inbox(api(username)) if t["process"] == "id_document_renewal"]


def test_the_job_opens_one_update_task_per_expiring_document_at_the_owning_branch(api, population):
    result = id_expiry_run(today=TODAY)
    assert result == {"period": "2026-12", "opened": 3}
    renewals = {r.customer_id: r for r in IdDocumentRenewal.objects.all()}
    p = population
    assert set(renewals) == {p["expired"].pk, p["soon"].pk, p["other_branch"].pk}
    assert renewals[p["expired"].pk].expired is True and renewals[p["soon"].pk].expired is False
    assert renewals[p["other_branch"].pk].org_unit.code == "GD-GZ"

    sz = _renewal_tasks(api, "officer.sz")
    assert sorted(t["case_id"] for t in sz) == sorted(
        [renewals[p["expired"].pk].pk, renewals[p["soon"].pk].pk]
    )
    assert [t["case_id"] for t in _renewal_tasks(api, "officer.gz")] == [renewals[p["other_branch"].pk].pk]
    row = HumanTask.objects.get(pk=sz[0]["id"])
    assert row.form_key == "customers/id_document_renewal" and row.due_at is not None
    listed = AuditEvent.objects.filter(action="customer.id_expiry_listed", org_unit__code="GD-SZ").get()
    assert sorted(listed.data["customers"]) == sorted([p["expired"].pk, p["soon"].pk])


def test_the_job_is_idempotent(api, population):
    assert id_expiry_run(today=TODAY)["opened"] == 3
    assert id_expiry_run(today=TODAY)["opened"] == 0
    # Next month: the open tasks are not doubled; only the document that entered the window.
    assert id_expiry_run(today=TODAY + timedelta(days=31))["opened"] == 1
    assert id_expiry_run(today=TODAY + timedelta(days=32))["opened"] == 0
    assert IdDocumentRenewal.objects.filter(customer=population["later"], period="2027-01").exists()
    assert IdDocumentRenewal.objects.count() == 4
    assert HumanTask.objects.filter(process_key="id_document_renewal").count() == 4


def test_the_window_is_a_setting(population, settings):
    settings.CUSTFLOW = {**django_settings.CUSTFLOW, "ID_EXPIRY_NOTICE_DAYS": 61}
    assert id_expiry_run(today=TODAY)["opened"] == 4
    assert IdDocumentRenewal.objects.filter(customer=population["later"]).exists()


def test_the_job_is_scheduled_monthly():
    from celery.schedules import crontab

    entry = django_settings.CELERY_BEAT_SCHEDULE["id-expiry"]
    assert entry["task"] == "customers.id_expiry_run"
    assert isinstance(entry["schedule"], crontab) and entry["schedule"].day_of_month == {1}


def test_the_officer_records_the_outcome_and_bad_input_changes_nothing(api, population):
    id_expiry_run(today=TODAY)
    customer = population["soon"]
    renewal = IdDocumentRenewal.objects.get(customer=customer)
    [task] = [t for t in _renewal_tasks(api, "officer.sz") if t["case_id"] == renewal.pk]
    officer = api("officer.sz")
    url = f"/api/tasks/{task['id']}/complete/"

    bad = officer.post(url, {"outcome": "amendment_requested"}, format="json")
    assert bad.status_code == 400 and "outcome" in bad.json()  # no amendment made yet
    bad = officer.post(url, {"outcome": "unreachable"}, format="json")
    assert bad.status_code == 400 and "notes" in bad.json()
    bad = officer.post(url, {"outcome": "lost"}, format="json")
    assert bad.status_code == 400
    assert IdDocumentRenewal.objects.get(pk=renewal.pk).closed_at is None

    new = (TODAY + timedelta(days=3650)).isoformat()
    amend = officer.post(
        f"/api/customers/{customer.pk}/amendments/",
        {"id_valid_until": new, "reason": "客户换领新证"},
        format="json",
    )
    assert amend.status_code == 201, amend.content
    ok = officer.post(url, {"outcome": "amendment_requested", "notes": "已收到新证复印件"}, format="json")
    assert ok.status_code == 200, ok.content
    renewal = IdDocumentRenewal.objects.get(pk=renewal.pk)
    assert renewal.outcome == "amendment_requested" and renewal.closed_at is not None
    assert AuditEvent.objects.filter(
        action="customer.id_renewal_recorded", object_id=str(customer.pk)
    ).exists()


def test_the_task_page_shows_the_customer_and_the_expiry(client, users, population):
    id_expiry_run(today=TODAY)
    renewal = IdDocumentRenewal.objects.get(customer=population["expired"])
    task = HumanTask.objects.get(process_key="id_document_renewal", case_id=renewal.pk)
    client.force_login(users["officer.sz"])
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert 'data-testid="id-renewal-case"' in page
    assert "已过期" in page and renewal.valid_until.isoformat() in page
    client.force_login(users["officer.gz"])
    assert client.get(f"/tasks/{task.pk}/").status_code == 404

"""The policy pages: list, detail, the endorsement form (errors in the form) and the task page diff."""

from __future__ import annotations

import pytest
from django.test import Client

from backend.customers.models import Customer
from backend.policies.models import Endorsement
from tasks.models import HumanTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(users):
    def _login(username: str) -> Client:
        client = Client()
        assert client.login(username=username, password="demo-pass-2026")
        return client

    return _login


def test_list_and_detail_pages(login, policy):
    client = login("reviewer.sz")
    page = client.get("/policies/").content.decode()
    assert 'data-testid="nav-policies"' in page
    assert f'data-testid="policy-link-{policy["id"]}"' in page and "P4403-2026-0001" in page
    detail = client.get(f"/policies/{policy['id']}/").content.decode()
    assert "安心终身寿险" in detail and "王小红" in detail and "60.00" in detail
    assert "138****5678" in detail and "+8613812345678" not in detail
    assert login("reviewer.gz").get(f"/policies/{policy['id']}/").status_code == 404
    assert f"policy-link-{policy['id']}" not in login("reviewer.gz").get("/policies/").content.decode()


def test_endorsement_form_shows_current_values_and_errors(login, policy, parties):
    holder, _insured = parties
    client = login("collector.sz")
    form = client.get(f"/policies/{policy['id']}/endorse/").content.decode()
    assert 'data-testid="party-policyholder"' in form and 'data-testid="party-insured"' in form
    assert "138****5678" in form and "年缴" in form
    resp = client.post(
        f"/policies/{policy['id']}/endorse/",
        {
            "policyholder.phone": "12",
            "change_beneficiaries": "1",
            "b0_name": "王小红",
            "b0_id_type": "passport",
            "b0_id_number": "E12345678",
            "b0_relationship": "child",
            "b0_share": "70",
            "reason": "",
        },
    )
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "请填写批改原因" in body
    assert "受益比例合计应为 100%,当前合计 70%" in body
    assert 'value="12"' in body  # what was typed comes back
    assert Endorsement.objects.count() == 0
    customer = Customer.objects.get(pk=holder.pk)
    customer.freeze()
    customer.save(update_fields=["status"])
    resp = client.post(
        f"/policies/{policy['id']}/endorse/", {"payment_mode": "monthly", "reason": "改为月缴"}
    )
    assert resp.status_code == 400
    assert "客户当前状态为「已冻结」,不能批改" in resp.content.decode()
    assert Endorsement.objects.count() == 0


def test_endorsement_submitted_from_the_form_and_shown_on_the_task_page(login, policy, parties):
    holder, _insured = parties
    resp = login("collector.sz").post(
        f"/policies/{policy['id']}/endorse/",
        {"policyholder.phone": "13700001111", "payment_mode": "monthly", "reason": "客户来电"},
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    endorsement = Endorsement.objects.get()
    assert endorsement.customer_changes == {
        str(holder.pk): {"phone": {"old": "+8613812345678", "new": "+8613700001111"}}
    }
    assert endorsement.policy_changes == {"payment_mode": {"old": "annual", "new": "monthly"}}
    task = HumanTask.objects.get(case_type="policies.endorsement", case_id=endorsement.pk, status="ready")
    page = login("reviewer.sz").get(f"/tasks/{task.pk}/").content.decode()
    assert 'data-testid="endorsement-case"' in page
    assert "138****5678" in page and "137****1111" in page and "+8613700001111" not in page
    assert "年缴" in page and "月缴" in page
    # The officer (full view) sees the full values.
    page = login("officer.sz").get(f"/tasks/{task.pk}/").content.decode()
    assert "+8613812345678" in page and "+8613700001111" in page
    resp = login("reviewer.sz").post(f"/tasks/{task.pk}/", {"decision": "approve"})
    assert resp.status_code == 302
    assert Customer.objects.get(pk=holder.pk).phone == "+8613700001111"
    pdf = login("collector.sz").post(f"/endorsements/{endorsement.pk}/form.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

"""Issue 16 item 7: the customer is told when his contact or identity data changes.

An applied amendment or endorsement writes one notice per channel (SMS when there is a phone;
a letter when there is no phone or the phone itself changed), rendered in Chinese from a
template, naming the changed data and never its values; the sweep job sends it through the
backend named by CUSTFLOW_CUSTOMER_NOTICE_BACKEND (the log backend in the demo and here)."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from django.test import override_settings

from backend.customers.models import Customer, CustomerNotice
from backend.customers.notices import MAX_ATTEMPTS, customer_notices_deliver
from tests.conftest import inbox
from tests.factories import resident_id

pytestmark = pytest.mark.django_db

SENT: list[dict] = []


class RecordingBackend:
    def send(self, *, notice, recipient):
        SENT.append({"id": notice.pk, "channel": notice.channel, "recipient": recipient, "body": notice.body})


class BrokenGateway:
    def send(self, *, notice, recipient):
        raise ConnectionError("sms gateway down")


@pytest.fixture
def customer(api, submit):
    body = submit("advanced", id_number=resident_id(birth=date(1984, 4, 4)), phone="13812341111").json()
    [task] = [t for t in inbox(api("reviewer.sz")) if t["case_id"] == body["id"]]
    assert (
        api("reviewer.sz")
        .post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json")
        .status_code
        == 200
    )
    return Customer.objects.get(pk=body["customer_id"])


def amend(api, customer, decision="approve", reviewer="reviewer.sz", **changes):
    resp = api("collector.sz").post(
        f"/api/customers/{customer.pk}/amendments/", {**changes, "reason": "客户申请"}, format="json"
    )
    assert resp.status_code == 201, resp.content
    amendment = resp.json()
    [task] = [
        t
        for t in inbox(api(reviewer))
        if t["case_id"] == amendment["id"] and t["process"] == "customer_amendment"
    ]
    done = api(reviewer).post(
        f"/api/tasks/{task['id']}/complete/", {"decision": decision, "comment": "核实"}, format="json"
    )
    assert done.status_code == 200, done.content
    return amendment["id"]


def test_a_phone_change_is_announced_by_sms_and_letter_without_values(api, customer, caplog):
    amendment_id = amend(api, customer, phone="13912342222")
    notices = list(CustomerNotice.objects.filter(customer=customer).order_by("id"))
    assert [(n.channel, n.fields, n.status, n.case_type, n.case_id) for n in notices] == [
        ("sms", ["phone"], "pending", "customers.customeramendment", amendment_id),
        ("letter", ["phone"], "pending", "customers.customeramendment", amendment_id),
    ]
    for n in notices:
        assert "联系电话" in n.body and "变更" in n.body
        for value in ("13912342222", "13812341111", customer.id_number, customer.name, customer.address):
            assert value not in n.body
    detail = api("reviewer.sz").get(f"/api/amendments/{amendment_id}/").json()
    assert [(n["channel"], n["fields"]) for n in detail["notices"]] == [
        ("sms", ["phone"]),
        ("letter", ["phone"]),
    ]

    with caplog.at_level(logging.INFO, logger="custflow.customer_notices"):
        assert customer_notices_deliver() == 2
    assert set(CustomerNotice.objects.values_list("status", flat=True)) == {"sent"}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "联系电话" in logged and f"customer={customer.pk}" in logged
    assert "13912342222" not in logged and "+8613912342222" not in logged and customer.address not in logged
    assert customer_notices_deliver() == 0  # sent once


@override_settings(CUSTFLOW_CUSTOMER_NOTICE_BACKEND="tests.customers.test_change_notices.RecordingBackend")
def test_the_backend_is_pluggable_and_gets_the_current_contact(api, customer):
    SENT.clear()
    amend(api, customer, email="new@example.com")
    assert customer_notices_deliver() == 1
    [sent] = SENT
    assert (sent["channel"], sent["recipient"]) == ("sms", "+8613812341111")
    assert "电子邮箱" in sent["body"]


@override_settings(CUSTFLOW_CUSTOMER_NOTICE_BACKEND="tests.customers.test_change_notices.BrokenGateway")
def test_a_failing_gateway_is_retried_then_marked_failed(api, customer):
    amend(api, customer, address="深圳市福田区 9 号")
    for _ in range(MAX_ATTEMPTS):
        assert customer_notices_deliver() == 0
    notice = CustomerNotice.objects.get()
    assert (notice.status, notice.attempts, notice.error) == ("failed", MAX_ATTEMPTS, "ConnectionError")


def test_an_identity_change_is_announced(api, customer):
    amend(api, customer, reviewer="reviewer.gd", name="王晓明")
    [notice] = CustomerNotice.objects.all()
    assert (notice.channel, notice.fields) == ("sms", ["name"])
    assert "王晓明" not in notice.body


def test_a_rejected_change_announces_nothing(api, customer):
    amend(api, customer, decision="reject", phone="13912343333")
    assert CustomerNotice.objects.count() == 0


def test_the_notice_is_in_chinese_whatever_the_reviewers_language(api, customer):
    reviewer = api("reviewer.sz")
    reviewer.cookies["django_language"] = "en"
    amend(api, customer, email="x@example.com")
    [notice] = CustomerNotice.objects.all()
    assert notice.body.startswith("【客户信息变更通知】")


def test_an_endorsement_announces_the_changed_party_only(api, submit):
    from tests.policies.conftest import policy_payload

    def active(phone, birth):
        body = submit("advanced", id_number=resident_id(birth=birth), phone=phone).json()
        [task] = [t for t in inbox(api("reviewer.sz")) if t["case_id"] == body["id"]]
        api("reviewer.sz").post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json")
        return Customer.objects.get(pk=body["customer_id"])

    holder, insured = active("13812344444", date(1980, 1, 1)), active("13812345555", date(1950, 1, 1))
    policy = api("collector.sz").post("/api/policies/", policy_payload(holder, insured), format="json").json()
    resp = api("collector.sz").post(
        f"/api/policies/{policy['id']}/endorsements/",
        {"customer_changes": {"insured": {"address": "深圳市罗湖区 3 号"}}, "reason": "被保险人搬家"},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    [task] = [t for t in inbox(api("reviewer.sz")) if t["process"] == "endorsement"]
    assert (
        api("reviewer.sz")
        .post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json")
        .status_code
        == 200
    )
    [notice] = CustomerNotice.objects.all()
    assert (notice.customer_id, notice.fields, notice.case_type) == (
        insured.pk,
        ["address"],
        "policies.endorsement",
    )
    detail = api("reviewer.sz").get(f"/api/endorsements/{resp.json()['id']}/").json()
    assert [n["customer_id"] for n in detail["notices"]] == [insured.pk]

"""热线坐席台 (issue 20 item 3): the agent sees a caller's customer whole, logs the call, and from the
same request files a complaint, a change request (the amendment process, with its checks) or a
claim report hand-off; bad input and a refused hand-off leave nothing behind."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.complaints.models import Complaint
from backend.customers.models import CustomerAmendment, CustomerContact
from backend.hotline.models import HotlineCall
from backend.integrations.clients import api_client_create
from backend.integrations.models import CallbackEvent
from backend.segments.services import segments_assign_all
from tests.customers.factories import customer_make
from tests.segments.factories import policy_make

pytestmark = pytest.mark.django_db
URL = "/api/hotline/calls/"


def _call(api, customer=None, as_user="hotline.gd", **extra):
    body = {
        "caller_phone": customer.phone if customer else "13912345678",
        "customer_id": customer.pk if customer else None,
        "category": "policy",
        "summary": "客户来电询问保单现金价值",
        "outcome": "已告知查询方式",
        **extra,
    }
    return api(as_user).post(URL, body, format="json")


def test_the_agent_sees_the_customer_whole_and_masked(api):
    customer = customer_make()
    policy_make(customer, effective=date(2019, 1, 1))
    segments_assign_all()
    resp = api("hotline.gd").get(f"/api/hotline/customers/{customer.pk}/")
    assert resp.status_code == 200, resp.content
    view = resp.json()
    assert view["customer"]["masked"] is True and "*" in view["customer"]["phone"]
    assert len(view["policies_by_role"]["holder"]) == 1
    assert view["segment"]["segments"][0]["code"] == "good"
    assert {"cases", "complaints", "timeline", "manager", "calls"} <= set(view)


def test_a_consultation_is_logged_and_lands_in_the_contact_log(api):
    customer = customer_make()
    resp = _call(api, customer)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["handoff"] == "none" and body["category"] == "policy" and "*" in body["caller_phone"]
    contact = CustomerContact.objects.get(customer=customer)
    assert contact.kind == "call" and contact.channel == "hotline"
    assert AuditEvent.objects.filter(action="hotline_call.logged").count() == 1
    assert api("hotline.gd").get(f"{URL}{body['id']}/").json()["summary"] == "客户来电询问保单现金价值"


def test_an_unknown_caller_is_logged_without_a_customer(api):
    resp = _call(api, None, category="product", summary="咨询少儿重疾险")
    assert resp.status_code == 201, resp.content
    assert HotlineCall.objects.get().customer is None and not CustomerContact.objects.exists()


def test_a_complaint_is_filed_from_the_call(api):
    customer = customer_make()
    resp = _call(api, customer, category="complaint", handoff="complaint", complaint_subject="理赔款迟迟未到账", complaint_category="claims", complaint_description="材料上月已交齐")
    assert resp.status_code == 201, resp.content
    complaint = Complaint.objects.get()
    assert complaint.channel == "hotline" and complaint.customer_id == customer.pk and complaint.complainant_phone == customer.phone
    assert HotlineCall.objects.get().complaint_id == complaint.pk
    assert CustomerContact.objects.get(customer=customer).kind == "complaint"


def test_a_refused_complaint_leaves_nothing(api):
    customer = customer_make()
    resp = _call(api, customer, handoff="complaint", complaint_subject="", complaint_category="nope")
    assert resp.status_code == 400
    assert {"complaint_subject", "complaint_category"} <= set(resp.json())
    assert not HotlineCall.objects.exists() and not Complaint.objects.exists() and not CustomerContact.objects.exists()


def test_a_change_request_goes_through_the_amendment_process(api):
    customer = customer_make()
    resp = _call(api, customer, category="change", handoff="amendment", new_address="深圳市南山区科技园 9 号", summary="客户来电变更地址")
    assert resp.status_code == 201, resp.content
    amendment = CustomerAmendment.objects.get()
    assert amendment.customer_id == customer.pk and amendment.process_instance_id is not None
    assert HotlineCall.objects.get().amendment_id == amendment.pk
    bad = _call(api, customer, handoff="amendment", new_phone="12")
    assert bad.status_code == 400 and "new_phone" in bad.json()
    assert CustomerAmendment.objects.count() == 1 and HotlineCall.objects.count() == 1


def test_a_claim_report_is_handed_to_the_claims_system(api, settings):
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = ["127.0.0.1:9"]  # callbacks are checked at registration
    customer = customer_make()
    policy = policy_make(customer, effective=date(2020, 1, 1))
    no_receiver = _call(api, customer, handoff="claim_report", policy_number=policy.policy_number, occurred_on=(timezone.localdate() - timedelta(days=1)).isoformat())
    assert no_receiver.status_code == 201, no_receiver.content
    assert no_receiver.json()["claim_report_status"] == "no_receiver"
    api_client_create(actor=None, name="理赔系统", org_unit_code="GD", scopes=["claims"], callback_url="http://127.0.0.1:9/claims")
    sent = _call(api, customer, handoff="claim_report", policy_number=policy.policy_number, occurred_on=timezone.localdate().isoformat())
    assert sent.json()["claim_report_status"] == "sent"
    event = CallbackEvent.objects.get(event_type="claim_report.handed_off")
    assert event.payload["policy_number"] == policy.policy_number
    other = policy_make(customer_make())
    refused = _call(api, customer, handoff="claim_report", policy_number=other.policy_number, occurred_on="2026-01-01")
    assert refused.status_code == 400 and "policy_number" in refused.json()
    assert HotlineCall.objects.count() == 2


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"caller_phone": "abc"}, "caller_phone"),
        ({"category": "gossip"}, "category"),
        ({"summary": ""}, "summary"),
        ({"summary": "话" * 2001}, "summary"),
        ({"summary": "来电\x00"}, "summary"),
        ({"outcome": "果" * 501}, "outcome"),
        ({"handoff": "teleport"}, "handoff"),
        ({"handoff": "amendment", "customer_id": None}, "handoff"),
        ({"handoff": "claim_report", "occurred_on": "2099-01-01", "policy_number": "X"}, "occurred_on"),
    ],
)
def test_bad_input_is_a_400_at_the_field_and_writes_nothing(api, extra, field):
    customer = customer_make()
    resp = _call(api, customer, **extra)
    assert resp.status_code == 400, resp.content
    assert field in resp.json(), resp.json()
    assert not HotlineCall.objects.exists() and not CustomerContact.objects.exists()


def test_only_agents_use_the_desk_and_only_in_scope(api):
    customer = customer_make()
    assert _call(api, customer, as_user="reviewer.sz").status_code == 403
    assert api("reviewer.sz").get(f"/api/hotline/customers/{customer.pk}/").status_code == 403
    zj = customer_make("ZJ-HZ")
    assert _call(api, zj).status_code == 404
    assert api("hotline.gd").get(f"/api/hotline/customers/{zj.pk}/").status_code == 404
    assert not HotlineCall.objects.exists()


def test_an_unknown_caller_becomes_a_prospect(api):
    resp = _call(api, None, category="product", summary="咨询少儿重疾险，想了解保费", handoff="prospect", prospect_name="陈先生", prospect_interest="少儿重疾险")
    assert resp.status_code == 201, resp.content
    call = HotlineCall.objects.get()
    prospect = call.prospect
    assert prospect is not None and prospect.source == "hotline_call" and prospect.name == "陈先生"
    assert prospect.phone == call.caller_phone and prospect.org_unit.code == "GD"
    assert resp.json()["prospect_id"] == prospect.pk


def test_a_prospect_needs_a_name_and_is_only_for_unknown_callers(api):
    refused = _call(api, None, handoff="prospect", prospect_name="")
    assert refused.status_code == 400 and "prospect_name" in refused.json()
    known = _call(api, customer_make(), handoff="prospect", prospect_name="王")
    assert known.status_code == 400 and "handoff" in known.json()
    assert not HotlineCall.objects.exists()

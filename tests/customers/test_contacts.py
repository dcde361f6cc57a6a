"""联系记录 and the fuller customer file (issue 20 item 2; seed 002 客户档案, seed 004 呼叫中心).

Given a customer at 深圳 (GD-SZ), users of the branch record contacts through the API; the list
is newest first and paginated, bad input is a 400 per field with nothing written, a customer out
of scope is the 404 of a missing id, and each record is audited. The static profile fields are
personal data masked for a reviewer and shown to the officer; the timeline merges contacts,
changes and status events, newest first, bounded.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.customers.contacts import customer_contact_record
from backend.customers.models import ContactKind, Customer, CustomerContact, CustomerFieldChange
from backend.customers.profile import customer_profile_update
from backend.customers.timeline import customer_timeline
from tests.customers.factories import customer_make

pytestmark = pytest.mark.django_db

FUTURE = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")


def _contact(**over):
    return {"kind": "call", "channel": "hotline", "summary": "客户来电询问续期缴费", "outcome": "已解答", **over}


def _field_errors(resp) -> dict:
    return {k: v for k, v in resp.json().items() if k not in ("code", "detail")}


def _url(customer_id, what="contacts"):
    return f"/api/customers/{customer_id}/{what}/"


# ---- record and list ---------------------------------------------------------------------------


def test_officer_records_a_call_and_lists_it_newest_first(api, users):
    customer = customer_make()
    client = api("officer.sz")
    first = client.post(_url(customer.pk), _contact(), format="json")
    assert first.status_code == 201, first.content
    second = client.post(_url(customer.pk), _contact(kind="visit", channel="visit", summary="上门拜访,了解家庭保障", next_step_at=FUTURE), format="json")
    assert second.status_code == 201, second.content
    body = second.json()
    assert body["kind"] == "visit" and body["kind_label"] == "拜访" and body["channel_label"] == "上门"
    assert body["recorded_by"] == "officer.sz" and body["next_step_at"].startswith(FUTURE)

    listing = client.get(_url(customer.pk))
    assert listing.status_code == 200
    page = listing.json()
    assert page["count"] == 2
    assert [r["id"] for r in page["results"]] == [body["id"], first.json()["id"]]
    contact = CustomerContact.objects.get(pk=body["id"])
    assert contact.org_unit == customer.org_unit and contact.recorded_by == users["officer.sz"]


def test_the_list_is_paginated(api, users):
    customer = customer_make()
    CustomerContact.objects.bulk_create(
        CustomerContact(customer=customer, kind="call", channel="phone", summary=f"#{i}", recorded_by=users["officer.sz"], org_unit=customer.org_unit)
        for i in range(51)
    )
    first = api("officer.sz").get(_url(customer.pk)).json()
    assert first["count"] == 51 and len(first["results"]) == 50 and first["next"]
    second = api("officer.sz").get(_url(customer.pk) + "?page=2").json()
    assert [r["summary"] for r in second["results"]] == ["#0"]


@pytest.mark.parametrize("username", ["collector.sz", "reviewer.sz", "handler.sz", "officer.gd"])
def test_every_service_role_in_scope_may_record(api, username):
    customer = customer_make()
    assert api(username).post(_url(customer.pk), _contact(), format="json").status_code == 201


def test_compliance_reads_but_does_not_record(api):
    customer = customer_make()
    resp = api("compliance.gd").post(_url(customer.pk), _contact(), format="json")
    assert resp.status_code == 403
    assert resp.json()["code"] == "contact_not_allowed"
    assert api("compliance.gd").get(_url(customer.pk)).status_code == 200
    assert not CustomerContact.objects.exists()


def test_out_of_scope_is_the_404_of_a_missing_id(api):
    customer = customer_make()
    outsider = api("officer.gz")
    foreign = outsider.post(_url(customer.pk), _contact(), format="json")
    missing = outsider.post(_url(987654321), _contact(), format="json")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert outsider.get(_url(customer.pk)).status_code == 404
    assert outsider.get(_url(customer.pk, "timeline")).status_code == 404
    assert not CustomerContact.objects.exists()


def test_recording_is_audited_without_the_summary(api, users):
    customer = customer_make()
    body = api("reviewer.sz").post(_url(customer.pk), _contact(summary="客户说新号码 13912345678"), format="json").json()
    [event] = AuditEvent.objects.filter(action="customer.contact_recorded")
    assert event.actor == users["reviewer.sz"] and event.object_id == str(customer.pk)
    assert event.data == {"contact_id": body["id"], "kind": "call", "channel": "hotline"}


# ---- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "over, field",
    [
        ({"kind": ""}, "kind"),
        ({"kind": "gossip"}, "kind"),
        ({"channel": "pigeon"}, "channel"),
        ({"channel": ""}, "channel"),
        ({"summary": "   "}, "summary"),
        ({"summary": "长" * 2001}, "summary"),
        ({"summary": "a\x00b"}, "summary"),
        ({"summary": ["list"]}, "summary"),
        ({"outcome": "果" * 501}, "outcome"),
        ({"next_step_at": "next tuesday"}, "next_step_at"),
        ({"next_step_at": "2026-02-30T10:00"}, "next_step_at"),
        ({"next_step_at": "2020-01-01T10:00"}, "next_step_at"),
        ({"next_step_at": "2962-01-01T10:00"}, "next_step_at"),
    ],
)
def test_bad_input_is_a_400_on_the_field_and_writes_nothing(api, over, field):
    customer = customer_make()
    resp = api("officer.sz").post(_url(customer.pk), _contact(**over), format="json")
    assert resp.status_code == 400, resp.content
    errors = _field_errors(resp)
    assert set(errors) == {field} and errors[field][0]
    assert not CustomerContact.objects.exists()
    assert not AuditEvent.objects.filter(action="customer.contact_recorded").exists()


def test_all_problems_at_once(api):
    customer = customer_make()
    resp = api("officer.sz").post(_url(customer.pk), {"kind": "x", "channel": "y"}, format="json")
    assert resp.status_code == 400
    assert set(_field_errors(resp)) == {"kind", "channel", "summary"}


def test_a_limit_value_is_accepted(users):
    customer = customer_make()
    contact = customer_contact_record(
        actor=users["officer.sz"], customer_id=customer.pk, data=_contact(summary="长" * 2000, outcome="果" * 500)
    )
    assert len(contact.summary) == 2000 and len(contact.outcome) == 500


# ---- the static part and the privacy policy ----------------------------------------------------


def test_profile_fields_are_masked_for_a_reviewer_and_shown_to_the_officer(api, users):
    customer = customer_make(employer="深圳市福田区示例科技有限公司", family_members="配偶张丽,女儿张小雨", income_band="30_100",
                             occupation="工程师", preferences="工作日晚上电话")
    officer = api("officer.sz").get(f"/api/customers/{customer.pk}/").json()
    assert officer["employer"] == "深圳市福田区示例科技有限公司"
    assert officer["family_members"] == "配偶张丽,女儿张小雨"
    assert officer["income_band"] == "30_100" and officer["income_band_label"] == "30–100万元"
    reviewer = api("reviewer.sz").get(f"/api/customers/{customer.pk}/").json()
    assert reviewer["employer"] == "深" + "*" * 13
    assert reviewer["family_members"] == "*" * 10
    assert set(reviewer["income_band"]) == {"*"} and set(reviewer["income_band_label"]) == {"*"}
    assert reviewer["occupation"] == "工程师" and reviewer["preferences"] == "工作日晚上电话"  # not personal
    page = api("reviewer.sz").get(f"/api/customers/{customer.pk}/linkage/").content.decode()
    assert "示例科技" not in page and "张小雨" not in page and "30–100" not in page


def test_profile_update_keeps_history_and_audits(api, users):
    customer = customer_make()
    resp = api("collector.sz").post(
        _url(customer.pk, "profile"), {"employer": "平安示例有限公司", "income_band": "10_30", "reason": "拜访时客户告知"}, format="json"
    )
    assert resp.status_code == 200, resp.content
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.employer, customer.income_band) == ("平安示例有限公司", "10_30")
    rows = {r.field: r for r in CustomerFieldChange.objects.filter(customer=customer)}
    assert set(rows) == {"employer", "income_band"}
    assert rows["employer"].new_value == "平安示例有限公司" and rows["employer"].reason == "拜访时客户告知"
    [event] = AuditEvent.objects.filter(action="customer.profile_updated")
    assert event.data == {"fields": ["employer", "income_band"]}
    # The reviewer reads the history masked.
    history = api("reviewer.sz").get(f"/api/customers/{customer.pk}/history/").json()["results"]
    assert all(h["masked"] for h in history) and "平安示例" not in str(history)


@pytest.mark.parametrize(
    "data, field",
    [({"income_band": "rich"}, "income_band"), ({"employer": "厂" * 201}, "employer"), ({"family_members": 5}, "family_members")],
)
def test_profile_bad_input(api, data, field):
    customer = customer_make()
    resp = api("officer.sz").post(_url(customer.pk, "profile"), data, format="json")
    assert resp.status_code == 400 and set(_field_errors(resp)) == {field}
    assert not CustomerFieldChange.objects.exists()


def test_profile_update_roles_and_scope(api):
    customer = customer_make()
    assert api("reviewer.sz").post(_url(customer.pk, "profile"), {"occupation": "教师"}, format="json").status_code == 403
    assert api("officer.gz").post(_url(customer.pk, "profile"), {"occupation": "教师"}, format="json").status_code == 404
    assert api("officer.sz").post(_url(customer.pk, "profile"), {}, format="json").status_code == 400  # nothing to change
    assert Customer.objects.get(pk=customer.pk).occupation == ""


# ---- the timeline --------------------------------------------------------------------------------


def test_timeline_merges_newest_first_and_masks(api, users):
    customer = customer_make()
    officer = users["officer.sz"]
    customer_contact_record(actor=officer, customer_id=customer.pk, data=_contact(summary="第一次来电"))
    customer_profile_update(actor=officer, customer_id=customer.pk, data={"employer": "深圳示例银行股份有限公司"})
    customer_contact_record(actor=officer, customer_id=customer.pk, data=_contact(kind="visit", channel="visit", summary="上门拜访"))
    body = api("reviewer.sz").get(_url(customer.pk, "timeline")).json()
    entries = body["results"]
    assert body["limit"] == 100
    assert [e["type"] for e in entries] == ["contact", "change", "contact"]
    assert entries[0]["detail"] == "上门拜访" and entries[2]["detail"] == "第一次来电"
    assert entries[1]["masked"] is True and "示例银行" not in entries[1]["detail"]
    ats = [e["at"] for e in entries]
    assert ats == sorted(ats, reverse=True)
    full = api("officer.sz").get(_url(customer.pk, "timeline")).json()["results"]
    assert "深圳示例银行股份有限公司" in full[1]["detail"]


def test_timeline_is_bounded(users):
    customer = customer_make()
    officer = users["officer.sz"]
    CustomerContact.objects.bulk_create(
        CustomerContact(customer=customer, kind=ContactKind.CALL, channel="phone", summary=f"#{i}", recorded_by=officer, org_unit=customer.org_unit)
        for i in range(105)
    )
    entries = customer_timeline(user=officer, customer=customer)
    assert len(entries) == 100
    assert entries[0]["id"] == CustomerContact.objects.order_by("-id").first().pk
    assert len(customer_timeline(user=officer, customer=customer, limit=5)) == 5

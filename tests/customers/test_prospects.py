"""准客户 (issue 20 item 6; seed 003 §1.3 第三方信息采集, §1.4 其他潜在客户信息收集).

Prospects are recorded at 深圳 (GD-SZ) through the API and the service the hotline desk calls:
third-party and event details need the person's consent; the dedupe marks a prospect whose phone
or id number a customer (or open prospect) in the recorder's scope holds, and answers a recorder
outside the match's scope exactly as if there were none; a conversion runs the opening's checks and
credits the prospect's collector; the daily job expires and later blanks unconverted prospects.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.customers.models import AccountOpening, Customer, Prospect, RevealEvent
from backend.customers.prospects import prospect_record, prospects_expire
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from tests.customers.factories import customer_make
from tests.factories import resident_id, scan_upload

pytestmark = pytest.mark.django_db

URL = "/api/prospects/"
VOLATILE = {"id", "created_at", "expires_at", "consent_at"}


def _p(**over):
    data = {
        "name": "赵准客", "phone": "13700001111", "source": "hotline_call", "interest": "重疾险",
        "notes": "下午来电咨询", "source_detail": "",
    }
    data.update(over)
    return data


def _errors(resp) -> dict:
    return {k: v for k, v in resp.json().items() if k not in ("code", "detail")}


def _stable(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in VOLATILE}


# ---- record ------------------------------------------------------------------------------------


def test_a_collector_records_a_prospect_masked_in_the_list_and_whole_for_the_officer(api, users):
    resp = api("collector.sz").post(URL, _p(id_type="resident_id", id_number=resident_id(serial=501)), format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "open" and body["source_label"] == "来电" and body["collected_by"] == "collector.sz"
    assert body["phone"] == "137****1111" and body["masked"] is True  # the collector is not a full-view role
    prospect = Prospect.objects.get(pk=body["id"])
    assert prospect.phone == "+8613700001111" and prospect.org_unit.code == "GD-SZ"
    assert prospect.expires_at - prospect.created_at >= timedelta(days=179)
    # Audit without the data; the dedupe counted as a look-up per identifier.
    event = AuditEvent.objects.get(action="prospect.recorded", object_id=str(prospect.pk))
    assert "13700001111" not in str(event.data) and "赵准客" not in str(event.data)
    assert RevealEvent.objects.filter(kind="lookup", user=users["collector.sz"]).count() == 2

    listing = api("officer.sz").get(URL).json()
    [row] = listing["results"]
    assert row["phone"] == "137****1111" and row["id_number"] != prospect.id_number and "notes" not in row
    detail = api("officer.sz").get(f"{URL}{prospect.pk}/").json()
    assert detail["phone"] == "+8613700001111" and detail["id_number"] == prospect.id_number
    assert AuditEvent.objects.filter(action="customer.viewed_full", object_type="customers.prospect").count() == 1
    # Other prospect roles read in scope, masked.
    for username in ("manager.sz", "officer.gd"):
        got = api(username).get(f"{URL}{prospect.pk}/")
        assert got.status_code == 200, username
        assert got.json()["phone"] == ("137****1111" if username == "manager.sz" else "+8613700001111")


def test_the_hotline_desk_records_through_the_service(users):
    prospect = prospect_record(actor=users["cs.ho"], data={"name": "来电人", "phone": "0755-83211234", "source": "hotline_call"})
    assert prospect.status == "open" and prospect.source == "hotline_call" and prospect.consent is False
    assert prospect.org_unit.code == "HO" and prospect.phone == "+8675583211234"


def test_third_party_and_event_need_consent(api):
    client = api("collector.sz")
    for source in ("third_party", "event"):
        resp = client.post(URL, _p(source=source, source_detail="某车商", consent=False), format="json")
        assert resp.status_code == 400 and "consent" in _errors(resp), source
    assert not Prospect.objects.exists()
    resp = client.post(URL, _p(source="third_party", source_detail="某车商", consent=True), format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["consent"] is True and resp.json()["consent_at"]
    # Other sources do not ask for it.
    assert client.post(URL, _p(source="referral", phone="13700002222"), format="json").status_code == 201


@pytest.mark.parametrize(
    "over, field",
    [
        ({"name": ""}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "张" * 101}, "name"),
        ({"phone": ""}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "1" * 40}, "phone"),
        ({"source": ""}, "source"),
        ({"source": "spam"}, "source"),
        ({"name": "赵\x00准客"}, "name"),
        ({"notes": "备注\x07"}, "notes"),
        ({"notes": "字" * 1001}, "notes"),
        ({"interest": "字" * 201}, "interest"),
        ({"id_type": "resident_id", "id_number": "440305198506150000"}, "id_number"),
        ({"id_type": "", "id_number": resident_id(serial=7)}, "id_type"),
        ({"consent": "maybe"}, "consent"),
        ({"name": 12}, "name"),
        ({"source": "third_party", "consent": True, "source_detail": ""}, "source_detail"),
    ],
)
def test_bad_input_is_a_400_at_the_field_and_writes_nothing(api, over, field):
    client = api("collector.sz")  # signing in is audited: count after it
    before = AuditEvent.objects.count()
    resp = client.post(URL, _p(**over), format="json")
    assert resp.status_code == 400, resp.content
    assert field in _errors(resp)
    assert not Prospect.objects.exists() and not RevealEvent.objects.exists()
    assert AuditEvent.objects.count() == before


def test_roles_without_prospects_are_refused(api):
    for username in ("reviewer.sz", "compliance.gd", "handler.sz"):
        assert api(username).get(URL).status_code == 403
        assert api(username).post(URL, _p(), format="json").status_code == 403
    assert not Prospect.objects.exists()


def test_out_of_scope_is_the_404_of_a_missing_id(api):
    made = api("collector.sz").post(URL, _p(), format="json").json()
    for username in ("collector.gz", "officer.gz"):
        client = api(username)
        assert client.get(f"{URL}{made['id']}/").status_code == 404
        assert client.get(f"{URL}987654/").status_code == 404
        assert client.post(f"{URL}{made['id']}/convert/", {}, format="json").status_code == 404
        assert client.get(URL).json()["count"] == 0


def test_list_filters_and_identifiers_stay_out_of_the_url(api):
    client = api("collector.sz")
    client.post(URL, _p(name="钱一"), format="json")
    client.post(URL, _p(name="孙二", phone="13700003333", source="walk_in"), format="json")
    assert [r["name"] for r in client.get(URL, {"q": "孙"}).json()["results"]] == ["孙二"]
    assert [r["name"] for r in client.get(URL, {"source": "walk_in"}).json()["results"]] == ["孙二"]
    assert client.get(URL, {"status": "converted"}).json()["count"] == 0
    assert client.get(URL, {"q": "13700003333"}).status_code == 400
    assert client.get(URL, {"q": "a\x00"}).status_code == 400


# ---- dedupe ------------------------------------------------------------------------------------


def test_dedupe_in_scope_marks_duplicate_and_links(api):
    customer = customer_make("GD-SZ", phone="+8613700004444")
    resp = api("collector.sz").post(URL, _p(phone="13700004444"), format="json")
    body = resp.json()
    assert resp.status_code == 201 and body["status"] == "duplicate" and body["customer_id"] == customer.pk
    assert body["match"]["type"] == "customer" and body["match"]["id"] == customer.pk
    # A second prospect with the id number of the first open one is a duplicate of it.
    number = resident_id(serial=321)
    first = api("collector.sz").post(URL, _p(phone="13700005555", id_type="resident_id", id_number=number), format="json").json()
    assert first["status"] == "open"
    second = api("manager.sz").post(URL, _p(phone="13700006666", id_type="resident_id", id_number=number), format="json").json()
    assert second["status"] == "duplicate" and second["duplicate_of"] == first["id"] and second["customer_id"] is None


def test_dedupe_out_of_scope_answers_as_if_there_were_no_match(api):
    customer_make("GD-GZ", phone="+8613700007777")  # a 广州 customer: outside 深圳's scope
    matched = api("collector.sz").post(URL, _p(phone="13700007777"), format="json")
    Prospect.objects.all().delete()
    AuditEvent.objects.filter(action__startswith="prospect.").delete()
    unmatched = api("collector.sz").post(URL, _p(phone="13700008888"), format="json")
    assert matched.status_code == unmatched.status_code == 201
    a, b = _stable(matched.json()), _stable(unmatched.json())
    assert a.pop("phone") == "137****7777" and b.pop("phone") == "137****8888"
    assert a == b and a["status"] == "open" and a["match"] is None and a["customer_id"] is None
    # The detail and the list say no more.
    again = api("collector.sz").post(URL, _p(phone="13700007777"), format="json").json()
    detail = api("collector.sz").get(f"{URL}{again['id']}/").json()
    assert detail["status"] == "open" and detail["match"] is None
    assert RevealEvent.objects.filter(kind="lookup").order_by("-id").first().result_count == 0
    # The match is recorded: on the row and in an audit event filed under the match's unit, and
    # an officer over both (广东省) sees it.
    row = Prospect.objects.get(pk=again["id"])
    assert row.matched_customer is not None and row.customer_id is None
    event = AuditEvent.objects.get(action="prospect.matched", object_id=str(row.pk))
    assert event.org_unit.code == "GD-GZ" and event.data["keys"] == ["phone"]
    seen = api("officer.gd").get(f"{URL}{row.pk}/").json()
    assert seen["match"]["type"] == "customer" and seen["match"]["id"] == row.matched_customer_id


@override_settings(LOOKUP_LIMIT_PER_HOUR=3)
def test_recording_counts_against_the_lookup_limit(api):
    client = api("collector.sz")
    for i in range(3):
        assert client.post(URL, _p(phone=f"1370000{i:04d}"), format="json").status_code == 201
    resp = client.post(URL, _p(phone="13700009999"), format="json")
    assert resp.status_code == 429 and resp["Retry-After"]
    assert Prospect.objects.count() == 3


# ---- convert -----------------------------------------------------------------------------------


def _convert(client, prospect_id, **over):
    data = {"info_level": "advanced", "scan": scan_upload(), "address": "深圳市南山区科技园 2 号", "id_valid_until": "long_term", **over}
    return client.post(f"{URL}{prospect_id}/convert/", data, format="multipart")


def test_the_officer_converts_and_the_collector_keeps_the_credit(api, users):
    made = api("collector.sz").post(URL, _p(id_type="resident_id", id_number=resident_id(birth=date(1979, 3, 3), serial=11)), format="json").json()
    resp = _convert(api("officer.sz"), made["id"])
    assert resp.status_code == 201, resp.content
    opening = AccountOpening.objects.select_related("customer").get(pk=resp.json()["id"])
    assert opening.collector.username == "collector.sz" and opening.opened_by.username == "officer.sz"
    assert opening.customer.collected_by.username == "collector.sz"
    assert opening.customer.name == "赵准客" and opening.customer.phone == "+8613700001111"
    assert opening.org_unit.code == "GD-SZ" and opening.checks["A"]
    prospect = Prospect.objects.get(pk=made["id"])
    assert prospect.status == "converted" and prospect.customer_id == opening.customer_id and prospect.opening_id == opening.pk
    detail = api("collector.sz").get(f"{URL}{made['id']}/").json()
    assert detail["status"] == "converted" and detail["opening_id"] == opening.pk and detail["may_convert"] is False
    # Converting again is a conflict.
    assert _convert(api("officer.sz"), made["id"]).status_code == 409


def test_a_collectors_conversion_waits_for_the_officer(api):
    made = api("collector.sz").post(URL, _p(), format="json").json()
    resp = _convert(api("collector.sz"), made["id"], id_type="resident_id", id_number=resident_id(serial=12))
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["collector"] == "collector.sz" and body["opened_by"] is None  # the officer's step


def test_conversion_runs_the_opening_checks_and_a_refusal_changes_nothing(api):
    made = api("collector.sz").post(URL, _p(), format="json").json()
    before = (Customer.objects.count(), AccountOpening.objects.count())
    missing = api("officer.sz").post(f"{URL}{made['id']}/convert/", {"info_level": "advanced"}, format="json")
    assert missing.status_code == 400
    errors = _errors(missing)
    assert {"scan", "id_number"} <= set(errors) or {"scan", "id_type"} <= set(errors), errors
    bad = _convert(api("officer.sz"), made["id"], id_type="resident_id", id_number="440305198506150000")
    assert bad.status_code == 400 and "id_number" in _errors(bad)
    # Check A: the id of an existing customer is the opening's 409.
    held = customer_make("GD-SZ")
    dup = _convert(api("officer.sz"), made["id"], id_type="resident_id", id_number=held.id_number)
    assert dup.status_code == 409
    assert (Customer.objects.count(), AccountOpening.objects.count()) == (before[0] + 1, before[1])
    assert Prospect.objects.get(pk=made["id"]).status == "open"
    # Roles that do not open accounts do not convert.
    assert _convert(api("manager.sz"), made["id"], id_type="resident_id", id_number=resident_id(serial=13)).status_code == 403


def test_a_duplicate_is_not_converted(api):
    customer_make("GD-SZ", phone="+8613700004444")
    made = api("collector.sz").post(URL, _p(phone="13700004444"), format="json").json()
    assert made["status"] == "duplicate" and made["may_convert"] is False
    assert _convert(api("officer.sz"), made["id"], id_type="resident_id", id_number=resident_id(serial=14)).status_code == 409


# ---- expiry and purge --------------------------------------------------------------------------


def test_the_job_expires_then_purges_and_keeps_the_fact(api, users):
    made = api("collector.sz").post(URL, _p(id_type="resident_id", id_number=resident_id(serial=15)), format="json").json()
    api("collector.sz").post(URL, _p(phone="13700001212"), format="json")
    now = timezone.now()
    assert prospects_expire(now=now + timedelta(days=179)) == {"expired": 0, "purged": 0}
    assert prospects_expire(now=now + timedelta(days=181)) == {"expired": 2, "purged": 0}
    p = Prospect.objects.get(pk=made["id"])
    assert p.status == "expired" and p.name == "赵准客" and p.purge_after > p.expired_at
    assert prospects_expire(now=now + timedelta(days=200)) == {"expired": 0, "purged": 0}
    assert prospects_expire(now=now + timedelta(days=212)) == {"expired": 0, "purged": 2}
    p.refresh_from_db()
    assert p.purged_at and (p.name, p.phone, p.id_number, p.notes, p.interest) == ("", "", "", "", "")
    assert p.source == "hotline_call" and p.collected_by.username == "collector.sz"
    events = AuditEvent.objects.filter(object_type="customers.prospect", object_id=str(p.pk), action__in=["prospect.expired", "prospect.purged"])
    assert events.count() == 2 and "赵准客" not in str(list(events.values_list("data", flat=True)))
    assert prospects_expire(now=now + timedelta(days=400)) == {"expired": 0, "purged": 0}  # idempotent
    detail = api("officer.sz").get(f"{URL}{p.pk}/").json()
    assert detail["purged"] is True and detail["name"] == "" and detail["phone"] == ""


def test_a_converted_prospect_does_not_expire(api):
    made = api("collector.sz").post(URL, _p(id_type="resident_id", id_number=resident_id(serial=16)), format="json").json()
    assert _convert(api("officer.sz"), made["id"]).status_code == 201
    assert prospects_expire(now=timezone.now() + timedelta(days=400)) == {"expired": 0, "purged": 0}
    assert Prospect.objects.get(pk=made["id"]).name == "赵准客"


def test_the_job_is_registered_and_scheduled():
    from django.conf import settings

    from backend.customers import jobs

    assert jobs.prospects_expire.name == "customers.prospects_expire"
    assert any(e["task"] == "customers.prospects_expire" for e in settings.CELERY_BEAT_SCHEDULE.values())


def test_expiry_days_are_settings(users, settings):
    settings.CUSTFLOW = {**settings.CUSTFLOW, "PROSPECTS": {"EXPIRE_DAYS": 10, "PURGE_DAYS": 2}}
    prospect = prospect_record(actor=users["collector.sz"], data=_p())
    assert timedelta(days=9) < prospect.expires_at - timezone.now() <= timedelta(days=10)
    later = timezone.now() + timedelta(days=11)
    assert prospects_expire(now=later)["expired"] == 1
    assert prospects_expire(now=later + timedelta(days=3))["purged"] == 1


def test_a_prospect_of_another_province_officer_role(api, users):
    # An officer of the owning province reads; an officer of another province does not.
    zj = OrgUnit.objects.get(code="ZJ")
    role_assign(user=user_ensure(username="officer.zj2", password="demo-pass-2026"), role=Role.OFFICER, org_unit=zj)
    made = api("collector.sz").post(URL, _p(), format="json").json()
    assert api("officer.gd").get(f"{URL}{made['id']}/").status_code == 200
    assert api("officer.zj2").get(f"{URL}{made['id']}/").status_code == 404

"""Issue 16 item 5: identity documents expire.

`id_valid_until` (证件有效期) at opening (API, web form, upstream) and in identity amendments:
"YYYY-MM-DD" or 长期 ("long_term", "长期", "长期有效"); required for a resident id at the advanced
level, optional otherwise; not a date, before the birth date the resident id carries, or in
the past is 400 on that field and creates nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from backend.customers.models import AccountOpening, Customer, CustomerAmendment
from tests.conftest import inbox
from tests.factories import resident_id

pytestmark = pytest.mark.django_db

BIRTH = date(1985, 6, 15)  # the birth date of tests.factories.resident_id()


def _nothing_created():
    assert not Customer.objects.exists()
    assert not AccountOpening.objects.exists()


def _field_error(resp, field="id_valid_until") -> str:
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert field in body, body
    return body[field][0]


@pytest.mark.parametrize(
    ("given", "stored", "long_term", "answered"),
    [
        ("2035-01-31", date(2035, 1, 31), False, "2035-01-31"),
        ("长期", None, True, "long_term"),
        ("long_term", None, True, "long_term"),
        ("LONG_TERM", None, True, "long_term"),
        ("长期有效", None, True, "long_term"),
    ],
)
def test_opening_stores_the_validity_and_answers_it(api, submit, given, stored, long_term, answered):
    resp = submit("advanced", id_valid_until=given)
    assert resp.status_code == 201, resp.content
    assert resp.json()["id_valid_until"] == answered
    customer = Customer.objects.get(pk=resp.json()["customer_id"])
    assert (customer.id_valid_until, customer.id_valid_long_term) == (stored, long_term)
    detail = api("officer.sz").get(f"/api/customers/{customer.pk}/").json()
    assert detail["id_valid_until"] == answered
    assert (
        api("reviewer.sz").get(f"/api/account-openings/{resp.json()['id']}/").json()["id_valid_until"]
        == answered
    )


def test_today_is_still_valid(submit):
    today = timezone.localdate().isoformat()
    resp = submit("advanced", id_valid_until=today)
    assert resp.status_code == 201, resp.content
    assert resp.json()["id_valid_until"] == today


def test_required_for_a_resident_id_at_the_advanced_level(submit):
    msg = _field_error(submit("advanced", id_valid_until=""))
    assert "证件有效期" in msg
    _nothing_created()


def test_optional_at_the_primary_level_and_for_other_documents(submit):
    primary = submit("primary")
    assert primary.status_code == 201, primary.content
    assert primary.json()["id_valid_until"] is None
    passport = submit("advanced", id_type="passport", id_number="E12345678", id_valid_until="")
    assert passport.status_code == 201, passport.content
    assert Customer.objects.get(pk=passport.json()["customer_id"]).id_valid_until is None


@pytest.mark.parametrize(
    "bad", ["2035-13-01", "2035/01/31", "明年", "20350131", "2035-02-30", "tomorrow", "长"]
)
def test_a_date_that_is_not_a_date_is_400(submit, bad):
    msg = _field_error(submit("advanced", id_valid_until=bad))
    assert "YYYY-MM-DD" in msg
    _nothing_created()


def test_a_date_in_the_past_is_400_even_at_the_primary_level(submit):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    for level in ("advanced", "primary"):
        msg = _field_error(submit(level, id_valid_until=yesterday))
        assert "已过期" in msg and yesterday in msg
    _nothing_created()


def test_an_expiry_before_the_birth_date_is_400(submit):
    msg = _field_error(submit("advanced", id_valid_until=(BIRTH - timedelta(days=1)).isoformat()))
    assert "出生日期" in msg and BIRTH.isoformat() in msg
    _nothing_created()


def test_every_field_error_is_reported_together(submit):
    resp = submit("advanced", id_valid_until="不知道", phone="")
    assert resp.status_code == 400
    assert {"id_valid_until", "phone"} <= set(resp.json())
    _nothing_created()


# ---- web form --------------------------------------------------------------------------------


def _web_form(**overrides) -> dict:
    from tests.factories import scan_upload

    data = {
        "info_level": "advanced",
        "name": "陈有效",
        "id_type": "resident_id",
        "id_number": resident_id(),
        "phone": "13812340000",
        "address": "深圳市福田区深南大道 2 号",
        "email": "",
        "id_valid_until": "",
        "scan": scan_upload(),
    }
    data.update(overrides)
    return data


def test_web_form_long_term_box_and_bad_date_shows_the_form_again(client, users):
    client.force_login(users["collector.sz"])
    resp = client.post("/openings/new/", _web_form(id_valid_until="2000-01-01"))
    assert resp.status_code == 400
    page = resp.content.decode()
    assert "证件已过期" in page and 'name="id_valid_until"' in page
    _nothing_created()
    resp = client.post("/openings/new/", _web_form(id_valid_long_term="1"))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    customer = Customer.objects.get()
    assert customer.id_valid_long_term is True and customer.id_valid_until is None


# ---- identity amendments ---------------------------------------------------------------------


@pytest.fixture
def customer(submit, api):
    body = submit("advanced").json()
    [task] = inbox(api("reviewer.sz"))
    assert (
        api("reviewer.sz")
        .post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json")
        .status_code
        == 200
    )
    return Customer.objects.get(pk=body["customer_id"])


def _amend(api, customer, **data):
    return api("collector.sz").post(f"/api/customers/{customer.pk}/amendments/", data, format="json")


def test_a_renewed_document_is_an_identity_amendment_applied_at_province(api, customer):
    resp = _amend(api, customer, id_valid_until="长期", reason="客户换领长期身份证")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["scope"], body["review_level"]) == ("identity", "province")
    [change] = body["changes"]
    assert (change["field"], change["old"], change["new"]) == (
        "id_valid_until",
        customer.id_valid_until.isoformat(),
        "长期",
    )
    [task] = [t for t in inbox(api("reviewer.gd")) if t["case_id"] == body["id"]]
    resp = api("reviewer.gd").post(
        f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json"
    )
    assert resp.status_code == 200, resp.content
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.id_valid_until, customer.id_valid_long_term) == (None, True)
    assert CustomerAmendment.objects.get(pk=body["id"]).status == "applied"


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("2001-01-01", "已过期"),
        ("下个月", "YYYY-MM-DD"),
        ((BIRTH - timedelta(days=3)).isoformat(), "出生日期"),
    ],
)
def test_a_bad_validity_in_an_amendment_is_400_and_creates_nothing(api, customer, value, needle):
    msg = _field_error(_amend(api, customer, id_valid_until=value, reason="更新证件有效期"))
    assert needle in msg
    assert not CustomerAmendment.objects.exists()


def test_an_amendment_to_a_new_date_is_applied(api, customer):
    new = (timezone.localdate() + timedelta(days=3650)).isoformat()
    body = _amend(api, customer, id_valid_until=new, reason="换领新证").json()
    [task] = [t for t in inbox(api("reviewer.gd")) if t["case_id"] == body["id"]]
    api("reviewer.gd").post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json")
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.id_valid_until.isoformat(), customer.id_valid_long_term) == (new, False)


def test_the_collection_card_prints_the_validity():
    from pdfs.documents import card_context

    def cells(customer):
        return {c["label"]: c["value"] for row in card_context({"customer": customer})["rows"] for c in row}

    assert cells({"name": "王", "id_valid_until": "long_term"})["证件有效期至"] == "长期"
    assert cells({"name": "王", "id_valid_until": "2035-01-31"})["证件有效期至"] == "2035-01-31"
    assert "证件有效期至" not in cells({"name": "某公司", "customer_type": "corporate"})

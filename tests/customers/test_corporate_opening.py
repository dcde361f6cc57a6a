"""法人客户开户: USCC / organisation code, legal representative, checks A–D, review path."""

from __future__ import annotations

import pytest

from backend.customers.models import AccountOpening, Customer
from tests.conftest import inbox, officer_confirmed
from tests.factories import corporate_payload, org_code, resident_id, uscc

pytestmark = pytest.mark.django_db


def open_corporate(api, level="advanced", as_user="collector.sz", confirm_as="officer.sz", **overrides):
    """A collector's corporate opening, confirmed by the officer (issue 16 item 4) unless
    `confirm_as` is None."""
    resp = api(as_user).post("/api/account-openings/", corporate_payload(level, **overrides), format="multipart")
    return officer_confirmed(api, resp, as_user=as_user, confirm_as=confirm_as)


def test_primary_corporate_opening_activates_directly(api):
    resp = open_corporate(api, "primary")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["customer_type"] == "corporate" and body["status"] == "active"
    customer = Customer.objects.get(pk=body["customer_id"])
    assert (customer.customer_type, customer.id_type, customer.id_number) == ("corporate", "uscc", uscc())
    assert customer.activated_at is not None and customer.last_verified_at == customer.activated_at
    assert inbox(api("reviewer.sz")) == []


def test_advanced_corporate_opening_goes_to_city_review_and_approves(api):
    body = open_corporate(api).json()
    assert body["status"] == "pending_review"
    [task] = inbox(api("reviewer.sz"))
    assert task["process"] == "corporate_account_opening" and task["case_id"] == body["id"]
    detail = api("reviewer.sz").get(f"/api/tasks/{task['id']}/").json()
    assert detail["case"]["customer"]["legal_rep_name"] == "李法人"
    assert detail["case"]["customer"]["legal_rep_id_number"] != resident_id(birth=__import__("datetime").date(1975, 2, 3))
    resp = api("reviewer.sz").post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve"}, format="json")
    assert resp.status_code == 200, resp.content
    assert Customer.objects.get(pk=body["customer_id"]).status == "active"


def test_organisation_code_is_accepted_with_hyphen(api):
    code = org_code()
    resp = open_corporate(api, "primary", id_type="org_code", id_number=f"{code[:8]}-{code[8]}")
    assert resp.status_code == 201, resp.content
    assert Customer.objects.get(pk=resp.json()["customer_id"]).id_number == code


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"id_number": uscc()[:-1] + ("1" if uscc()[-1] != "1" else "2")}, "id_number"),  # bad check character
        ({"id_number": "91440300MA5DC0QX"}, "id_number"),  # 16 characters
        ({"id_type": "org_code", "id_number": org_code()[:-1] + ("1" if org_code()[-1] != "1" else "2")}, "id_number"),
        ({"id_type": "resident_id", "id_number": resident_id()}, "id_type"),  # an individual's document
        ({"legal_rep_id_number": "440305198502301234"}, "legal_rep_id_number"),  # 30 February
        ({"legal_rep_name": ""}, "legal_rep_name"),
        ({"contact_person": ""}, "contact_person"),
        ({"phone": "12345"}, "phone"),
        ({"address": ""}, "address"),
        ({"scan": None}, "scan"),
        ({"customer_type": "partnership"}, "customer_type"),
    ],
)
def test_bad_corporate_input_is_a_field_error_and_creates_nothing(api, overrides, field):
    resp = open_corporate(api, **overrides)
    assert resp.status_code == 400, resp.content
    assert field in resp.json(), resp.json()
    assert Customer.objects.count() == 0 and AccountOpening.objects.count() == 0


def test_duplicate_code_is_refused_with_the_existing_customer(api):
    first = open_corporate(api, "primary").json()
    resp = open_corporate(api, "primary", as_user="collector.sz")
    assert resp.status_code == 409
    assert resp.json()["customer_id"] == first["customer_id"]
    assert Customer.objects.count() == 1


def test_shared_phone_is_flagged_for_the_reviewer(api, submit):
    submit("advanced", phone="075512345678", id_number=resident_id(serial=11))
    body = open_corporate(api).json()
    assert "shared_phone" in body["flags"]

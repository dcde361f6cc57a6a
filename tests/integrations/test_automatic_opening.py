"""POST /api/integrations/customers/ and POST …/check: idempotency, failed checks become an
officer's task, existing customers are returned, scope and revocation."""

from __future__ import annotations

import pytest

from backend.customers.models import Customer
from backend.integrations.models import IntegrationRequest
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.factories import resident_id, uscc
from tests.integrations.conftest import open_payload

pytestmark = pytest.mark.django_db

URL = "/api/integrations/customers/"


def post(http, payload, key="k-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return http.post(URL, payload, format="json", **headers)


def test_opening_creates_an_active_primary_customer(make_client):
    client, http, _token = make_client()
    resp = post(http, open_payload())
    assert resp.status_code == 201, resp.content
    body = resp.json()
    customer = Customer.objects.get()
    assert body == {
        "request_id": IntegrationRequest.objects.get().pk,
        "status": "opened",
        "customer_id": customer.pk,
        "customer_status": "active",
        "case_id": None,
        "errors": {},
    }
    assert customer.org_unit.code == "GD-SZ"
    assert customer.info_level == "primary"


def test_same_key_same_body_returns_the_same_response_and_one_customer(make_client):
    _c, http, _t = make_client()
    payload = open_payload()
    first = post(http, payload, key="retry-1")
    second = post(http, payload, key="retry-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Customer.objects.count() == 1
    assert IntegrationRequest.objects.count() == 1


def test_same_key_different_body_is_422_and_changes_nothing(make_client):
    _c, http, _t = make_client()
    assert post(http, open_payload(), key="k").status_code == 201
    resp = post(http, open_payload(name="李别人"), key="k")
    assert resp.status_code == 422
    assert resp.json()["code"] == "idempotency_key_reused"
    assert Customer.objects.count() == 1


def test_missing_key_is_400(make_client):
    _c, http, _t = make_client()
    resp = post(http, open_payload(), key=None)
    assert resp.status_code == 400
    assert "Idempotency-Key" in resp.json()
    assert Customer.objects.count() == 0


def test_existing_customer_is_returned_not_duplicated(make_client):
    _c, http, _t = make_client()
    number = resident_id()
    first = post(http, open_payload(id_number=number), key="a").json()
    resp = post(http, open_payload(id_number=number), key="b")
    assert resp.status_code == 200
    assert resp.json()["status"] == "existing"
    assert resp.json()["customer_id"] == first["customer_id"]
    assert Customer.objects.count() == 1


def test_failed_checks_become_an_officer_task_and_the_client_can_poll(make_client, api):
    _c, http, _t = make_client()
    resp = post(http, open_payload(id_number="440305198506151230", scan=None))
    assert resp.status_code == 202, resp.content
    body = resp.json()
    assert body["status"] == "needs_review"
    assert body["customer_id"] is None
    assert body["case_id"] == body["request_id"]
    assert set(body["errors"]) == {"id_number", "scan"}
    assert Customer.objects.count() == 0
    tasks = inbox(api("officer.sz"))
    assert [(t["process"], t["case_id"], t["org_unit"]) for t in tasks] == [
        ("integration_opening_review", body["case_id"], "GD-SZ")
    ]
    assert inbox(api("officer.gz")) == []
    poll = http.get(f"/api/integrations/requests/{body['request_id']}/")
    assert poll.status_code == 200
    assert poll.json() == body


def test_officer_links_the_request_to_a_customer_opened_by_hand(make_client, api, submit):
    _c, http, _t = make_client()
    number = resident_id()
    body = post(http, open_payload(id_number=number, scan=None)).json()
    task = inbox(api("officer.sz"))[0]
    opened = submit("primary", as_user="officer.sz", id_number=number).json()
    officer = api("officer.sz")
    wrong = officer.post(
        f"/api/tasks/{task['id']}/complete/", {"decision": "link", "customer_id": "999999"}, format="json"
    )
    assert wrong.status_code == 400
    assert "customer_id" in wrong.json()
    done = officer.post(
        f"/api/tasks/{task['id']}/complete/",
        {"decision": "link", "customer_id": str(opened["customer_id"])},
        format="json",
    )
    assert done.status_code == 200, done.content
    poll = http.get(f"/api/integrations/requests/{body['request_id']}/").json()
    assert poll["status"] == "resolved"
    assert poll["customer_id"] == opened["customer_id"]
    assert HumanTask.objects.get(pk=task["id"]).status == "completed"


def test_corporate_opening_by_uscc_and_check_by_uscc(make_client):
    _c, http, _t = make_client()
    code = uscc()
    resp = post(
        http,
        open_payload(customer_type="corporate", name="深圳自动科技有限公司", id_type="uscc", id_number=code),
    )
    assert resp.status_code == 201, resp.content
    check = http.post("/api/integrations/customers/check", {"uscc": code}, format="json")
    assert check.json() == {
        "exists": True,
        "status": "active",
        "can_do_business": True,
        "customer_id": resp.json()["customer_id"],
    }


def test_check_answers_exactly_four_fields(make_client):
    _c, http, _t = make_client()
    number = resident_id()
    opened = post(http, open_payload(id_number=number)).json()
    resp = http.post(
        "/api/integrations/customers/check", {"id_type": "resident_id", "id_number": number}, format="json"
    )
    assert resp.status_code == 200
    assert resp.json() == {
        "exists": True,
        "status": "active",
        "can_do_business": True,
        "customer_id": opened["customer_id"],
    }
    missing = http.post(
        "/api/integrations/customers/check",
        {"id_type": "resident_id", "id_number": resident_id()},
        format="json",
    )
    assert missing.json() == {"exists": False, "status": None, "can_do_business": False, "customer_id": None}
    bad = http.post(
        "/api/integrations/customers/check", {"id_type": "resident_id", "id_number": "123"}, format="json"
    )
    assert bad.status_code == 400
    assert "id_number" in bad.json()


def test_blacklisted_or_frozen_customer_cannot_do_business(make_client, users):
    from backend.customers.models import BlacklistEntry, BlacklistStatus
    from backend.organisation.models import OrgUnit

    _c, http, _t = make_client()
    number = resident_id()
    opened = post(http, open_payload(id_number=number)).json()
    BlacklistEntry.objects.create(
        id_type="resident_id",
        id_number=number,
        reason="欺诈",
        source="测试",
        status=BlacklistStatus.ACTIVE,
        org_unit=OrgUnit.objects.get(code="GD"),
        created_by=users["officer.gd"],
    )
    resp = http.post(
        "/api/integrations/customers/check", {"id_type": "resident_id", "id_number": number}, format="json"
    )
    assert resp.json() == {
        "exists": True,
        "status": "active",
        "can_do_business": False,
        "customer_id": opened["customer_id"],
    }


def test_shenzhen_token_cannot_open_or_query_outside_its_scope(make_client):
    _sz, sz_http, _t = make_client("GD-SZ")
    _gz, gz_http, _t2 = make_client("GD-GZ")
    number = resident_id()
    opened = post(gz_http, open_payload(id_number=number), key="gz").json()
    # Query: a Guangzhou customer looks exactly like a missing one from Shenzhen.
    resp = sz_http.post(
        "/api/integrations/customers/check", {"id_type": "resident_id", "id_number": number}, format="json"
    )
    assert resp.json() == {"exists": False, "status": None, "can_do_business": False, "customer_id": None}
    # Open: another branch's org unit is 404, and the Guangzhou customer is not handed out.
    outside = post(sz_http, open_payload(org_unit="GD-GZ"), key="sz-1")
    assert outside.status_code == 404
    dup = post(sz_http, open_payload(id_number=number), key="sz-2")
    assert dup.status_code == 202
    assert dup.json()["customer_id"] is None
    assert Customer.objects.filter(pk=opened["customer_id"]).count() == 1
    assert Customer.objects.count() == 1
    # The request poll of another client is 404.
    assert sz_http.get(f"/api/integrations/requests/{opened['request_id']}/").status_code == 404


def test_revoked_and_rotated_tokens_are_refused_at_once(make_client, api):
    from rest_framework.test import APIClient

    client, http, token = make_client()
    assert (
        http.post(
            "/api/integrations/customers/check",
            {"id_type": "resident_id", "id_number": resident_id()},
            format="json",
        ).status_code
        == 200
    )
    admin = api("admin")
    rotated = admin.post(f"/api/integrations/clients/{client.pk}/rotate/")
    assert rotated.status_code == 200
    assert http.post("/api/integrations/customers/check", {"uscc": uscc()}, format="json").status_code == 401
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated.json()['token']}")
    assert fresh.post("/api/integrations/customers/check", {"uscc": uscc()}, format="json").status_code == 200
    assert admin.post(f"/api/integrations/clients/{client.pk}/revoke/").status_code == 200
    assert fresh.post("/api/integrations/customers/check", {"uscc": uscc()}, format="json").status_code == 401
    assert post(fresh, open_payload()).status_code == 401
    assert Customer.objects.count() == 0


def test_scopes_are_enforced(make_client):
    _c, query_only, _t = make_client(scopes=("query",))
    assert post(query_only, open_payload()).status_code == 403
    _c2, open_only, _t2 = make_client(scopes=("open",))
    assert (
        open_only.post("/api/integrations/customers/check", {"uscc": uscc()}, format="json").status_code
        == 403
    )


def test_only_administrators_create_clients(api):
    resp = api("officer.sz").post(
        "/api/integrations/clients/", {"name": "x", "org_unit": "GD-SZ", "scopes": ["open"]}, format="json"
    )
    assert resp.status_code == 403
    ok = api("admin").post(
        "/api/integrations/clients/",
        {"name": "呼叫中心", "org_unit": "GD-SZ", "scopes": ["query"]},
        format="json",
    )
    assert ok.status_code == 201
    assert ok.json()["token"].startswith("cfk_")
    bad = api("admin").post(
        "/api/integrations/clients/", {"name": "y", "org_unit": "GD-SZ", "scopes": ["delete"]}, format="json"
    )
    assert bad.status_code == 400
    assert "scopes" in bad.json()


JUNK_VALUES = [
    "",
    " ",
    "null",
    "0",
    "9" * 40,
    "💥" * 50,
    "<script>",
    "\x00",
    "a" * 5000,
    12,
    None,
    ["x"],
    {"a": 1},
]


def test_junk_never_500s(make_client):
    _c, http, _t = make_client()
    for i, value in enumerate(JUNK_VALUES):
        for field in ("name", "id_type", "id_number", "customer_type", "scan", "org_unit", "phone"):
            resp = post(http, {**open_payload(), field: value}, key=f"junk-{i}-{field}")
            assert resp.status_code < 500, (field, value, resp.content[:300])
        for params in ({"id_type": value, "id_number": value}, {"uscc": value}):
            for body in (params, {k: str(v) for k, v in params.items()}):
                resp = http.post("/api/integrations/customers/check", body, format="json")
                assert resp.status_code < 500, (body, resp.content[:300])
    for body in ([], [1], "text", 12):
        assert http.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="junk-body").status_code == 400
        assert http.post("/api/integrations/customers/check", body, format="json").status_code == 400
    for key in ("\x01", "a" * 300, " "):
        assert post(http, open_payload(), key=key).status_code == 400

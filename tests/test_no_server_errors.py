"""Nothing a user types or uploads may produce a 5xx: junk into every write endpoint."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks.models import HumanTask

pytestmark = pytest.mark.django_db

JUNK_VALUES = ["", " ", "null", "0", "-1", "9" * 40, "💥" * 50, "<script>alert(1)</script>", "'; DROP TABLE x; --", "\x00", "a" * 5000]
JUNK_JSON = [None, [], [1, 2], "text", 12, {"decision": None}, {"decision": ["approve"]}, {"decision": "approve", "comment": {"x": 1}}, {"data": "x" * 10000}]


@pytest.fixture
def open_task(submit):
    assert submit("advanced").status_code == 201
    return HumanTask.objects.get(step="review")


@pytest.mark.parametrize("user", ["collector.sz", "reviewer.sz", "reviewer.gz", "owner.ho", "admin"])
def test_openings_endpoint_never_500s(api, user):
    client = api(user)
    for value in JUNK_VALUES:
        for field in ("info_level", "name", "id_type", "id_number", "phone", "address", "email"):
            resp = client.post("/api/account-openings/", {field: value, "scan": SimpleUploadedFile("x.png", value.encode("utf-8", "replace") or b"x")}, format="multipart")
            assert resp.status_code < 500, (field, value, resp.content[:300])
    for body in JUNK_JSON:
        assert client.post("/api/account-openings/", body, format="json").status_code < 500


@pytest.mark.parametrize("user", ["collector.sz", "reviewer.sz", "reviewer.gz", "reviewer.gd"])
def test_task_endpoints_never_500(api, open_task, user):
    client = api(user)
    for action in ("claim", "unclaim", "complete"):
        for body in JUNK_JSON:
            resp = client.post(f"/api/tasks/{open_task.pk}/{action}/", body, format="json")
            assert resp.status_code < 500, (action, body, resp.content[:300])
    for query in ("?page=abc", "?page=-1", "?page_size=99999", "?page=999"):
        assert client.get(f"/api/tasks/{query}").status_code < 500
        assert client.get(f"/api/customers/{query}&q=💥").status_code < 500


@pytest.mark.parametrize("user", ["owner.ho", "reviewer.sz"])
def test_process_endpoints_never_500(api, user):
    client = api(user)
    for content in [b"", b"\xff\xfe\x00", b"<?xml version='1.0' encoding='latin-1'?><a>\xe9</a>", b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>", b"<" * 100000]:
        resp = client.post("/api/process-definitions/", {"file": SimpleUploadedFile("x.bpmn", content)}, format="multipart")
        assert resp.status_code < 500, (content[:40], resp.content[:300])
    extra = [
        {"process": "individual_account_opening", "data": {"case_id": "x"}},
        {"process": "individual_account_opening", "data": {"case_id": 10**30}},
        {"process": "individual_account_opening", "data": {"flags": ["a\x00b"], "case_id": 1}},
    ]
    for body in JUNK_JSON + extra:
        resp = client.post("/api/process-instances/", body, format="json")
        assert resp.status_code < 500, (body, resp.content[:300])


def test_auth_endpoint_never_500s(client):
    for body in JUNK_JSON + [{"username": "x" * 1000, "password": "y"}]:
        assert client.post("/api/auth/token/", body, content_type="application/json").status_code < 500


@pytest.mark.parametrize("field", ["name", "address", "email", "id_number", "phone"])
def test_control_characters_in_a_valid_submission_are_refused(submit, field):
    from backend.customers.models import Customer

    value = {"name": "王\x00明", "address": "深圳\x00南山", "email": "a\x00@example.com", "id_number": None, "phone": "138\x0012345678"}[field]
    overrides = {field: value} if value is not None else {}
    if field == "id_number":
        from tests.factories import resident_id

        overrides = {"id_number": resident_id()[:9] + "\x00" + resident_id()[10:]}
    resp = submit("advanced", **overrides)
    assert resp.status_code == 400, resp.content[:300]
    assert field in resp.json()
    assert Customer.objects.count() == 0


def test_control_characters_in_task_forms_are_refused(api, open_task):
    resp = api("reviewer.sz").post(f"/api/tasks/{open_task.pk}/complete/", {"decision": "reject", "comment": "证件\x00模糊"}, format="json")
    assert resp.status_code == 400, resp.content[:300]
    assert "comment" in resp.json()
    open_task.refresh_from_db()
    assert open_task.status == "ready"


def test_control_characters_in_web_forms_are_refused(client, users, open_task):
    client.force_login(users["reviewer.sz"])
    resp = client.post(f"/tasks/{open_task.pk}/", {"decision": "reject", "comment": "证件\x00模糊"})
    assert resp.status_code == 400
    open_task.refresh_from_db()
    assert open_task.status == "ready"


def test_control_characters_in_the_web_opening_form_are_refused(client, users):
    from backend.customers.models import Customer
    from tests.factories import opening_payload

    client.force_login(users["collector.sz"])
    resp = client.post("/openings/new/", opening_payload("advanced", name="王\x00明", address="深圳\x01南山"))
    assert resp.status_code == 400
    assert "不能包含控制字符" in resp.content.decode()
    assert Customer.objects.count() == 0


@pytest.fixture
def active_customer_id(submit, api):
    body = submit("advanced").json()
    task = HumanTask.objects.get(step="review")
    assert api("reviewer.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json").status_code == 200
    return body["customer_id"]


@pytest.mark.parametrize("user", ["collector.sz", "officer.sz", "reviewer.gz", "compliance.ho"])
def test_customer_life_endpoints_never_500(api, active_customer_id, user):
    client = api(user)
    cid = active_customer_id
    corporate = ("customer_type", "legal_rep_name", "legal_rep_id_type", "legal_rep_id_number", "contact_person", "id_number")
    for value in JUNK_VALUES:
        for field in corporate:
            data = {"customer_type": "corporate", "info_level": "advanced", field: value, "scan": SimpleUploadedFile("x.png", b"x")}
            assert client.post("/api/account-openings/", data, format="multipart").status_code < 500, (field, value)
        for field in ("name", "id_type", "id_number", "birth_date", "phone", "address", "email", "reason"):
            resp = client.post(f"/api/customers/{cid}/amendments/", {field: value, "reason": "x"} if field != "reason" else {"phone": "13900000000", "reason": value}, format="json")
            assert resp.status_code < 500, (field, value, resp.content[:300])
        for field in ("id_type", "id_number", "name", "reason", "source"):
            assert client.post("/api/blacklist/", {field: value}, format="json").status_code < 500, (field, value)
        assert client.post(f"/api/customers/{cid}/freeze/", {"reason": value}, format="json").status_code < 500
        assert client.post("/api/blacklist/1/remove/", {"reason": value}, format="json").status_code < 500
    for body in JUNK_JSON:
        for url in (f"/api/customers/{cid}/amendments/", "/api/blacklist/", f"/api/customers/{cid}/unfreeze/"):
            assert client.post(url, body, format="json").status_code < 500, (url, body)
    for url in ("/api/amendments/999999/", "/api/blacklist/999999/", "/api/blacklist-changes/abc/", "/api/blacklist/?page=abc&status=💥"):
        assert client.get(url).status_code < 500, url

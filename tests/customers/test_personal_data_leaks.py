"""R8: after the main flows, no response, log record or job result holds a full id number or
phone that was not revealed.

Every API response of the flows (opening submitted, reviewed and approved; inbox, task, timeline,
notifications, my cases; customer list, detail, history, linkage, search (POST, and the refused
GET with an identifier in its query); a contact amendment
reviewed; a rejected submission; a historical import with its result file) is recorded, with
every log record (all loggers, DEBUG) and every job's return value. Allowed to hold a full
value: the reveal endpoint's answer (查看完整信息, logged) and one customer's page (detail, linkage, history)
read by a full-view role (audited as a full view); the collector's own submission echo is
not allowed. Each secret is searched in its common spellings (+86, spaced, lower-case x).
"""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import date

import pytest
from celery import signals
from openpyxl import load_workbook
from rest_framework.test import APIClient

from backend.customers.models import Customer
from tests.conftest import inbox, officer_confirm
from tests.factories import opening_payload, resident_id

pytestmark = pytest.mark.django_db

ID_A = resident_id(birth=date(1979, 4, 5), serial=481)
PHONE_A = "13812340001"
PHONE_A2 = "13912340002"
ID_B = resident_id(birth=date(1966, 9, 9), serial=482)
PHONE_B = "13712340003"
BAD_ID = ID_A[:-1] + ("1" if ID_A[-1] != "1" else "2")


def spellings(secret: str) -> list[str]:
    out = {secret, secret.lower()}
    if secret.isdigit() and len(secret) == 11:
        out |= {f"+86{secret}", f"{secret[:3]} {secret[3:7]} {secret[7:]}", f"{secret[:3]}-{secret[3:7]}-{secret[7:]}"}
    return sorted(out)


@pytest.fixture(autouse=True)
def jobs_inline(monkeypatch):
    """Jobs run inline, also in an integration run (CUSTFLOW_INTEGRATION=1 turns eager mode off)."""
    from backend.config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


@pytest.fixture
def recorder(monkeypatch, caplog):
    """Records (label, text) of every API response and job result; logs come from caplog."""
    records: list[tuple[str, str, bool]] = []  # (label, text, allowed to hold full values)
    original = APIClient.request

    def request(self, **kwargs):
        resp = original(self, **kwargs)
        path, method = kwargs.get("PATH_INFO", ""), kwargs.get("REQUEST_METHOD", "")
        user = getattr(getattr(resp, "wsgi_request", None), "user", None)
        username = getattr(user, "username", "?")
        # 查看完整信息, or one customer's page read by a full-view role (officer): both audited.
        allowed = path.endswith("/reveal/") or (
            method == "GET" and re.fullmatch(r"/api/customers/\d+/(linkage/|history/)?", path) is not None
            and username.startswith("officer.")
        )
        if resp.streaming:
            body = b"".join(resp.streaming_content)
            resp.streaming_content = [body]
        else:
            body = resp.content
        if body[:2] == b"PK":  # XLSX: scan the cell values
            wb = load_workbook(io.BytesIO(body), read_only=True)
            text = "\n".join(str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c is not None)
        else:
            text = body.decode("utf-8", "replace")
        records.append((f"{username} {method} {path} → {resp.status_code}", text, allowed))
        return resp

    monkeypatch.setattr(APIClient, "request", request)

    def job_done(sender=None, retval=None, **kw):
        records.append((f"job {getattr(sender, 'name', sender)}", json.dumps(retval, default=str, ensure_ascii=False), False))

    signals.task_postrun.connect(job_done, weak=False)
    caplog.set_level(logging.DEBUG)
    yield records
    signals.task_postrun.disconnect(job_done)


def test_main_flows_leak_no_unrevealed_id_number_or_phone(api, recorder, caplog, django_capture_on_commit_callbacks):
    collector, reviewer, officer, province = api("collector.sz"), api("reviewer.sz"), api("officer.sz"), api("reviewer.gd")
    # A rejected submission (wrong check digit), then the real one.
    assert collector.post("/api/account-openings/", opening_payload("advanced", id_number=BAD_ID, phone=PHONE_A), format="multipart").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        opened = collector.post("/api/account-openings/", opening_payload("advanced", id_number=ID_A, phone=PHONE_A), format="multipart")
    assert opened.status_code == 201, opened.content
    body = opened.json()
    with django_capture_on_commit_callbacks(execute=True):
        officer_confirm(api, body["id"])  # the officer's step (issue 16 item 4)
    [task] = [t for t in inbox(reviewer) if t["case_id"] == body["id"]]
    for path in (f"/api/tasks/{task['id']}/", f"/api/tasks/{task['id']}/timeline/", f"/api/account-openings/{body['id']}/"):
        assert reviewer.get(path).status_code == 200
    assert reviewer.post(f"/api/tasks/{task['id']}/claim/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert reviewer.post(f"/api/tasks/{task['id']}/complete/", {"decision": "approve", "comment": "核实无误"}, format="json").status_code == 200
    customer = Customer.objects.get(pk=body["customer_id"])
    for client in (collector, reviewer, province, api("compliance.ho"), officer):
        for path in ("/api/tasks/?tab=done", "/api/my-cases/", "/api/notifications/", "/api/customers/",
                     f"/api/customers/{customer.pk}/",
                     f"/api/customers/{customer.pk}/history/", f"/api/customers/{customer.pk}/linkage/"):
            assert client.get(path).status_code in (200, 403, 404), path
        # Exact search: in the body; the old GET with an identifier is refused.
        for field, value in (("id_number", ID_A), ("phone", PHONE_A), ("phone", f"+86 {PHONE_A}")):
            found = client.post("/api/customers/search/", {"field": field, "value": value}, format="json")
            assert found.status_code == 200, found.content
        for key, value in (("q", ID_A), ("q", PHONE_A), ("phone", PHONE_A), ("id_number", ID_A)):
            assert client.get("/api/customers/", {key: value}).status_code == 400
    # A contact amendment, reviewed.
    with django_capture_on_commit_callbacks(execute=True):
        amended = collector.post(f"/api/customers/{customer.pk}/amendments/", {"phone": PHONE_A2, "reason": "客户来电"}, format="json")
    assert amended.status_code == 201, amended.content
    [review] = [t for t in inbox(reviewer) if t["process"] == "customer_amendment"]
    assert reviewer.get(f"/api/tasks/{review['id']}/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert reviewer.post(f"/api/tasks/{review['id']}/complete/", {"decision": "approve"}, format="json").status_code == 200
    assert reviewer.get(f"/api/customers/{customer.pk}/history/").status_code == 200
    assert reviewer.get(f"/api/amendments/{amended.json()['id']}/").status_code == 200
    # A revealed value is allowed in that answer only.
    assert reviewer.post(f"/api/customers/{customer.pk}/reveal/", {"field": "id_number", "reason": "客户来电核实身份"}, format="json").status_code == 200
    # A historical import and its result file.
    legacy = io.BytesIO(f"姓名,证件类型,证件号码,联系电话,通讯地址\n李四,resident_id,{ID_B},{PHONE_B},深圳\n".encode())
    legacy.name = "legacy.csv"
    with django_capture_on_commit_callbacks(execute=True):
        batch = officer.post("/api/integrations/imports/", {"file": legacy}, format="multipart")
    assert batch.status_code == 202, batch.content
    detail = reviewer.get(f"/api/integrations/imports/{batch.json()['id']}/")
    for client in (officer, reviewer):
        client.get(f"/api/integrations/imports/{batch.json()['id']}/")
        client.get(f"/api/integrations/imports/{batch.json()['id']}/result.xlsx")
    assert Customer.objects.filter(id_number=ID_B).exists(), detail.content

    secrets = {s: spellings(s) for s in (ID_A, BAD_ID, PHONE_A, PHONE_A2, ID_B, PHONE_B)}
    found = []
    for label, text, allowed in recorder:
        if allowed:
            continue
        for secret, forms in secrets.items():
            if any(f in text for f in forms):
                found.append(f"{label}: holds {secret}")
    for record in caplog.records:
        text = record.getMessage() + " " + json.dumps(record.__dict__.get("data", ""), default=str, ensure_ascii=False)
        for secret, forms in secrets.items():
            if any(f in text for f in forms):
                found.append(f"log {record.name} {record.levelname}: holds {secret}: {text[:200]}")
    assert len(recorder) > 60
    assert found == []

"""溯源整改: tag the root cause, open a corrective action, close it; bad input is a 400 with field
messages and changes nothing; only complaint / customer-service / compliance roles in scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from backend.common.audit import audit_stream_verify
from backend.common.models import AuditEvent
from backend.complaints.models import CorrectiveAction
from backend.organisation.models import OrgUnit
from tests.complaints.factories import complaint_make, complaint_users


@pytest.fixture
def complaint(users):
    complaint_users()
    return complaint_make(org="GD-SZ", received="GD-GZ")


def unit(code):
    return OrgUnit.objects.get(code=code).pk


def snapshot(complaint):
    complaint.refresh_from_db()
    return (
        complaint.root_cause,
        complaint.root_cause_note,
        list(CorrectiveAction.objects.values_list("id", "status", "closing_note")),
        AuditEvent.objects.count(),
    )


def test_the_corrective_action_lifecycle(api, complaint):
    client = api("handler.sz")
    resp = client.post(
        f"/api/complaints/{complaint.pk}/root-cause/",
        {"root_cause": "sales_conduct", "note": "业务员夸大收益"},
        format="json",
    )
    assert resp.status_code == 200, resp.content
    assert resp.json() == {
        "id": complaint.pk,
        "root_cause": "sales_conduct",
        "root_cause_label": "销售行为",
        "root_cause_note": "业务员夸大收益",
    }
    due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    resp = client.post(
        f"/api/complaints/{complaint.pk}/corrective-actions/",
        {"owner_org_unit": unit("GD-SZ"), "due_date": due, "description": "开展销售话术专项培训"},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    action = resp.json()
    assert (
        action["root_cause"] == "sales_conduct" and action["status"] == "open" and action["due_date"] == due
    )
    assert action["owner_org_unit_name"] == "深圳市分公司"

    listed = client.get(f"/api/complaints/{complaint.pk}/corrective-actions/").json()
    assert [a["id"] for a in listed] == [action["id"]]

    resp = client.post(
        f"/api/corrective-actions/{action['id']}/close/", {"note": "培训已完成,签到表存档"}, format="json"
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "closed" and resp.json()["closing_note"] == "培训已完成,签到表存档"
    again = client.post(f"/api/corrective-actions/{action['id']}/close/", {"note": "再次关闭"}, format="json")
    assert again.status_code == 409

    actions = list(
        AuditEvent.objects.filter(
            object_type="complaints.complaint", object_id=str(complaint.pk)
        ).values_list("action", flat=True)
    )
    assert actions == [
        "complaint.root_cause_set",
        "complaint.corrective_action_created",
        "complaint.corrective_action_closed",
    ]
    assert audit_stream_verify(object_type="complaints.complaint", object_id=complaint.pk)


@pytest.mark.parametrize(
    "url, body, fields",
    [
        ("root-cause/", {"root_cause": "weather"}, {"root_cause"}),
        ("root-cause/", {"root_cause": "other"}, {"note"}),
        ("root-cause/", {"root_cause": "process", "note": "长" * 1001}, {"note"}),
        (
            "corrective-actions/",
            {"owner_org_unit": "GD-SZ", "due_date": "2099-01-01", "description": "x"},
            {"owner_org_unit", "root_cause"},
        ),
        (
            "corrective-actions/",
            {"due_date": "yesterday", "description": ""},
            {"owner_org_unit", "due_date", "description", "root_cause"},
        ),
    ],
)
def test_bad_input_is_a_field_error_and_changes_nothing(api, complaint, url, body, fields):
    client = api("handler.sz")  # signing in is itself audited: before the snapshot
    before = snapshot(complaint)
    resp = client.post(f"/api/complaints/{complaint.pk}/{url}", body, format="json")
    assert resp.status_code == 400, resp.content
    assert set(resp.json()) - {"code", "detail"} == fields
    assert all(isinstance(m, str) and m for f in fields for m in resp.json()[f])
    assert snapshot(complaint) == before


def test_actions_need_a_due_date_from_today_and_an_owner_in_scope(api, complaint):
    client = api("handler.sz")
    client.post(f"/api/complaints/{complaint.pk}/root-cause/", {"root_cause": "process"}, format="json")
    before = snapshot(complaint)
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    resp = client.post(
        f"/api/complaints/{complaint.pk}/corrective-actions/",
        {"owner_org_unit": unit("GD-SZ"), "due_date": yesterday, "description": "x"},
        format="json",
    )
    assert resp.status_code == 400 and set(resp.json()) - {"code", "detail"} == {"due_date"}
    resp = client.post(
        f"/api/complaints/{complaint.pk}/corrective-actions/",
        {"owner_org_unit": unit("GD-GZ"), "due_date": timezone.localdate().isoformat(), "description": "x"},
        format="json",
    )
    assert resp.status_code == 400 and set(resp.json()) - {"code", "detail"} == {"owner_org_unit"}
    assert snapshot(complaint) == before
    ok = api("handler.gd").post(
        f"/api/complaints/{complaint.pk}/corrective-actions/",
        {
            "owner_org_unit": unit("GD-GZ"),
            "due_date": timezone.localdate().isoformat(),
            "description": "广州受理环节整改",
        },
        format="json",
    )
    assert ok.status_code == 201, ok.content


def test_closing_needs_a_note(api, complaint):
    client = api("handler.sz")
    client.post(f"/api/complaints/{complaint.pk}/root-cause/", {"root_cause": "process"}, format="json")
    action = client.post(
        f"/api/complaints/{complaint.pk}/corrective-actions/",
        {"owner_org_unit": unit("GD-SZ"), "due_date": timezone.localdate().isoformat(), "description": "x"},
        format="json",
    ).json()
    before = snapshot(complaint)
    resp = client.post(f"/api/corrective-actions/{action['id']}/close/", {"note": "  "}, format="json")
    assert resp.status_code == 400 and set(resp.json()) - {"code", "detail"} == {"note"}
    assert snapshot(complaint) == before


def test_only_corrective_roles_in_scope_may_act(api, complaint, users):
    body = {"root_cause": "process"}
    # out of scope: the complaint does not exist for them
    assert (
        api("handler.hz").post(f"/api/complaints/{complaint.pk}/root-cause/", body, format="json").status_code
        == 404
    )
    # in scope (深圳) but not a corrective role
    assert (
        api("reviewer.sz")
        .post(f"/api/complaints/{complaint.pk}/root-cause/", body, format="json")
        .status_code
        == 403
    )
    # compliance at the province and customer service at head office may
    assert (
        api("compliance.gd")
        .post(f"/api/complaints/{complaint.pk}/root-cause/", body, format="json")
        .status_code
        == 200
    )
    assert (
        api("cs.ho")
        .post(f"/api/complaints/{complaint.pk}/root-cause/", {"root_cause": "system"}, format="json")
        .status_code
        == 200
    )
    action = CorrectiveAction.objects.create(
        complaint=complaint,
        root_cause="system",
        description="x",
        owner_org_unit=complaint.org_unit,
        due_date=timezone.localdate(),
        created_by=users["compliance.gd"],
    )
    assert (
        api("handler.hz")
        .post(f"/api/corrective-actions/{action.pk}/close/", {"note": "x"}, format="json")
        .status_code
        == 404
    )
    assert (
        api("reviewer.sz")
        .post(f"/api/corrective-actions/{action.pk}/close/", {"note": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        api("handler.gz")
        .post(f"/api/corrective-actions/{action.pk}/close/", {"note": "受理机构完成整改"}, format="json")
        .status_code
        == 200
    )

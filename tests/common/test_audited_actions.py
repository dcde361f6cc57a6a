"""Control 12: role grants and revocations, exports and downloads, API client changes each write
an audit event (in the stream of what changed, or of who took the file)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit, Role, RoleAssignment
from backend.organisation.services import role_assign, role_revoke, user_ensure
from tests.conftest import officer_confirmed
from tests.factories import opening_payload, resident_id

pytestmark = pytest.mark.django_db


def events(action: str, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("id"))


def test_role_grant_and_revocation_are_audited_in_the_users_stream(users):
    admin, target = users["admin"], user_ensure(username="new.sz", password="demo-pass-2026")
    sz = OrgUnit.objects.get(code="GD-SZ")
    assignment = role_assign(user=target, role=Role.REVIEWER, org_unit=sz, actor=admin)
    role_assign(user=target, role=Role.REVIEWER, org_unit=sz, actor=admin)  # already held: nothing new
    [granted] = events("role.granted", object_id=str(target.pk))
    assert (granted.object_type, granted.actor_id, granted.org_unit_id) == (
        target._meta.label_lower,
        admin.pk,
        sz.pk,
    )
    assert granted.data == {"user": "new.sz", "role": "reviewer", "org_unit": "GD-SZ"}
    role_revoke(actor=admin, assignment_id=assignment.pk)
    [revoked] = events("role.revoked", object_id=str(target.pk))
    assert revoked.actor_id == admin.pk and revoked.data["role"] == "reviewer"
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    # By (user, role, org unit) too; revoking what is not held writes nothing.
    role_assign(user=target, role=Role.OFFICER, org_unit=sz, actor=admin)
    assert role_revoke(actor=admin, user=target, role=Role.OFFICER, org_unit=sz) is not None
    assert role_revoke(actor=admin, user=target, role=Role.OFFICER, org_unit=sz) is None
    assert [e.data["role"] for e in events("role.revoked", object_id=str(target.pk))] == [
        "reviewer",
        "officer",
    ]


def test_django_admin_grants_and_revokes_through_the_service(client, users):
    admin, target = users["admin"], user_ensure(username="new.sz", password="demo-pass-2026")
    sz = OrgUnit.objects.get(code="GD-SZ")
    client.force_login(admin)
    resp = client.post(
        "/admin/organisation/roleassignment/add/",
        {"user": target.pk, "role": "compliance", "org_unit": sz.pk},
    )
    assert resp.status_code == 302, resp.content[:500]
    assignment = RoleAssignment.objects.get(user=target, role="compliance")
    assert [e.actor_id for e in events("role.granted", object_id=str(target.pk))] == [admin.pk]
    resp = client.post(f"/admin/organisation/roleassignment/{assignment.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302, resp.content[:500]
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert [e.actor_id for e in events("role.revoked", object_id=str(target.pk))] == [admin.pk]
    # Bulk deletion from the list is audited too.
    again = role_assign(user=target, role=Role.OFFICER, org_unit=sz, actor=admin)
    client.post(
        "/admin/organisation/roleassignment/",
        {"action": "delete_selected", "_selected_action": [again.pk], "post": "yes"},
    )
    assert not RoleAssignment.objects.filter(pk=again.pk).exists()
    assert len(events("role.revoked", object_id=str(target.pk))) == 2


def test_api_client_create_rotate_update_revoke_are_audited(api, users, client, settings):
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = ["127.0.0.1:9"]  # callbacks are checked at registration
    admin = api("admin")
    created = admin.post(
        "/api/integrations/clients/",
        {"name": "呼叫中心", "org_unit": "GD-SZ", "scopes": ["query"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    client_id = created.json()["id"]
    stream = {"object_type": "integrations.apiclient", "object_id": str(client_id)}
    [made] = events("api_client.created", **stream)
    assert (
        made.actor_id == users["admin"].pk and made.data["scopes"] == ["query"] and made.data["token_prefix"]
    )
    assert "token" not in made.data  # the token itself is never recorded
    # Its service user's role is a grant like any other.
    from backend.integrations.models import ApiClient

    service_user = ApiClient.objects.get(pk=client_id).service_user
    assert events("role.granted", object_id=str(service_user.pk))[0].data["role"] == "collector"
    assert admin.post(f"/api/integrations/clients/{client_id}/rotate/").status_code == 200
    [rotated] = events("api_client.rotated", **stream)
    assert rotated.data["previous_token_prefix"] == made.data["token_prefix"] != rotated.data["token_prefix"]
    # An administrator edits the scopes in Django admin: through the service, audited.
    client.force_login(users["admin"])
    form = {"scopes": '["open", "query"]', "callback_url": "http://127.0.0.1:9/hook"}
    resp = client.post(f"/admin/integrations/apiclient/{client_id}/change/", form)
    assert resp.status_code == 302, resp.content[:800]
    [updated] = events("api_client.updated", **stream)
    assert updated.data == {"scopes": ["open", "query"], "callback_url": "http://127.0.0.1:9/hook"}
    assert admin.post(f"/api/integrations/clients/{client_id}/revoke/").status_code == 200
    assert len(events("api_client.revoked", **stream)) == 1


def _download_event(user, kind: str) -> AuditEvent:
    [event] = events("export.downloaded", actor=user, data__kind=kind)
    return event


def test_sla_report_exports_are_audited(api, users, client):
    import hashlib

    params = {"from": "2026-01-01", "to": "2026-12-31", "group_by": "org_unit"}
    for fmt in ("csv", "xlsx"):
        resp = api("compliance.ho").get(f"/api/reports/sla/export/{fmt}/", params)
        assert resp.status_code == 200
    [csv_event, xlsx_event] = events("export.downloaded", actor=users["compliance.ho"])
    assert (csv_event.object_type, csv_event.object_id) == ("export", str(users["compliance.ho"].pk))
    assert csv_event.data["format"] == "csv" and csv_event.data["query"]["group_by"] == "org_unit"
    assert xlsx_event.data["sha256"] == hashlib.sha256(resp.content).hexdigest()
    # The web page's export too; a refused export writes nothing.
    client.force_login(users["compliance.gd"])
    assert client.get("/reports/sla/export.csv", params).status_code == 200
    assert _download_event(users["compliance.gd"], "sla_report").data["format"] == "csv"
    assert api("reviewer.sz").get("/api/reports/sla/export/csv/", params).status_code == 403
    assert not events("export.downloaded", actor=users["reviewer.sz"])


def test_report_archive_download_is_audited(api, users):
    from backend.reports.jobs import archive_monthly_sla
    from backend.reports.models import ReportArchive

    archive_monthly_sla()
    archive = ReportArchive.objects.get(org_unit__code="HO")
    assert api("compliance.ho").get(f"/api/reports/archives/{archive.pk}/xlsx/").status_code == 200
    event = _download_event(users["compliance.ho"], "report_archive")
    assert (event.object_type, event.object_id, event.data["format"]) == (
        "reports.reportarchive",
        str(archive.pk),
        "xlsx",
    )


def test_complaint_analysis_xlsx_is_audited(api, users):
    month = timezone.localdate().strftime("%Y-%m")
    resp = api("compliance.ho").get("/api/complaints/analysis/export/", {"format": "xlsx", "month": month})
    assert resp.status_code == 200, resp.content[:300]
    assert _download_event(users["compliance.ho"], "complaint_analysis_xlsx").data["month"] == month


def test_import_result_and_print_batch_downloads_are_audited(
    api, users, django_capture_on_commit_callbacks, monkeypatch
):
    from backend.config.celery import app

    # The jobs run inline here, also in an integration run (CUSTFLOW_INTEGRATION=1).
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)
    officer = api("officer.sz")
    with django_capture_on_commit_callbacks(execute=True):
        f = io.BytesIO(
            "姓名,证件类型,证件号码,联系电话,通讯地址\n".encode()
            + f"张三,resident_id,{resident_id(birth=date(1970, 7, 7))},13500001111,深圳\n".encode()
        )
        f.name = "legacy.csv"
        batch = officer.post("/api/integrations/imports/", {"file": f}, format="multipart").json()
    resp = officer.get(f"/api/integrations/imports/{batch['id']}/result.xlsx")
    assert resp.status_code == 200
    event = _download_event(users["officer.sz"], "import_result")
    assert (event.object_type, event.object_id) == ("integrations.importbatch", str(batch["id"]))

    opened = officer_confirmed(  # the officer opens the collector's submission (issue 16 item 4)
        api,
        api("collector.sz").post("/api/account-openings/", opening_payload("primary"), format="multipart"),
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        pb = (
            api("reviewer.sz")
            .post(
                "/api/print-batches/",
                {"customer_ids": [opened["customer_id"]], "reason": "归档"},
                format="json",
            )
            .json()
        )
    pdf = api("reviewer.sz").get(f"/api/print-batches/{pb['id']}/pdf/")
    assert pdf.status_code == 200
    event = _download_event(users["reviewer.sz"], "print_batch_pdf")
    assert event.object_id == str(pb["id"]) and event.data["bytes"] == len(
        b"".join(pdf.streaming_content) if pdf.streaming else pdf.content
    )


def test_the_new_events_verify(users):
    role_assign(
        user=users["reviewer.sz"],
        role=Role.COMPLIANCE,
        org_unit=OrgUnit.objects.get(code="GD-SZ"),
        actor=users["admin"],
    )
    out = io.StringIO()
    call_command("audit_verify", "--no-checkpoint", stdout=out)
    assert "intact" in out.getvalue()

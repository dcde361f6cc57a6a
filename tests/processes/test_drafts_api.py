"""Drafts are saved freely; publishing needs a second process owner (four eyes); versions diff by element."""

from __future__ import annotations

import pytest

from backend.common.models import AuditEvent
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from processes.drafts import draft_content_sha256
from processes.models import DraftStatus, ProcessDraft, ProcessInstance, ProcessVersion, VersionSource
from tests.fixtures.diagrams import user_task_diagram

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "demo-pass-2026"


@pytest.fixture
def second_owner(users):
    user = user_ensure(username="owner2.ho", password=DEMO_PASSWORD, full_name="第二流程管理员")
    role_assign(user=user, role=Role.PROCESS_OWNER, org_unit=OrgUnit.objects.get(code="HO"))
    return user


def shown(draft: dict) -> str:
    """The content hash a reviewer's page shows for the draft now."""
    return draft_content_sha256(ProcessDraft.objects.get(pk=draft["id"]))


def create_draft(client, xml: bytes, key: str = "lint_test"):
    return client.post("/api/processes/drafts/", {"key": key, "bpmn_xml": xml.decode()}, format="json")


def test_draft_with_problems_is_saved_and_lists_them_by_element(api):
    resp = create_draft(api("owner.ho"), user_task_diagram(lane="nobody"))
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "draft" and body["can_request_publish"] is False
    assert [(p["element"], p["severity"]) for p in body["problems"] if "nobody" in p["message"]] == [("task", "error")]
    # Saving the fixed diagram clears the problem.
    fixed = api("owner.ho").put(f"/api/processes/drafts/{body['id']}/", {"bpmn_xml": user_task_diagram().decode(), "row_version": 0}, format="json")
    assert fixed.status_code == 200, fixed.content
    assert fixed.json()["row_version"] == 1
    assert not [p for p in fixed.json()["problems"] if p["severity"] == "error"]
    assert ProcessVersion.objects.filter(definition__key="lint_test").count() == 0


def test_stale_save_is_a_conflict(api):
    draft = create_draft(api("owner.ho"), user_task_diagram()).json()
    ok = api("owner.ho").put(f"/api/processes/drafts/{draft['id']}/", {"bpmn_xml": user_task_diagram().decode(), "row_version": 0}, format="json")
    assert ok.status_code == 200
    stale = api("owner.ho").put(f"/api/processes/drafts/{draft['id']}/", {"bpmn_xml": user_task_diagram().decode(), "row_version": 0}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_draft"


def test_publish_request_refused_while_errors_remain(api):
    draft = create_draft(api("owner.ho"), user_task_diagram(form="no/such_form")).json()
    resp = api("owner.ho").post(f"/api/processes/drafts/{draft['id']}/request-publish/")
    assert resp.status_code == 400, resp.content
    assert any("no/such_form" in m for m in resp.json()["bpmn_xml"])
    assert ProcessDraft.objects.get(pk=draft["id"]).status == DraftStatus.DRAFT


def test_four_eyes_publish_creates_immutable_version(api, second_owner):
    owner, other = api("owner.ho"), api("owner2.ho")
    draft = create_draft(owner, user_task_diagram()).json()
    assert owner.post(f"/api/processes/drafts/{draft['id']}/request-publish/").status_code == 200
    # The requester cannot approve their own request.
    self_approval = owner.post(f"/api/processes/drafts/{draft['id']}/approve/", {"content_sha256": shown(draft)}, format="json")
    assert self_approval.status_code == 403 and self_approval.json()["code"] == "four_eyes"
    assert ProcessVersion.objects.filter(definition__key="lint_test").count() == 0
    resp = other.post(f"/api/processes/drafts/{draft['id']}/approve/", {"content_sha256": shown(draft), "comment": "同意"}, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["version"] == 1 and resp.json()["key"] == "lint_test"
    version = ProcessVersion.objects.get(definition__key="lint_test")
    assert version.source == VersionSource.MODELER and version.created_by.username == "owner.ho"
    stored = ProcessDraft.objects.get(pk=draft["id"])
    assert (stored.status, stored.decided_by.username, stored.published_version_id) == ("published", "owner2.ho", version.pk)
    # A published draft is frozen.
    again = owner.put(f"/api/processes/drafts/{draft['id']}/", {"bpmn_xml": user_task_diagram().decode()}, format="json")
    assert again.status_code == 409
    actions = list(AuditEvent.objects.filter(object_type="processes.processdraft", object_id=str(draft["id"])).order_by("id").values_list("action", flat=True))
    assert actions == ["process.draft_created", "process.publish_requested", "process.publish_approved"]


def test_last_editor_cannot_approve_and_an_edit_withdraws_the_request(api, second_owner):
    owner, other = api("owner.ho"), api("owner2.ho")
    draft = create_draft(owner, user_task_diagram()).json()
    assert owner.post(f"/api/processes/drafts/{draft['id']}/request-publish/").status_code == 200
    # The second owner edits: the request is withdrawn, and now neither may approve it unseen.
    edited = other.put(f"/api/processes/drafts/{draft['id']}/", {"bpmn_xml": user_task_diagram(key="lint_test").decode()}, format="json")
    assert edited.status_code == 200 and edited.json()["status"] == "draft"
    assert other.post(f"/api/processes/drafts/{draft['id']}/approve/", {"content_sha256": shown(draft)}, format="json").status_code == 409
    assert other.post(f"/api/processes/drafts/{draft['id']}/request-publish/").status_code == 200
    denied = other.post(f"/api/processes/drafts/{draft['id']}/approve/", {"content_sha256": shown(draft)}, format="json")
    assert denied.status_code == 403
    assert owner.post(f"/api/processes/drafts/{draft['id']}/approve/", {"content_sha256": shown(draft)}, format="json").status_code == 201


def test_reject_needs_a_reason_and_returns_the_draft(api, second_owner):
    owner, other = api("owner.ho"), api("owner2.ho")
    draft = create_draft(owner, user_task_diagram()).json()
    owner.post(f"/api/processes/drafts/{draft['id']}/request-publish/")
    assert other.post(f"/api/processes/drafts/{draft['id']}/reject/", {"comment": ""}, format="json").status_code == 400
    resp = other.post(f"/api/processes/drafts/{draft['id']}/reject/", {"comment": "时限不对"}, format="json")
    assert resp.status_code == 200 and resp.json()["status"] == "rejected" and resp.json()["decision_comment"] == "时限不对"


def test_draft_key_must_match_the_diagram(api):
    body = create_draft(api("owner.ho"), user_task_diagram(key="other_key"), key="lint_test").json()
    assert any(p["element"] == "other_key" for p in body["problems"])


def test_non_owner_cannot_touch_drafts(api):
    assert create_draft(api("reviewer.sz"), user_task_diagram()).status_code == 403
    assert api("reviewer.sz").get("/api/processes/drafts/").status_code == 403


def test_diff_lists_added_removed_and_changed_elements(api, second_owner):
    owner, other = api("owner.ho"), api("owner2.ho")

    def publish(xml: bytes) -> int:
        draft = create_draft(owner, xml).json()
        assert owner.post(f"/api/processes/drafts/{draft['id']}/request-publish/").status_code == 200
        resp = other.post(f"/api/processes/drafts/{draft['id']}/approve/", {"content_sha256": shown(draft)}, format="json")
        assert resp.status_code == 201, resp.content
        return resp.json()["version"]

    v1 = publish(user_task_diagram())
    v2 = publish(user_task_diagram(lane="province_reviewer", form="account_opening/fix_submission", operation="customers.activate_customer"))
    resp = owner.get(f"/api/processes/lint_test/diff/?old={v1}&new={v2}")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["added"] == [] and body["removed"] == []
    changed = {c["id"]: c for c in body["changed"]}
    assert {"field": "property:form", "old": "account_opening/review", "new": "account_opening/fix_submission"} in changed["task"]["changes"]
    assert {"field": "attribute:lane", "old": "city_reviewer", "new": "province_reviewer"} in changed["task"]["changes"]
    assert {"field": "type", "old": "scriptTask", "new": "serviceTask"} in changed["svc"]["changes"]
    assert changed["lane1"]["changes"] == [{"field": "name", "old": "city_reviewer", "new": "province_reviewer"}]
    assert set(changed) == {"task", "svc", "lane1", "start", "end"}  # start/end: their lane name changed
    versions = owner.get("/api/processes/lint_test/versions/").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert owner.get("/api/processes/lint_test/diff/?old=1&new=9").status_code == 404


def test_running_instances_keep_their_version(api, second_owner):
    owner, other = api("owner.ho"), api("owner2.ho")
    draft = create_draft(owner, user_task_diagram()).json()
    owner.post(f"/api/processes/drafts/{draft['id']}/request-publish/")
    other.post(f"/api/processes/drafts/{draft['id']}/approve/", {"content_sha256": shown(draft)}, format="json")
    first = owner.post("/api/process-instances/", {"process": "lint_test", "data": {}}, format="json").json()
    draft2 = create_draft(owner, user_task_diagram(form="account_opening/fix_submission")).json()
    owner.post(f"/api/processes/drafts/{draft2['id']}/request-publish/")
    other.post(f"/api/processes/drafts/{draft2['id']}/approve/", {"content_sha256": shown(draft2)}, format="json")
    second = owner.post("/api/process-instances/", {"process": "lint_test", "data": {}}, format="json").json()
    assert (first["version"], second["version"]) == (1, 2)
    assert ProcessInstance.objects.get(pk=first["id"]).version.version == 1


def test_bpmnlint_recommended_rules_come_back_as_warnings(api):
    from processes.bpmnlint import bpmnlint_available

    if not bpmnlint_available():
        pytest.skip("node or node_modules/bpmnlint missing (scripts/build_static.sh installs them)")
    resp = api("owner.ho").post("/api/processes/drafts/", {"key": "individual_account_opening"}, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    # The review's decision gateway (and, since the officer's step, that step's gateway too).
    join_forks = {p["element"]: p["severity"] for p in body["problems"] if "no-gateway-join-fork" in p["message"]}
    assert join_forks.get("gw_decision") == "warning", join_forks
    assert all(p["severity"] == "warning" for p in body["problems"]) and body["can_request_publish"] is True


def test_direct_upload_can_be_switched_off_so_every_version_has_four_eyes(api, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.CUSTFLOW = {**settings.CUSTFLOW, "DIRECT_DEPLOY": False}
    resp = api("owner.ho").post(
        "/api/process-definitions/", {"file": SimpleUploadedFile("t.bpmn", user_task_diagram(), "application/xml")}, format="multipart"
    )
    assert resp.status_code == 403 and resp.json()["code"] == "publish_through_draft"
    assert ProcessVersion.objects.filter(definition__key="lint_test").count() == 0


# ---- control 6: approve what you saw -----------------------------------------------------------


def _pending(owner, xml: bytes | None = None) -> dict:
    draft = create_draft(owner, xml or user_task_diagram()).json()
    assert owner.post(f"/api/processes/drafts/{draft['id']}/request-publish/").status_code == 200
    return draft


def test_approve_without_the_reviewed_hash_is_400_and_publishes_nothing(api, second_owner):
    owner, other = api("owner.ho"), api("owner2.ho")
    draft = _pending(owner)
    for body in ({}, {"comment": "同意"}, {"content_sha256": ""}, {"content_sha256": "xyz"}, {"content_sha256": "a" * 63}, {"content_sha256": ["a" * 64]}):
        resp = other.post(f"/api/processes/drafts/{draft['id']}/approve/", body, format="json")
        assert resp.status_code == 400, (body, resp.content)
        assert "content_sha256" in resp.json(), resp.content
    assert ProcessDraft.objects.get(pk=draft["id"]).status == DraftStatus.PENDING
    assert not ProcessVersion.objects.filter(definition__key="lint_test").exists()


def test_detail_shows_the_hash_of_its_text(api):
    import hashlib

    draft = create_draft(api("owner.ho"), user_task_diagram()).json()
    shown_body = api("owner.ho").get(f"/api/processes/drafts/{draft['id']}/").json()
    assert shown_body["content_sha256"] == hashlib.sha256(shown_body["bpmn_xml"].encode("utf-8")).hexdigest()


def test_xml_replaced_after_the_approver_opened_it_is_409_with_the_current_hash(api, second_owner):
    """The attack: the approver opens the pending draft; the requester swaps the XML and asks again;
    the approval (of the text the approver saw) must not publish the new text."""
    owner, other = api("owner.ho"), api("owner2.ho")
    draft = _pending(owner)
    seen = other.get(f"/api/processes/drafts/{draft['id']}/").json()
    swapped = user_task_diagram(lane="province_reviewer")
    assert owner.put(f"/api/processes/drafts/{draft['id']}/", {"bpmn_xml": swapped.decode()}, format="json").status_code == 200
    assert owner.post(f"/api/processes/drafts/{draft['id']}/request-publish/").status_code == 200

    resp = other.post(f"/api/processes/drafts/{draft['id']}/approve/", {"content_sha256": seen["content_sha256"]}, format="json")
    assert resp.status_code == 409, resp.content
    current = ProcessDraft.objects.get(pk=draft["id"])
    assert resp.json()["code"] == "stale_draft_content"
    assert resp.json()["content_sha256"] == draft_content_sha256(current) != seen["content_sha256"]
    assert current.status == DraftStatus.PENDING
    assert not ProcessVersion.objects.filter(definition__key="lint_test").exists()
    # Having reviewed the new text, the approver approves it.
    again = other.get(f"/api/processes/drafts/{draft['id']}/").json()
    assert again["content_sha256"] == resp.json()["content_sha256"]
    ok = other.post(f"/api/processes/drafts/{draft['id']}/approve/", {"content_sha256": again["content_sha256"].upper()}, format="json")
    assert ok.status_code == 201, ok.content
    version = ProcessVersion.objects.get(definition__key="lint_test")
    assert version.content_hash == again["content_sha256"] and 'name="province_reviewer"' in version.bpmn_xml


def test_a_form_edited_after_review_makes_the_approval_stale(api, second_owner):
    owner, other = api("owner.ho"), api("owner2.ho")
    draft = _pending(owner)
    seen = other.get(f"/api/processes/drafts/{draft['id']}/").json()["content_sha256"]
    form = owner.get(f"/api/processes/drafts/{draft['id']}/forms/account_opening/review/").json()["definition"]
    form["title"] = "被替换的表单"
    assert owner.put(f"/api/processes/drafts/{draft['id']}/forms/account_opening/review/", {"definition": form}, format="json").status_code == 200
    assert owner.post(f"/api/processes/drafts/{draft['id']}/request-publish/").status_code == 200
    resp = other.post(f"/api/processes/drafts/{draft['id']}/approve/", {"content_sha256": seen}, format="json")
    assert resp.status_code == 409 and resp.json()["content_sha256"] != seen
    assert not ProcessVersion.objects.filter(definition__key="lint_test").exists()


def test_modeler_page_carries_the_hash_of_the_text_it_renders(client, second_owner):
    import json as _json

    from django.contrib.auth import get_user_model

    owner = get_user_model().objects.get(username="owner.ho")
    from processes.drafts import process_draft_create, process_draft_publish_request

    draft = process_draft_create(actor=owner, key="lint_test", bpmn_xml=user_task_diagram().decode())
    process_draft_publish_request(actor=owner, draft_id=draft.pk)
    client.force_login(second_owner)
    page = client.get(f"/processes/drafts/{draft.pk}/modeler/").content.decode()
    config = _json.loads(page.split('id="modeler-config" type="application/json">')[1].split("</script>")[0])
    assert config["draft"]["content_sha256"] == draft_content_sha256(draft)
    assert f'data-content-sha256="{draft_content_sha256(draft)}"' in page


# ---- control 11: diagrams are for their owners (and compliance) ----------------------------------


def test_branch_users_cannot_read_versions_xml_or_diffs(api, second_owner):
    owner, other = api("owner.ho"), api("owner2.ho")
    draft = _pending(owner)
    assert other.post(f"/api/processes/drafts/{draft['id']}/approve/", {"content_sha256": shown(draft)}, format="json").status_code == 201
    paths = [
        "/api/process-definitions/",
        "/api/processes/lint_test/versions/",
        "/api/processes/lint_test/versions/1/",
        "/api/processes/lint_test/diff/?old=1&new=1",
        "/api/processes/drafts/",
        f"/api/processes/drafts/{draft['id']}/",
        "/api/processes/catalog/",
        "/api/processes/individual_account_opening/versions/1/",
    ]
    for username in ("reviewer.sz", "collector.sz", "officer.gd", "handler.sz"):
        for path in paths:
            resp = api(username).get(path)
            assert resp.status_code in (403, 404), (username, path, resp.status_code)
            assert b"bpmn" not in resp.content.lower(), (username, path)
    for username in ("owner.ho", "compliance.ho", "compliance.gd"):
        for path in paths:
            assert api(username).get(path).status_code == 200, (username, path)
    assert "<bpmn:definitions" in api("compliance.gd").get("/api/processes/lint_test/versions/1/").json()["bpmn_xml"]
    # Compliance reads but never writes.
    compliance = api("compliance.ho")
    assert compliance.put(f"/api/processes/drafts/{draft['id']}/", {"bpmn_xml": user_task_diagram().decode()}, format="json").status_code == 403
    assert compliance.post("/api/processes/drafts/", {"key": "lint_test"}, format="json").status_code == 403

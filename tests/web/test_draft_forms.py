"""Forms edited with a draft (issue 7 item 6): checked before saving, previewed with the task
page's fields, published into the version, and running cases keep their version's form."""

from __future__ import annotations

import copy
import json

import pytest
from rest_framework.test import APIClient

from backend.common.exceptions import ValidationFailed
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from forms.registry import form_raw
from processes.drafts import (
    draft_content_sha256,
    process_draft_approve,
    process_draft_create,
    process_draft_publish_request,
)
from processes.models import ProcessDraft, ProcessVersion
from processes.services import process_instance_start
from tasks.models import HumanTask
from tasks.services import task_complete
from tests.fixtures.diagrams import review_diagram
from tests.web.helpers import DEMO_PASSWORD, html

pytestmark = pytest.mark.django_db

FORM = "account_opening/review"


@pytest.fixture
def owners(seeded, django_user_model):
    second = user_ensure(username="owner2.ho", password=DEMO_PASSWORD, full_name="第二流程管理员")
    role_assign(user=second, role=Role.PROCESS_OWNER, org_unit=OrgUnit.objects.get(code="HO"))
    return django_user_model.objects.get(username="owner.ho"), second


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def publish(owners, draft: ProcessDraft) -> ProcessVersion:
    process_draft_publish_request(actor=owners[0], draft_id=draft.pk)
    return process_draft_approve(actor=owners[1], draft_id=draft.pk, content_sha256=draft_content_sha256(ProcessDraft.objects.get(pk=draft.pk)))


def with_risk_note() -> dict:
    """The review form with an extra required field."""
    raw = copy.deepcopy(form_raw(FORM))
    raw["schema"]["properties"]["risk_note"] = {"type": "string", "title": "风险提示说明", "minLength": 1, "maxLength": 200}
    raw["schema"]["required"] = [*raw["schema"]["required"], "risk_note"]
    raw["ui"]["order"] = [*raw["ui"]["order"], "risk_note"]
    return raw


def draft_for(owners) -> ProcessDraft:
    owner = owners[0]
    process_draft_create(actor=owner, key="review_test", bpmn_xml=review_diagram().decode())
    publish(owners, ProcessDraft.objects.get(key="review_test"))
    return process_draft_create(actor=owner, key="review_test")


def _missing_order() -> dict:
    raw = form_raw(FORM)
    return {**raw, "ui": {**raw["ui"], "order": ["decision", "no_such_field"]}}


INVALID = {
    "not_json": ("{ not json", "JSON"),
    "bad_schema": (json.dumps({"title": "x", "schema": {"type": "object", "properties": {"a": {"type": "nope"}}}, "ui": {}}), "schema"),
    "no_title": (json.dumps({"schema": {"type": "object", "properties": {}}, "ui": {}}), "title"),
    "unknown_validator": (json.dumps({**form_raw(FORM), "validator": "no.such_validator"}), "no.such_validator"),
    "order_names_missing_field": (json.dumps(_missing_order()), "no_such_field"),
    "not_an_object": ("[1, 2]", "JSON"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_definitions_are_400_with_field_messages_and_nothing_saved(owners, case):
    draft = draft_for(owners)
    text, expected = INVALID[case]
    resp = api_as(owners[0]).put(f"/api/processes/drafts/{draft.pk}/forms/{FORM}/", {"definition": text}, format="json")
    assert resp.status_code == 400, resp.content
    messages = resp.json()["definition"]
    assert messages and any(expected in m for m in messages), messages
    draft.refresh_from_db()
    assert draft.forms == {} and draft.row_version == 0


def test_oversized_definition_is_400(owners):
    draft = draft_for(owners)
    raw = form_raw(FORM)
    raw["title"] = "x" * 70_000
    resp = api_as(owners[0]).put(f"/api/processes/drafts/{draft.pk}/forms/{FORM}/", {"definition": json.dumps(raw)}, format="json")
    assert resp.status_code == 400 and resp.json()["definition"]
    assert ProcessDraft.objects.get(pk=draft.pk).forms == {}


def test_unknown_form_key_is_404(owners):
    draft = draft_for(owners)
    client = api_as(owners[0])
    assert client.get(f"/api/processes/drafts/{draft.pk}/forms/no/such_form/").status_code == 404
    assert client.get(f"/api/processes/drafts/{draft.pk}/forms/../etc/passwd/").status_code == 404


def test_edited_form_is_published_with_the_version_and_only_new_cases_use_it(owners, django_user_model):
    draft = draft_for(owners)
    city = OrgUnit.objects.get(code="GD-SZ")
    old_case = process_instance_start(actor=owners[0], key="review_test", org_unit=city, data={})

    client = api_as(owners[0])
    got = client.get(f"/api/processes/drafts/{draft.pk}/forms/{FORM}/")
    assert got.status_code == 200 and got.json()["definition"] == form_raw(FORM) and got.json()["edited"] is False
    saved = client.put(f"/api/processes/drafts/{draft.pk}/forms/{FORM}/", {"definition": with_risk_note(), "row_version": 0}, format="json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["edited"] is True and "risk_note" in saved.json()["definition"]["schema"]["properties"]
    stale = client.put(f"/api/processes/drafts/{draft.pk}/forms/{FORM}/", {"definition": with_risk_note(), "row_version": 0}, format="json")
    assert stale.status_code == 409

    # Same diagram, edited form: still a new version, carrying the form.
    v2 = publish(owners, ProcessDraft.objects.get(pk=draft.pk))
    assert v2.version == 2 and v2.metadata["forms"][FORM]["schema"]["properties"]["risk_note"]
    assert v2.bpmn_xml == ProcessVersion.objects.get(definition=v2.definition, version=1).bpmn_xml
    # The next draft starts from the published forms.
    assert FORM in process_draft_create(actor=owners[0], key="review_test").forms

    reviewer = django_user_model.objects.get(username="reviewer.sz")
    new_case = process_instance_start(actor=owners[0], key="review_test", org_unit=city, data={})
    assert new_case.version_id == v2.pk
    new_task = HumanTask.objects.get(instance=new_case, step="review", status="ready")
    with pytest.raises(ValidationFailed) as refused:
        task_complete(actor=reviewer, task_id=new_task.pk, data={"decision": "approve"})
    assert "risk_note" in refused.value.field_errors

    # The task page and the API show the version's form.
    page = html(_login("reviewer.sz").get(f"/tasks/{new_task.pk}/"))
    assert "风险提示说明" in page
    assert "risk_note" in api_as(reviewer).get(f"/api/tasks/{new_task.pk}/").json()["form_schema"]["schema"]["properties"]
    task_complete(actor=reviewer, task_id=new_task.pk, data={"decision": "approve", "risk_note": "已核实"})

    # The case started on version 1 keeps the file's form: no risk_note asked for or allowed.
    old_task = HumanTask.objects.get(instance=old_case, step="review", status="ready")
    assert "风险提示说明" not in html(_login("reviewer.sz").get(f"/tasks/{old_task.pk}/"))
    with pytest.raises(ValidationFailed) as extra:
        task_complete(actor=reviewer, task_id=old_task.pk, data={"decision": "approve", "risk_note": "x"})
    assert "risk_note" in extra.value.field_errors
    task_complete(actor=reviewer, task_id=old_task.pk, data={"decision": "approve"})


def _login(username: str):
    from django.test import Client

    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def test_preview_renders_the_task_page_fields_or_the_errors(owners, login):
    draft = draft_for(owners)
    client = login("owner.ho")
    ok = client.post(f"/processes/drafts/{draft.pk}/form-preview/", {"definition": json.dumps(with_risk_note())}, HTTP_HX_REQUEST="true")
    body = html(ok)
    assert ok.status_code == 200 and "风险提示说明" in body and "审核结论" in body and 'name="risk_note"' in body
    assert 'data-testid="form-preview-errors"' not in body
    bad = html(client.post(f"/processes/drafts/{draft.pk}/form-preview/", {"definition": json.dumps(_missing_order())}))
    assert 'data-testid="form-preview-errors"' in bad and "no_such_field" in bad and 'name="decision"' not in bad

    api = api_as(owners[0]).post(f"/api/processes/drafts/{draft.pk}/forms/preview/", {"definition": with_risk_note()}, format="json")
    assert api.status_code == 200 and "风险提示说明" in [f["label"] for f in api.json()["fields"]]
    api_bad = api_as(owners[0]).post(f"/api/processes/drafts/{draft.pk}/forms/preview/", {"definition": "{"}, format="json")
    assert api_bad.status_code == 400 and api_bad.json()["definition"]


def test_editor_page_prefills_saves_and_refuses_invalid(owners, login):
    draft = draft_for(owners)
    client = login("owner.ho")
    modeler = html(client.get(f"/processes/drafts/{draft.pk}/modeler/"))
    assert f"/processes/drafts/{draft.pk}/forms/" in modeler
    page = client.get(f"/processes/drafts/{draft.pk}/forms/{FORM}/")
    body = html(page)
    assert page.status_code == 200 and 'data-testid="form-definition"' in body and "客户信息审核" in body and "审核结论" in body
    bad = client.post(f"/processes/drafts/{draft.pk}/forms/{FORM}/", {"definition": "{"})
    assert bad.status_code == 400 and "JSON" in html(bad)
    assert ProcessDraft.objects.get(pk=draft.pk).forms == {}
    good = client.post(f"/processes/drafts/{draft.pk}/forms/{FORM}/", {"definition": json.dumps(with_risk_note())})
    assert good.status_code == 302
    assert "risk_note" in ProcessDraft.objects.get(pk=draft.pk).forms[FORM]["schema"]["properties"]
    assert "风险提示说明" in html(client.get(f"/processes/drafts/{draft.pk}/forms/{FORM}/"))


def test_only_process_owners_edit_forms(owners, login):
    draft = draft_for(owners)
    reviewer = api_as(owners[0].__class__.objects.get(username="reviewer.sz"))
    url = f"/api/processes/drafts/{draft.pk}/forms/{FORM}/"
    assert reviewer.get(url).status_code == 403
    assert reviewer.put(url, {"definition": with_risk_note()}, format="json").status_code == 403
    assert reviewer.post(f"/api/processes/drafts/{draft.pk}/forms/preview/", {"definition": with_risk_note()}, format="json").status_code == 403
    web = login("reviewer.sz")
    assert web.get(f"/processes/drafts/{draft.pk}/forms/{FORM}/").status_code == 403
    assert web.post(f"/processes/drafts/{draft.pk}/forms/{FORM}/", {"definition": json.dumps(with_risk_note())}).status_code == 403
    assert web.post(f"/processes/drafts/{draft.pk}/form-preview/", {"definition": "{}"}).status_code == 403
    assert ProcessDraft.objects.get(pk=draft.pk).forms == {}

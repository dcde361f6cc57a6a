"""Process owners' pages: drafts, the modeler page, versions with diff and batch migration, and
an instance on its diagram (completed / current / overdue / failed, timeline, masked data)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from processes.drafts import (
    draft_content_sha256,
    process_draft_approve,
    process_draft_create,
    process_draft_publish_request,
)
from processes.models import ProcessDraft, ProcessIncident, ProcessInstance
from processes.services import process_instance_start
from tasks.models import HumanTask
from tasks.services import task_complete
from tests.fixtures.diagrams import review_diagram
from tests.web.helpers import DEMO_PASSWORD, html

pytestmark = pytest.mark.django_db


@pytest.fixture
def owners(seeded, django_user_model):
    second = user_ensure(username="owner2.ho", password=DEMO_PASSWORD, full_name="第二流程管理员")
    role_assign(user=second, role=Role.PROCESS_OWNER, org_unit=OrgUnit.objects.get(code="HO"))
    return django_user_model.objects.get(username="owner.ho"), second


def publish(owners, xml: bytes):
    owner, second = owners
    draft = process_draft_create(actor=owner, key="review_test", bpmn_xml=xml.decode())
    process_draft_publish_request(actor=owner, draft_id=draft.pk)
    return process_draft_approve(actor=second, draft_id=draft.pk, content_sha256=draft_content_sha256(ProcessDraft.objects.get(pk=draft.pk)))


def config(body: str, element_id: str) -> dict:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', body, re.S)
    assert found, element_id
    return json.loads(found.group(1))


def test_drafts_page_creates_a_draft_and_opens_the_modeler(login, owners):
    publish(owners, review_diagram())
    client = login("owner.ho")
    resp = client.post("/processes/drafts/new/", {"key": "review_test"})
    assert resp.status_code == 302 and "/modeler/" in resp["Location"]
    page = client.get(resp["Location"])
    assert page.status_code == 200
    cfg = config(html(page), "modeler-config")
    assert cfg["draft"]["status"] == "draft" and 'id="review"' in cfg["draft"]["bpmn_xml"]
    assert {"city_reviewer", "province_reviewer"} <= {lane["name"] for lane in cfg["catalog"]["lanes"]}
    assert "account_opening/review" in {f["key"] for f in cfg["catalog"]["forms"]}
    assert "customers.activate_customer" in {o["name"] for o in cfg["catalog"]["operations"]}
    assert 'data-testid="modeler-save"' in html(page)
    bad = client.post("/processes/drafts/new/", {"key": "no spaces allowed"})
    assert bad.status_code == 400
    assert login("reviewer.sz").get(resp["Location"]).status_code == 403


def test_versions_page_diff_and_migration_dry_run(login, owners):
    v1 = publish(owners, review_diagram())
    instance = process_instance_start(actor=owners[0], key="review_test", org_unit=OrgUnit.objects.get(code="GD-SZ"), data={})
    publish(owners, review_diagram(deadline_timer='"PT72H"'))
    client = login("owner.ho")
    body = html(client.get("/processes/review_test/versions/"))
    assert 'data-testid="version-diff"' in body and "code:timeDuration" in body and "PT72H" in body
    # The migration panel is on the page once, and the title and nav blocks hold only their text.
    assert body.count('data-testid="migrate-dry-run"') == 1
    assert "<title>流程版本 · review_test" in body and 'class="active"' in body
    dry = client.post("/processes/review_test/migrate/", {"from_version": "1", "target_version": "2", "run": "0"})
    assert dry.status_code == 200
    assert 'data-outcome="can_move"' in html(dry) and f"#{instance.pk}" in html(dry)
    assert 'data-testid="migration-summary-can_move">可迁移: 1<' in html(dry)
    assert ProcessInstance.objects.get(pk=instance.pk).version_id == v1.pk
    run = client.post("/processes/review_test/migrate/", {"instances": str(instance.pk), "target_version": "2", "run": "1"})
    assert 'data-outcome="migrated"' in html(run)
    assert ProcessInstance.objects.get(pk=instance.pk).version.version == 2
    bad = client.post("/processes/review_test/migrate/", {"instances": "x", "target_version": "2", "run": "1"})
    assert bad.status_code == 400


def test_instance_view_marks_elements_and_masks_data(login, owners, django_user_model):
    publish(owners, review_diagram())
    city = OrgUnit.objects.get(code="GD-SZ")
    done = process_instance_start(actor=owners[0], key="review_test", org_unit=city, data={"phone": "+8613812345678"})
    task = HumanTask.objects.get(instance=done, step="review", status="ready")
    reviewer = login("reviewer.sz")
    task_complete(actor=django_user_model.objects.get(username="reviewer.sz"), task_id=task.pk, data={"decision": "approve"})
    late = process_instance_start(actor=owners[0], key="review_test", org_unit=city, data={"phone": "+8613812345678"})
    HumanTask.objects.filter(instance=late, status="ready").update(due_at=timezone.now() - timedelta(hours=1))
    ProcessIncident.objects.create(instance=late, element="review_deadline", source="timer", message="script stopped", last_seen_at=timezone.now())

    finished = config(html(reviewer.get(f"/processes/instances/{done.pk}/")), "instance-config")
    assert finished["completed"] == ["end_ok", "review"] and finished["current"] == []
    body = html(reviewer.get(f"/processes/instances/{late.pk}/"))
    running = config(body, "instance-config")
    assert running["current"] == ["review"] and running["overdue"] == ["review"] and running["failed"] == ["review_deadline"]
    assert "13812345678" not in body
    assert "138****5678" in body
    assert 'data-testid="incidents"' in body
    # Another branch cannot see it.
    assert login("reviewer.hz").get(f"/processes/instances/{late.pk}/").status_code == 404


def test_instance_diagram_only_for_the_people_of_the_case(login, owners, django_user_model):
    """Control 11: the diagram picture of a case is for its people (starter, task holders and
    candidates) and for process owners and compliance; others in the same branch get 404."""
    publish(owners, review_diagram())
    city = OrgUnit.objects.get(code="GD-SZ")
    case = process_instance_start(actor=django_user_model.objects.get(username="collector.sz"), key="review_test", org_unit=city, data={})
    url = f"/processes/instances/{case.pk}/"
    for username in ("collector.sz", "reviewer.sz", "owner.ho", "compliance.gd", "compliance.ho"):
        assert login(username).get(url).status_code == 200, username
    for username in ("officer.sz", "handler.sz", "reviewer.gd", "officer.gd", "reviewer.gz"):
        assert login(username).get(url).status_code == 404, username
    # Whoever did a step keeps seeing the case once it moved on.
    task = HumanTask.objects.get(instance=case, status="ready")
    task_complete(actor=django_user_model.objects.get(username="reviewer.sz"), task_id=task.pk, data={"decision": "approve"})
    assert login("reviewer.sz").get(url).status_code == 200


def test_versions_and_definitions_are_not_for_branch_users(login, owners):
    publish(owners, review_diagram())
    for username in ("reviewer.sz", "collector.sz", "handler.sz", "officer.gd"):
        client = login(username)
        for path in ("/processes/", "/processes/review_test/versions/", "/processes/drafts/"):
            assert client.get(path).status_code == 403, (username, path)
    assert login("compliance.gd").get("/processes/review_test/versions/").status_code == 200

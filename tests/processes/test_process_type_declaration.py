"""A process type is declared once (processes/types.py): a throwaway 退保 surrender type in a
temporary package — one module plus its bpmn/ and forms/ files — shows up in the inbox, on the
task page, in the task API and in the SLA report without an edit anywhere else."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

import backend.organisation.lanes as lanes_module
import forms.registry as forms_registry
import processes.registry as operation_registry
import processes.types as types_module
from backend.organisation.models import OrgUnit
from processes.checks import process_types_check
from processes.models import ProcessDefinition
from processes.services import process_instance_start
from tasks.models import HumanTask, TaskStatus
from tests.web.helpers import DEMO_PASSWORD

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "process_types" / "custflow_surrender"


@pytest.fixture
def registries(monkeypatch):
    """Registries as they are, restored after the test (the throwaway type leaves no trace)."""
    monkeypatch.setattr(types_module, "_TYPES", dict(types_module._TYPES))
    monkeypatch.setattr(lanes_module, "_DECLARED", dict(lanes_module._DECLARED))
    monkeypatch.setattr(forms_registry, "_FORM_DIRS", dict(forms_registry._FORM_DIRS))
    monkeypatch.setattr(forms_registry, "_VALIDATORS", dict(forms_registry._VALIDATORS))
    monkeypatch.setattr(operation_registry, "_OPERATIONS", dict(operation_registry._OPERATIONS))
    yield
    forms_registry.form_get.cache_clear()


@pytest.fixture
def surrender(tmp_path, monkeypatch, registries):
    """The example package copied into a temporary folder on sys.path, imported and registered."""
    package = tmp_path / "custflow_surrender"
    shutil.copytree(EXAMPLE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("custflow_surrender")
    monkeypatch.delitem(__import__("sys").modules, "custflow_surrender")
    module.register()
    return module


def test_the_type_is_one_package_of_at_most_six_files(surrender):
    files = sorted(
        p.relative_to(EXAMPLE.parent)
        for p in EXAMPLE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert len(files) <= 6, files
    assert {p.parts[1] for p in files} <= {"__init__.py", "bpmn", "forms"}
    assert types_module.process_type_get("surrender").label == "退保"
    assert process_types_check() == []  # the declaration matches its diagram


def test_surrender_shows_in_inbox_task_page_and_sla_report(surrender, client, django_user_model):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # seeding deploys the declared diagram
    assert ProcessDefinition.objects.filter(key="surrender").exists()
    collector = django_user_model.objects.get(username="collector.sz")
    surrender.REQUESTS[7] = {"policy_no": "P-2026-0007", "reason": "资金周转", "status": "pending"}
    process_instance_start(
        actor=collector,
        key="surrender",
        org_unit=OrgUnit.objects.get(code="GD-SZ"),
        data={},
        subject_type="surrender.request",
        subject_id=7,
    )
    task = HumanTask.objects.get(process_key="surrender", status=TaskStatus.READY)
    assert task.lane == "surrender_reviewer" and task.due_at is not None

    # Inbox: the reviewer at the city branch sees the task, and the type in the process filter.
    assert client.login(username="reviewer.sz", password=DEMO_PASSWORD)
    inbox = client.get("/inbox/").content.decode()
    assert f'data-testid="task-link-{task.pk}"' in inbox
    assert re.search(r'<option value="surrender"[^>]*>\s*退保\s*</option>', inbox)

    # Task page: the case section from the type's case view, the form from its forms/ folder.
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "P-2026-0007" in page and "资金周转" in page
    assert "同意退保" in page and "审核意见" in page
    # Task API: the same case view and form.
    api = APIClient()
    api.force_authenticate(django_user_model.objects.get(username="reviewer.sz"))
    detail = api.get(f"/api/tasks/{task.pk}/").json()
    assert detail["case"]["rows"][0] == {"label": "保单号", "value": "P-2026-0007"}
    assert detail["form_schema"]["title"] == "退保审核"

    response = client.post(f"/tasks/{task.pk}/", {"decision": "approve", "comment": "同意"})
    assert response.status_code == 302
    assert surrender.REQUESTS[7]["status"] == "surrendered"  # the declared operation ran

    # SLA report: a row for the type, under its declared name.
    client.logout()
    assert client.login(username="compliance.gd", password=DEMO_PASSWORD)
    today = timezone.localdate()
    report = client.get(
        f"/reports/sla/?from={today - dt.timedelta(days=1)}&to={today + dt.timedelta(days=10)}&group_by=process"
    )
    assert report.status_code == 200
    row = re.search(r"<td>退保</td>\s*<td><a href=\"([^\"]+)\">(\d+)</a></td>", report.content.decode())
    assert row and row.group(2) == "1"  # the one completed review, counted under the type's name


def test_a_declaration_that_contradicts_its_diagram_is_reported(surrender, monkeypatch):
    from dataclasses import replace

    monkeypatch.setitem(types_module._TYPES, "surrender", replace(surrender.SURRENDER, operations=()))
    errors = process_types_check()
    assert [e.id for e in errors] == ["custflow.E003"]
    assert "surrender.apply" in errors[0].msg

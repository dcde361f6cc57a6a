"""Every case model extends the one case base and keeps its own table: the declared process
types' case models subclass CaseBase, their case type is their label, and the model state
matches the migrations (no column added or dropped by the base)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from backend.common.cases import CaseBase
from processes.types import process_types


def test_every_declared_case_model_extends_the_case_base():
    from django.apps import apps

    models = {t.case_model for t in process_types()}
    # Every model a process instance works on (a process_instance link) is a declared case model.
    linked = {
        m
        for m in apps.get_models()
        if any(
            f.name == "process_instance"
            and f.related_model is not None
            and f.related_model._meta.label == "processes.ProcessInstance"
            for f in m._meta.get_fields()
        )
    }
    assert linked <= models, sorted(m.__name__ for m in linked - models)
    assert len(models) >= 11, sorted(m.__name__ for m in models)  # the ten of the first issues + 证件到期更新
    for model in models:
        assert issubclass(model, CaseBase), model
        assert model._meta.get_field("org_unit").related_model._meta.label == "organisation.OrgUnit"
        assert (
            model._meta.get_field("process_instance").related_model._meta.label == "processes.ProcessInstance"
        )
        for name in filter(None, (model.SUBMITTER_FIELD, model.STATUS_FIELD)):
            model._meta.get_field(name)  # the declared field names exist


def test_case_type_is_what_the_declaration_says():
    for process_type in process_types():
        assert process_type.case_model()._meta.label_lower == process_type.case_type
        assert process_type.case_model().case_type == process_type.case_type


@pytest.mark.django_db
def test_the_base_changes_no_table():
    out = io.StringIO()
    call_command(
        "makemigrations",
        "customers",
        "policies",
        "integrations",
        "complaints",
        "--check",
        "--dry-run",
        stdout=out,
    )
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_submitter_and_status_read_the_cases_own_fields(users):
    from tests.web.helpers import resident_id, submit_opening

    opening = submit_opening()
    assert opening.submitter == opening.submitted_by
    assert opening.case_status == ""  # an opening's status is its customer's
    from backend.customers.blacklist import blacklist_add_request

    change = blacklist_add_request(
        actor=users["officer.sz"],
        id_type="resident_id",
        id_number=resident_id(seq=777),
        reason="测试",
        source="公安",
    )
    assert change.submitter == users["officer.sz"] and change.case_status == "pending"

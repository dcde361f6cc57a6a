"""The inbox rows' case columns come from the process types' declarations (processes/types.py
`InboxRow`, defaults from the case base): every registered type's paths are real lookups on its
case model, the search's subqueries are valid SQL, and names are masked by the masking rule."""

from __future__ import annotations

import pytest

from backend.organisation import privacy
from processes.types import process_type_get, process_type_inbox_row, process_types
from tasks.inbox import inbox_params_clean, task_search_q
from tasks.models import HumanTask

pytestmark = pytest.mark.django_db


def test_every_type_reads_its_row_from_its_own_case_model():
    checked = 0
    for process_type in process_types():
        if process_type.case_model is None:
            continue
        row = process_type_inbox_row(process_type)
        paths = [p for p in (row.number, row.customer_name) if p]
        paths += [f"{row.submitter}__username"] if row.submitter else []
        # A wrong path raises FieldError here.
        list(process_type.case_model._default_manager.values("pk", *paths)[:1])
        checked += 1
    assert checked >= 10
    assert HumanTask.objects.filter(task_search_q("张三")).count() == 0
    assert HumanTask.objects.filter(task_search_q("#12")).count() == 0


def test_declared_and_default_rows():
    opening = process_type_inbox_row(process_type_get("individual_account_opening"))
    assert (opening.number, opening.customer_name, opening.submitter) == ("", "customer__name", "submitted_by")
    complaint = process_type_inbox_row(process_type_get("complaint_handling"))
    assert (complaint.number, complaint.customer_name, complaint.submitter) == ("number", "complainant_name", "created_by")
    endorsement = process_type_inbox_row(process_type_get("endorsement"))
    assert endorsement.customer_name == "policy__policyholder__name"


@pytest.mark.parametrize(("name", "masked"), [("张三", "张*"), ("张三丰", "张*丰"), ("欧阳娜娜", "欧**娜"), ("王", "*"), ("", "")])
def test_names_are_masked_by_the_masking_rule(name, masked):
    assert privacy.masked("customer_name", name) == masked


def test_params_are_bounded_and_fall_back():
    params = inbox_params_clean({"q": "\x00 王" + "测" * 300, "tab": "x", "sort": "y"})
    assert (params.tab, params.sort, len(params.q), params.q[:2]) == ("all", "due", 100, "王测")

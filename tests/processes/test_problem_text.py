"""Issue 17 item 6: problems reach the process owner in Chinese, never as a Python exception's text."""

from __future__ import annotations

import logging

import pytest

from backend.organisation.services import user_ensure
from processes.bpmnlint import bpmnlint_message
from processes.drafts import process_draft_create
from processes.engine import Problem
from processes.problem_text import problem_for_owner
from tests.fixtures.diagrams import script_diagram

pytestmark = pytest.mark.django_db


def test_an_exception_text_from_the_engine_becomes_a_generic_sentence_and_is_logged(caplog):
    raw = Problem("cannot parse the diagram: KeyError: 'bpmn:process'", element="task", line=7)
    with caplog.at_level(logging.WARNING, logger="processes.problem_text"):
        shown = problem_for_owner(raw)
    assert (
        shown.message
        == "流程图的这一部分无法被流程引擎接受,请检查它的设置(详细原因已记录,可联系管理员)(第 7 行)"
    )
    assert (shown.element, shown.line, shown.severity) == ("task", 7, "error")
    assert "KeyError: 'bpmn:process'" in caplog.text


@pytest.mark.parametrize(
    "message, expected",
    [
        ("not well-formed XML: Opening and ending tag mismatch", "XML 格式不正确"),
        ('no executable process (a bpmn:process with isExecutable="true")', "图中没有可执行的流程"),
        ("script refused: name '__import__' is not allowed", "脚本未通过安全检查"),
        ("XML schema: Element 'bpmn:task': This element is not expected.", "元素不符合 BPMN 2.0 规范"),
    ],
)
def test_known_engine_messages_have_chinese_sentences(message, expected):
    shown = problem_for_owner(Problem(message, element="x"))
    assert shown.message.startswith(expected) and "Error" not in shown.message, shown.message


def test_our_own_chinese_messages_pass_unchanged():
    problem = Problem("表单“x”不存在", element="task")
    assert problem_for_owner(problem) is problem


def test_bpmnlint_reports_are_chinese_with_the_rule_name():
    assert (
        bpmnlint_message("label-required", "Element is missing label/name")
        == "元素缺少名称(bpmnlint label-required)"
    )
    assert bpmnlint_message("global", "Element is unused") == "全局元素未被使用(bpmnlint global)"
    # bpmnlint's own crash (rule "bpmnlint", an exception's text): a generic sentence.
    assert (
        bpmnlint_message("bpmnlint", "TypeError: cannot read properties of undefined")
        == "建模规范检查提示(bpmnlint bpmnlint)"
    )


def test_a_draft_lists_the_engine_problems_in_chinese():
    owner = user_ensure(username="owner.ho", password="x-Passw0rd-x", full_name="流程管理员")
    from backend.organisation.models import OrgUnit, Role
    from backend.organisation.services import role_assign

    unit = OrgUnit.objects.filter(parent__isnull=True).first() or OrgUnit.objects.create(
        code="HO", name="总公司", level="head_office"
    )
    role_assign(user=owner, role=Role.PROCESS_OWNER, org_unit=unit)
    draft = process_draft_create(
        actor=owner, key="script_test", bpmn_xml=script_diagram("x = ().__class__").decode()
    )
    messages = [p["message"] for p in draft.problems]
    assert messages and all("refused" not in m and "Error" not in m for m in messages), messages
    assert any(m.startswith("脚本未通过安全检查") for m in messages), messages

"""parse_diagram: facts about a good diagram, every problem of a bad one, never another exception."""

import json
from dataclasses import asdict

import pytest
from lxml import etree

from processes.engine import Diagram, DiagramError, Problem, parse_diagram
from tests.processes.engine.engine_support import MODELS, SHIPPED

BPMN_NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
}


def problems_of(data: bytes) -> list[Problem]:
    with pytest.raises(DiagramError) as caught:
        parse_diagram(data)
    return caught.value.problems


def test_shipped_diagram_facts():
    diagram = parse_diagram(SHIPPED.read_bytes(), SHIPPED.name)

    assert isinstance(diagram, Diagram)
    assert (diagram.process_key, diagram.name) == ("individual_account_opening", "个人客户开户")
    assert diagram.lanes == ["collector", "city_reviewer", "province_reviewer", "system"]
    assert diagram.user_tasks == [
        {
            "id": "review",
            "name": "客户信息审核",
            "lane": "city_reviewer",
            "properties": {"form": "account_opening/review", "deadline": "review"},
        },
        {
            "id": "province_review",
            "name": "省级审核",
            "lane": "province_reviewer",
            "properties": {"form": "account_opening/review"},
        },
        {
            "id": "fix_submission",
            "name": "修改并重新提交",
            "lane": "collector",
            "properties": {"form": "account_opening/fix_submission"},
        },
    ]
    assert [(s["id"], s["operation"], s["params"]) for s in diagram.service_tasks] == [
        ("run_checks", "customers.run_opening_checks", {"case_id": "case_id"}),
        ("send_reminder", "tasks.send_reminder", {"task": '"review"'}),
        ("escalate", "tasks.record_escalation", {"task": '"review"'}),
        ("activate", "customers.activate_customer", {"case_id": "case_id"}),
        ("reject", "customers.reject_opening", {"case_id": "case_id"}),
        ("mark_returned", "customers.return_opening", {"case_id": "case_id"}),
        ("resubmit", "customers.resubmit_opening", {"case_id": "case_id"}),
    ]
    assert all(s["name"] for s in diagram.service_tasks)
    assert diagram.timers == [
        {
            "id": "review_reminder",
            "name": "审核催办",
            "expression": 'reminder_after("review", "PT48H")',
            "kind": "duration",
            "attached_to": "review",
            "interrupting": False,
        },
        {
            "id": "review_deadline",
            "name": "审核超时",
            "expression": 'deadline("review", "PT48H")',
            "kind": "duration",
            "attached_to": "review",
            "interrupting": True,
        },
    ]
    assert diagram.gateways == [
        {
            "id": "gw_level",
            "name": "信息程度?",
            "type": "exclusive",
            "has_default": True,
            "conditions": ['info_level == "primary"'],
            "outgoing": 2,
        },
        {
            "id": "gw_decision",
            "name": "审核结论?",
            "type": "exclusive",
            "has_default": False,
            "conditions": ['decision == "approve"', 'decision == "reject"', 'decision == "return"'],
            "outgoing": 3,
        },
    ]
    assert json.loads(json.dumps(diagram.spec)) == diagram.spec
    assert set(diagram.spec) == {"spec", "subprocess_specs"}


def test_shipped_diagram_has_a_shape_for_every_element():
    root = etree.fromstring(SHIPPED.read_bytes())
    process = root.find("bpmn:process", BPMN_NS)
    elements = {
        node.get("id")
        for node in process.iter()
        if isinstance(node.tag, str)
        and node.get("id")
        and node.getparent() is process
        and not node.tag.endswith("laneSet")
    }
    elements |= {lane.get("id") for lane in process.iterfind(".//bpmn:lane", BPMN_NS)}
    drawn = {node.get("bpmnElement") for node in root.iterfind(".//bpmndi:BPMNShape", BPMN_NS)}
    drawn |= {node.get("bpmnElement") for node in root.iterfind(".//bpmndi:BPMNEdge", BPMN_NS)}

    assert elements - drawn == set()


def test_other_executable_processes_are_callable_subprocesses():
    diagram = parse_diagram((MODELS / "call_activity.bpmn").read_bytes())

    assert diagram.process_key == "call_activity"
    assert set(diagram.spec["subprocess_specs"]) == {"called_process"}
    assert [t["id"] for t in diagram.user_tasks] == ["after", "called_task"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "the file is empty"),
        (b"  \n ", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not well-formed XML"),
        (b"<html><body>hi</body></html>", "root element must be bpmn:definitions"),
        ("<a/>", "must be bytes"),
    ],
)
def test_unreadable_input_gives_one_clear_problem(data, message):
    [problem] = problems_of(data)
    assert message in problem.message


def test_no_executable_process():
    data = SHIPPED.read_bytes().replace(b'isExecutable="true"', b'isExecutable="false"')
    assert any("no executable process" in p.message for p in problems_of(data))


def test_every_problem_is_listed_with_element_and_line():
    data = (
        SHIPPED.read_bytes()
        .replace(b'decision == "reject"', b'decision = = "reject"')
        .replace(b'reminder_after("review", "PT48H")', b"reminder_after(")
        .replace(b'cancelActivity="true"', b'cancelActivity="sometimes"')
    )
    problems = problems_of(data)

    by_element = {p.element: p for p in problems}
    assert set(by_element) >= {"flow_decision_reject", "review_reminder", "review_deadline"}
    assert "XML schema" in by_element["review_deadline"].message
    assert all(p.line for p in problems)
    json.dumps([asdict(p) for p in problems])


def test_structural_problems_come_from_the_spiff_parser():
    text = SHIPPED.read_text()
    begin = text.index('<spiffworkflow:serviceTaskOperator id="customers.activate_customer">')
    finish = text.index("</spiffworkflow:serviceTaskOperator>", begin) + len(
        "</spiffworkflow:serviceTaskOperator>"
    )
    [problem] = problems_of((text[:begin] + text[finish:]).encode())

    assert (problem.element, problem.message) == ("activate", "A Service Task must have an operator")
    assert problem.line


def test_missing_called_process_is_reported():
    data = (
        (MODELS / "call_activity.bpmn")
        .read_bytes()
        .replace(b'calledElement="called_process"', b'calledElement="nowhere"')
    )
    [problem] = problems_of(data)
    assert "nowhere" in problem.message


def test_service_parameter_without_value_is_reported():
    data = SHIPPED.read_bytes().replace(b'type="str" value="case_id" />', b'type="str" />', 1)
    problems = problems_of(data)
    assert [(p.element, p.message) for p in problems] == [
        ("run_checks", "a service parameter needs id and value attributes")
    ]


def test_diagram_error_message_names_elements():
    data = SHIPPED.read_bytes().replace(b'decision == "reject"', b"import os")
    with pytest.raises(DiagramError, match=r"\[flow_decision_reject\] line \d+: expression refused"):
        parse_diagram(data)


def test_pre_and_post_scripts_on_a_script_task_are_reported_as_ignored():
    data = (
        (MODELS / "exclusive_loop.bpmn")
        .read_bytes()
        .replace(
            b'<bpmn:scriptTask id="count">',
            b'<bpmn:scriptTask id="count"><bpmn:extensionElements><spiffworkflow:preScript>x = 1</spiffworkflow:preScript>'
            b"</bpmn:extensionElements>",
        )
    )
    [problem] = problems_of(data)
    assert (problem.element, problem.message) == (
        "count",
        "preScript on a script task is ignored by the engine; put the code in the script",
    )

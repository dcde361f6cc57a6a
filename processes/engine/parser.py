"""Diagram validation and parsing: bytes in, a ``Diagram`` (JSON-able spec + facts) or ``DiagramError`` out."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent, EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from .errors import DiagramError, Problem
from .sandbox import compile_problems
from .serializer import spec_to_dict
from .specs import Parser, ServiceTask

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
MAX_BYTES = 5_000_000
_XSD_LOCK = threading.Lock()
# A DOCTYPE can only come before the root element: after the XML declaration, comments and PIs.
_DOCTYPE = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*<!DOCTYPE", re.S | re.I)

# (xpath to the element holding code, compile mode, where the code is: None = element text, else attribute)
_CODE_LOCATIONS = [
    ("//bpmn:scriptTask/bpmn:script", "exec", None),
    ("//spiffworkflow:preScript", "exec", None),
    ("//spiffworkflow:postScript", "exec", None),
    ("//bpmn:sequenceFlow/bpmn:conditionExpression", "eval", None),
    ("//bpmn:timerEventDefinition/*", "eval", None),
    ("//bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality", "eval", None),
    ("//bpmn:multiInstanceLoopCharacteristics/bpmn:completionCondition", "eval", None),
    ("//bpmn:standardLoopCharacteristics/bpmn:loopCondition", "eval", None),
    ("//bpmn:adHocSubProcess/bpmn:completionCondition", "eval", None),
    ("//bpmn:conditionalEventDefinition/bpmn:condition", "eval", None),
    ("//bpmn:correlationPropertyRetrievalExpression/*", "eval", None),
    ("//spiffworkflow:messagePayload", "eval", None),
    ("//spiffworkflow:payloadExpression", "eval", None),
    ("//spiffworkflow:parameter", "eval", "value"),
]


@dataclass(frozen=True)
class Diagram:
    process_key: str
    name: str
    spec: dict
    user_tasks: list[dict]
    service_tasks: list[dict]
    timers: list[dict]
    lanes: list[str]
    gateways: list[dict]


def parse_diagram(data: bytes, filename: str = "diagram.bpmn") -> Diagram:
    """Validate and parse one BPMN file; raise ``DiagramError`` listing every problem found."""
    try:
        return _parse(data, filename)
    except DiagramError:
        raise
    except Exception as exc:  # the promise: never another exception type
        raise DiagramError([Problem(f"cannot read the diagram: {type(exc).__name__}: {exc}")]) from None


def _parse(data: bytes, filename: str) -> Diagram:
    tree = _read_xml(data)
    problems = _schema_problems(tree) + _code_problems(tree)
    parser = Parser(validator=None)
    process_key, spec, subprocess_specs = None, None, {}
    try:
        parser.add_bpmn_xml(tree, filename)
        executable = parser.get_process_ids()
        if not executable:
            problems.append(Problem('no executable process (a bpmn:process with isExecutable="true")'))
        else:
            process_key = executable[0]
            spec = parser.get_spec(process_key)
            subprocess_specs = parser.get_subprocess_specs(process_key)
    except ValidationException as exc:
        line = exc.line_number if isinstance(exc.line_number, int) else _line_of(tree, exc.id)
        problems.append(
            Problem(str(exc.args[0]) if exc.args else str(exc), element=exc.id or None, line=line)
        )
    except Exception as exc:
        problems.append(Problem(f"cannot parse the diagram: {type(exc).__name__}: {exc}"))
    if problems or spec is None:
        raise DiagramError(_unique(problems))
    specs = [spec, *subprocess_specs.values()]
    order = {
        node.get("id"): i
        for i, node in enumerate(tree.iter())
        if isinstance(node.tag, str) and node.get("id")
    }
    task_specs = sorted(
        (ts for s in specs for ts in s.task_specs.values() if getattr(ts, "bpmn_id", None)),
        key=lambda ts: order.get(ts.bpmn_id, len(order)),
    )
    return Diagram(
        process_key=process_key,
        name=spec.description or process_key,
        spec=spec_to_dict(spec, subprocess_specs),
        user_tasks=[_user_task(ts) for ts in task_specs if ts.manual],
        service_tasks=[_service_task(ts) for ts in task_specs if isinstance(ts, ServiceTask)],
        timers=[_timer(ts) for ts in task_specs if _is_timer(ts)],
        lanes=_unique(lane.get("name") for lane in tree.iterfind(".//bpmn:lane", NS) if lane.get("name")),
        gateways=[_gateway(ts) for ts in task_specs if _gateway_type(ts)],
    )


def _read_xml(data: bytes) -> etree._Element:
    if not isinstance(data, (bytes, bytearray)):
        raise DiagramError([Problem(f"a diagram must be bytes, not {type(data).__name__}")])
    if not data.strip():
        raise DiagramError([Problem("the file is empty")])
    if len(data) > MAX_BYTES:
        raise DiagramError([Problem(f"the file is larger than {MAX_BYTES} bytes")])
    if _DOCTYPE.match(bytes(data)):
        # Entity expansion (billion laughs) and external entities both need a DTD: refuse any.
        raise DiagramError([Problem("DOCTYPE declarations are not allowed in diagrams (entities, external references)")])
    safe = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(bytes(data), safe)
    except etree.XMLSyntaxError as exc:
        raise DiagramError([Problem(f"not well-formed XML: {exc.msg}", line=exc.lineno or None)]) from None
    if root.getroottree().docinfo.doctype:
        raise DiagramError([Problem("DOCTYPE declarations are not allowed in diagrams")])
    if root.tag != f"{{{BPMN}}}definitions":
        raise DiagramError(
            [Problem("not a BPMN 2.0 file: the root element must be bpmn:definitions", line=root.sourceline)]
        )
    return root


def _line_of(root, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def _owner_id(node) -> str | None:
    while node is not None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag.startswith(f"{{{BPMN}}}") and node.get("id") and not tag.endswith("Definition"):
            return node.get("id")
        node = node.getparent()
    return None


def _schema_problems(root) -> list[Problem]:
    ids_by_line = {}
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id"):
            ids_by_line.setdefault(node.sourceline, node.get("id"))
    with _XSD_LOCK:
        VALIDATOR.preprocess(root)
        VALIDATOR.validator.validate(root)
        errors = list(VALIDATOR.validator.error_log)
    return [
        Problem(f"XML schema: {e.message}", element=ids_by_line.get(e.line), line=e.line or None)
        for e in errors
    ]


def _code_problems(root) -> list[Problem]:
    problems = [
        Problem(
            f"{etree.QName(node).localname} on a script task is ignored by the engine; put the code in the script",
            _owner_id(node),
            node.sourceline,
        )
        for node in root.xpath(
            "//bpmn:scriptTask/bpmn:extensionElements/*[self::spiffworkflow:preScript or self::spiffworkflow:postScript]",
            namespaces=NS,
        )
    ]
    for path, mode, attribute in _CODE_LOCATIONS:
        for node in root.xpath(path, namespaces=NS):
            source = node.get(attribute) if attribute else node.text
            if attribute == "value" and (node.get("id") is None or source is None):
                problems.append(
                    Problem(
                        "a service parameter needs id and value attributes", _owner_id(node), node.sourceline
                    )
                )
                continue
            if source is None or not source.strip():
                if mode == "eval":
                    problems.append(
                        Problem(
                            f"empty expression in {etree.QName(node).localname}",
                            _owner_id(node),
                            node.sourceline,
                        )
                    )
                continue
            kind = "script" if mode == "exec" else "expression"
            for message in compile_problems(source, mode):
                problems.append(
                    Problem(f"{kind} refused: {message}", element=_owner_id(node), line=node.sourceline)
                )
    return problems


def _unique(items) -> list:
    seen, result = set(), []
    for item in items:
        key = repr(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


def _user_task(ts) -> dict:
    properties = (getattr(ts, "extensions", None) or {}).get("properties", {})
    return {"id": ts.bpmn_id, "name": ts.bpmn_name, "lane": ts.lane, "properties": dict(properties)}


def _service_task(ts) -> dict:
    params = {name: param["value"] for name, param in ts.operation_params.items()}
    return {"id": ts.bpmn_id, "name": ts.bpmn_name, "operation": ts.operation_name, "params": params}


def _is_timer(ts) -> bool:
    return isinstance(ts, CatchingEvent) and isinstance(ts.event_definition, TimerEventDefinition)


def attached_to(ts) -> str | None:
    """BPMN id of the activity a boundary event spec is attached to (None for other events)."""
    if not isinstance(ts, BoundaryEvent):
        return None
    for split in ts.inputs:
        for output in split.outputs:
            if not isinstance(output, BoundaryEvent):
                return getattr(output, "bpmn_id", None)
    return None


def _timer(ts) -> dict:
    return {
        "id": ts.bpmn_id,
        "name": ts.bpmn_name,
        "expression": ts.event_definition.expression,
        "kind": _timer_kind(ts.event_definition),
        "attached_to": attached_to(ts),
        "interrupting": bool(getattr(ts, "cancel_activity", False)),
    }


def _timer_kind(definition) -> str:
    if isinstance(definition, CycleTimerEventDefinition):
        return "cycle"
    if isinstance(definition, TimeDateEventDefinition):
        return "date"
    return "duration"


def _gateway_type(ts) -> str | None:
    for cls, name in (
        (InclusiveGateway, "inclusive"),
        (ExclusiveGateway, "exclusive"),
        (ParallelGateway, "parallel"),
        (EventBasedGateway, "event_based"),
    ):
        if isinstance(ts, cls):
            return name
    return None


def _gateway(ts) -> dict:
    conditions = getattr(ts, "cond_task_specs", [])
    has_default = getattr(ts, "default_task_spec", None) is not None or (
        isinstance(ts, InclusiveGateway) and any(c is None for c, _ in conditions)
    )
    return {
        "id": ts.bpmn_id,
        "name": ts.bpmn_name,
        "type": _gateway_type(ts),
        "has_default": has_default,
        "conditions": [c.args[0] for c, _ in conditions if c is not None],
        "outgoing": len(ts.outputs),
    }

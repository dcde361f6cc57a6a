"""Diff of two BPMN documents: elements added, removed and changed, by id.

Only the semantic part counts (process, collaboration, messages...), not the drawing
(`bpmndi`): moving a shape is not a change. Each element is described by its type, name,
attributes, our extension properties, the code it holds (scripts, conditions, timer
expressions), its lane and its flows.
"""

from __future__ import annotations

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"

_DI_NAMESPACES = {
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
}
_CODE_TAGS = {
    "script",
    "conditionExpression",
    "timeDuration",
    "timeDate",
    "timeCycle",
    "preScript",
    "postScript",
    "loopCardinality",
    "completionCondition",
    "condition",
}
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _local(node) -> str:
    return etree.QName(node).localname


def _owned(node, owner) -> bool:
    """True when `node` belongs to `owner` and not to a nested element with its own id."""
    parent = node.getparent()
    while parent is not None and parent is not owner:
        if parent.get("id") and etree.QName(parent).namespace == BPMN and _local(parent) not in (
            "extensionElements",
        ) and not _local(parent).endswith("EventDefinition"):
            return False
        parent = parent.getparent()
    return parent is owner


def describe(xml: str | bytes) -> dict[str, dict]:
    """id → {type, name, attributes, properties, code, lane}."""
    data = xml.encode() if isinstance(xml, str) else xml
    root = etree.fromstring(data, _SAFE)
    lanes: dict[str, str] = {}
    for lane in root.iter(f"{{{BPMN}}}lane"):
        for ref in lane.iter(f"{{{BPMN}}}flowNodeRef"):
            if ref.text:
                lanes[ref.text.strip()] = lane.get("name") or lane.get("id") or ""
    result: dict[str, dict] = {}
    for node in root.iter():
        if not isinstance(node.tag, str) or not node.get("id"):
            continue
        namespace = etree.QName(node).namespace
        if namespace in _DI_NAMESPACES or namespace != BPMN or node is root:
            continue
        kind = _local(node)
        if kind.endswith("EventDefinition") or kind in ("extensionElements", "laneSet"):
            continue
        attributes = {
            etree.QName(k).localname: v for k, v in sorted(node.attrib.items()) if etree.QName(k).localname not in ("id", "name")
        }
        properties: dict[str, str] = {}
        code: dict[str, str] = {}
        for child in node.iter():
            if child is node or not isinstance(child.tag, str) or not _owned(child, node):
                continue
            ns, local = etree.QName(child).namespace, _local(child)
            if ns == SPIFF and local == "property":
                properties[child.get("name") or ""] = child.get("value") or ""
            elif ns == SPIFF and local == "serviceTaskOperator":
                properties["operation"] = child.get("id") or ""
            elif ns == SPIFF and local == "parameter":
                properties[f"param:{child.get('id')}"] = child.get("value") or ""
            elif local in _CODE_TAGS:
                code[local] = (child.text or "").strip()
            elif local.endswith("EventDefinition"):
                attributes["event"] = local
        if node.get("id") in lanes:
            attributes["lane"] = lanes[node.get("id")]
        result[node.get("id")] = {
            "type": kind,
            "name": node.get("name") or "",
            "attributes": attributes,
            "properties": properties,
            "code": code,
        }
    return result


def _changes(old: dict, new: dict) -> list[dict]:
    changes = []
    for field in ("type", "name"):
        if old[field] != new[field]:
            changes.append({"field": field, "old": old[field], "new": new[field]})
    for group, label in (("attributes", "attribute"), ("properties", "property"), ("code", "code")):
        for key in sorted(set(old[group]) | set(new[group])):
            a, b = old[group].get(key), new[group].get(key)
            if a != b:
                changes.append({"field": f"{label}:{key}", "old": a, "new": b})
    return changes


def diagram_diff(old_xml: str | bytes, new_xml: str | bytes) -> dict[str, list[dict]]:
    old, new = describe(old_xml), describe(new_xml)
    return {
        "added": [{"id": i, "type": new[i]["type"], "name": new[i]["name"]} for i in new if i not in old],
        "removed": [{"id": i, "type": old[i]["type"], "name": old[i]["name"]} for i in old if i not in new],
        "changed": [
            {"id": i, "type": new[i]["type"], "name": new[i]["name"], "changes": changes}
            for i in new
            if i in old and (changes := _changes(old[i], new[i]))
        ],
    }

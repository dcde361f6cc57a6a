"""Spec and state serialization.

A diagram version's specs are serialized once (``Diagram.spec``); an instance's state is the
workflow dict *without* the specs (after compaction), JSON-encoded and zlib-compressed. Restored
spec objects are cached, so a step does not rebuild the spec every time.

Never feed state that came from a user into ``load_state``: it is trusted data. (SpiffWorkflow's
own format migrations evaluate stored expressions with ``eval``; they are never called here.)
"""

from __future__ import annotations

import hashlib
import json
import threading
import zlib
from collections import OrderedDict
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask

from .errors import EngineError
from .specs import ServiceTask

STATE_FORMAT = 1
_SPEC_CACHE_SIZE = 64


class _StateConverter(BpmnWorkflowConverter):
    """The standard workflow converter minus the specs, which are stored once per diagram version."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


def _config() -> dict:
    config = dict(SPIFF_CONFIG)
    config.pop(SpiffServiceTask)
    config[ServiceTask] = ServiceTaskConverter
    config[BpmnWorkflow] = _StateConverter
    return config


REGISTRY = BpmnWorkflowSerializer.configure(_config())
SERIALIZER_VERSION = BpmnWorkflowSerializer(REGISTRY).VERSION


def spec_to_dict(spec, subprocess_specs: dict) -> dict:
    return {
        "spec": REGISTRY.convert(spec),
        "subprocess_specs": {name: REGISTRY.convert(sp) for name, sp in subprocess_specs.items()},
    }


class _SpecCache:
    """Restored spec objects, found by the identity of the dict passed in (O(1)) or by its content."""

    def __init__(self, size: int):
        self._size = size
        self._lock = threading.Lock()
        self._by_identity: OrderedDict[int, tuple[dict, tuple]] = OrderedDict()
        self._by_content: OrderedDict[str, tuple] = OrderedDict()

    def get(self, spec: dict) -> tuple:
        with self._lock:
            hit = self._by_identity.get(id(spec))
            if hit is not None and hit[0] is spec:
                return hit[1]
        if not isinstance(spec, dict) or not isinstance(spec.get("spec"), dict):
            raise EngineError(
                'a spec must be the dict made by parse_diagram ({"spec": ..., "subprocess_specs": ...})'
            )
        text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
        key = hashlib.sha256(text.encode()).hexdigest()
        with self._lock:
            restored = self._by_content.get(key)
        if restored is None:
            restored = _restore_specs(json.loads(text))  # a private copy: restoring mutates its input
        with self._lock:
            self._remember(self._by_content, key, restored)
            self._remember(self._by_identity, id(spec), (spec, restored))
        return restored

    def _remember(self, table: OrderedDict, key, value) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self._size:
            table.popitem(last=False)


def _restore_specs(dct: dict) -> tuple:
    try:
        spec = REGISTRY.restore(dct["spec"])
        subprocess_specs = {
            name: REGISTRY.restore(sp) for name, sp in (dct.get("subprocess_specs") or {}).items()
        }
    except Exception as exc:
        raise EngineError(f"the stored spec cannot be restored: {type(exc).__name__}: {exc}") from None
    return spec, subprocess_specs


SPECS = _SpecCache(_SPEC_CACHE_SIZE)


def dump_state(workflow: BpmnWorkflow) -> bytes:
    dct = REGISTRY.convert(workflow)
    dct["format"] = STATE_FORMAT
    dct["serializer_version"] = SERIALIZER_VERSION
    return zlib.compress(json.dumps(dct, separators=(",", ":"), ensure_ascii=False).encode(), 9)


def load_state(spec, subprocess_specs: dict, state: bytes) -> BpmnWorkflow:
    try:
        dct = json.loads(zlib.decompress(state))
    except Exception:
        raise EngineError("the stored workflow state is unreadable") from None
    if not isinstance(dct, dict) or dct.pop("format", None) != STATE_FORMAT:
        raise EngineError(f"the stored workflow state is not in format {STATE_FORMAT}")
    dct.pop("serializer_version", None)
    _check_matches(dct, spec, subprocess_specs)
    dct["spec"] = spec  # objects pass through the registry unchanged
    dct["subprocess_specs"] = dict(subprocess_specs)
    try:
        return REGISTRY.restore(dct)
    except Exception as exc:
        raise EngineError(
            f"the stored workflow state cannot be restored: {type(exc).__name__}: {exc}"
        ) from None


def _check_matches(dct: dict, spec, subprocess_specs: dict) -> None:
    """Refuse state whose tasks name specs the diagram does not have (another diagram or version)."""
    try:
        tables = [(spec, dct["tasks"])]
        for sp in dct.get("subprocesses", {}).values():
            tables.append((subprocess_specs.get(sp["spec"]), sp["tasks"]))
        for owner, tasks in tables:
            for task in tasks.values():
                UUID(task["id"])
                if owner is None or task["task_spec"] not in owner.task_specs:
                    raise EngineError("the stored workflow state does not belong to this diagram version")
    except (KeyError, TypeError, ValueError, AttributeError):
        raise EngineError("the stored workflow state is malformed") from None

"""The SpiffWorkflow script environment and engine that run every piece of diagram code in the
sandbox pool: code is compiled here first (``sandbox.compile_script``; a refusal needs no
worker), then sent with the variables it names to a pool worker (``pool.py``), which runs it with
``sandbox.ScriptRunner``. Helpers run here, on the worker's request.
"""

from __future__ import annotations

import copy
from types import CodeType

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import clock
from .errors import EngineError, ScriptError
from .pool import MAX_HELPER_CALLS, PoolFailure, PoolLimits, pool_for
from .sandbox import _shown, compile_script


def referenced_names(code: CodeType) -> frozenset[str]:
    """Every name ``code`` (and the functions, lambdas and comprehensions inside it) may read."""
    found: set[str] = set()
    stack = [code]
    while stack:
        item = stack.pop()
        found.update(item.co_names)
        found.update(item.co_varnames)
        stack.extend(c for c in item.co_consts if isinstance(c, CodeType))
    return frozenset(found)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that runs everything in the sandbox worker pool.

    Code is compiled here first (a refusal needs no worker), then (code, the variables it names,
    the clock) go to a worker of ``pool``; helpers run here, on the worker's request (``pool.py``).
    """

    def __init__(
        self,
        *,
        service_caller,
        helpers=None,
        max_steps=100_000,
        max_seconds=2.0,
        pool: PoolLimits | None = None,
    ):
        super().__init__({})
        self.service_caller = service_caller
        self.names = dict(helpers or {})
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self.pool = pool_for(pool)
        self._helpers = tuple(sorted(k for k, v in self.names.items() if callable(v)))
        self._values = {k: v for k, v in self.names.items() if not callable(v)}

    def _run(self, mode: str, source: str, context: dict, external_context: dict | None, what: str):
        code = compile_script(source, mode)
        wanted = referenced_names(code)
        request = {
            "mode": mode,
            "source": source,
            "context": {k: v for k, v in context.items() if k in wanted},
            "external": {k: v for k, v in (external_context or {}).items() if k in wanted},
            "helpers": tuple(h for h in self._helpers if h in wanted),
            "values": {k: v for k, v in self._values.items() if k in wanted},
            "memo": {},
            "now": clock.now(),
            "max_steps": self.max_steps,
            "max_seconds": self.max_seconds,
        }
        for _round in range(MAX_HELPER_CALLS + 1):
            try:
                reply = self.pool.call(request)
            except PoolFailure as failure:
                raise ScriptError(f"{what} failed: {failure.message}") from None
            if reply[0] != "helper":
                break
            _kind, name, key, args, kwargs = reply
            if len(request["memo"]) >= MAX_HELPER_CALLS:
                raise ScriptError(f"{what} failed: more than {MAX_HELPER_CALLS} different helper calls")
            try:
                request["memo"][key] = ("ok", self.names[name](*args, **kwargs))
            except Exception as exc:  # noqa: BLE001 - raised again inside the script
                request["memo"][key] = ("error", (type(exc).__name__, str(exc)))
        if reply[0] == "error":
            raise ScriptError(reply[1])
        return request, reply[1]

    def evaluate(self, expression, context, external_context=None):
        shown = _shown(expression)
        return self._run("eval", expression, context, external_context, f"expression {shown!r}")[1]

    def execute(self, script, context, external_context=None):
        request, updated = self._run("exec", script, context, external_context, "script")
        sent = request["context"]
        merged = {}
        for key, value in context.items():
            if key not in sent:
                merged[key] = value
            elif key in updated:
                merged[key] = updated[key]
        for key, value in updated.items():
            merged.setdefault(key, value)
        context.clear()
        context.update(merged)
        return True

    def call_service(self, context, operation_name=None, operation_params=None, **kwargs):
        # No wrapping: whatever the service caller raises reaches the caller of the engine unchanged.
        # Service calls stay in this process (they touch the database); only diagram code is pooled.
        return self.service_caller(operation_name, dict(operation_params or {}), copy.deepcopy(context))


class SandboxScriptEngine(PythonScriptEngine):
    """Adds the BPMN element id to sandbox errors; never wraps service-caller exceptions."""

    def __init__(self, environment: SandboxEnvironment):
        super().__init__(environment=environment)

    def validate(self, expression):
        compile_script(expression, "eval")

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except EngineError as err:
            raise _located(err, task)

    def execute(self, task, script, external_context=None):
        try:
            return self.environment.execute(script, task.data, external_context)
        except EngineError as err:
            raise _located(err, task)

    def call_service(self, task, **kwargs):
        return self.environment.call_service(task.data, **kwargs)


def _located(err: EngineError, task) -> EngineError:
    if err.element is None:
        element = getattr(task.task_spec, "bpmn_id", None)
        if element is not None:
            err = type(err)(err.message, element=element)
    return err

"""The script sandbox: compile-time policy and the runner a pool worker executes code with.

Every script task, pre/post script, gateway condition, timer expression, multi-instance expression
and service-task parameter goes through ``SandboxEnvironment`` (SpiffWorkflow calls the environment
directly in some places, so hooking only the engine would not be enough). Code is compiled with
RestrictedPython and an extended policy (``_Policy``), and cached by (source, mode). It runs in a
worker process of the sandbox pool (``pool.py``) through ``ScriptRunner``, never in the caller.
The SpiffWorkflow side that sends code to the pool is ``scripting.py``.
"""

from __future__ import annotations

import ast
import re
import textwrap
import traceback
from types import CodeType

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer

from .errors import ScriptError
from .guards import GUARD_NAMES, MAX_FORMAT_WIDTH, Run, SandboxViolation
from .jsondata import check_json

SCRIPT_FILENAME = "<script>"
_CACHE_LIMIT = 4096
_CACHE: dict[tuple[str, str], CodeType | tuple[str, ...]] = {}

FORBIDDEN_NAMES = frozenset(
    "exec eval compile open input print printed breakpoint help exit quit getattr setattr delattr hasattr "
    "globals locals vars dir type object super id memoryview classmethod staticmethod property "
    "format iter next callable issubclass".split()
)
FORBIDDEN_ATTRIBUTES = frozenset(
    "format format_map mro gi_frame gi_code gi_yieldfrom gi_running gi_suspended cr_frame cr_code "
    "cr_await cr_origin cr_running ag_frame ag_code ag_await ag_running f_back f_builtins f_code "
    "f_globals f_locals f_trace f_lasti f_lineno tb_frame tb_next tb_lasti tb_lineno co_code "
    "co_consts co_names func_globals func_code func_closure im_func im_self im_class".split()
)
_GUARDED_BINOPS = {
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Add: "_add_",
    ast.Mod: "_mod_",
}
_NUMBER = re.compile(r"\d+")
# Container displays ((..,), [..], {..}) nested deeper than this in one piece of code are refused:
# no data-moving script needs them, and each level multiplies how fast a loop can build a
# structure deep enough to overflow the C stack when it is hashed or compared.
MAX_DISPLAY_NESTING = 12
_DISPLAYS = (ast.Tuple, ast.List, ast.Set, ast.Dict)


def _call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    return ast.copy_location(node, like)


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus: no imports, classes, bare except, ``with``, ``global``,
    dangerous names or introspection attributes; step counting in loops, comprehensions, lambdas and
    functions; size guards on ``* ** << + %`` and f-string values."""

    def _step_stmt(self, like: ast.AST) -> ast.stmt:
        return ast.copy_location(ast.Expr(_call("_step_", [], like)), like)

    def visit_Module(self, node):
        return ast.fix_missing_locations(super().visit_Module(node))

    def visit_Expression(self, node):
        return ast.fix_missing_locations(super().visit_Expression(node))

    def visit_Import(self, node):
        self.error(node, "imports are not allowed (scripts only move data)")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "class definitions are not allowed")
        return node

    def visit_With(self, node):
        self.error(node, "'with' statements are not allowed")
        return node

    def visit_Global(self, node):
        self.error(node, "'global' statements are not allowed")
        return node

    def visit_ExceptHandler(self, node):
        if node.type is None:
            self.error(node, "a bare 'except:' is not allowed; name the exception class")
        return super().visit_ExceptHandler(node)

    def visit_Name(self, node):
        if node.id in FORBIDDEN_NAMES:
            self.error(node, f'"{node.id}" is not available in scripts')
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node):
        if node.attr in FORBIDDEN_ATTRIBUTES:
            self.error(node, f'attribute "{node.attr}" is not allowed')
            return node
        return super().visit_Attribute(node)

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        guard = _GUARDED_BINOPS.get(type(node.op))
        return node if guard is None else _call(guard, [node.left, node.right], node)

    def visit_FormattedValue(self, node):
        node = self.node_contents_visit(node)
        spec = node.format_spec
        if spec is not None:
            if not all(isinstance(v, ast.Constant) for v in spec.values):
                self.error(node, "computed format specs in f-strings are not allowed")
            elif any(int(n) > MAX_FORMAT_WIDTH for v in spec.values for n in _NUMBER.findall(str(v.value))):
                self.error(node, "f-string format width or precision too large")
        node.value = _call("_fvalue_", [node.value], node.value)
        return node

    def visit_Starred(self, node):
        node = super().visit_Starred(node)
        if isinstance(node.ctx, ast.Load):  # [*a] / f(*a) copy a: count it
            node.value = _call("_account_", [node.value], node.value)
        return node

    def visit_Dict(self, node):
        node = super().visit_Dict(node)
        node.values = [
            _call("_account_", [v], v) if k is None else v
            for k, v in zip(node.keys, node.values, strict=True)
        ]
        return node

    def visit_While(self, node):
        node = super().visit_While(node)
        node.body.insert(0, self._step_stmt(node))
        return node

    def visit_For(self, node):
        node = super().visit_For(node)
        node.body.insert(0, self._step_stmt(node))
        return node

    def visit_comprehension(self, node):
        node = super().visit_comprehension(node)
        node.ifs.insert(0, _call("_step_", [], node.iter))
        return node

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        node.body = ast.copy_location(ast.BoolOp(ast.And(), [_call("_step_", [], node), node.body]), node)
        return node

    def visit_FunctionDef(self, node):
        if node.name.startswith("_"):
            self.error(node, f'"{node.name}" is an invalid function name because it starts with "_"')
        node = super().visit_FunctionDef(node)
        node.body.insert(0, self._step_stmt(node))
        return node


def _normalise(source: str, mode: str) -> str:
    return source.strip() if mode == "eval" else textwrap.dedent(source).strip("\n")


def _display_nesting_problem(text: str, mode: str) -> str | None:
    """A message when container displays nest deeper than ``MAX_DISPLAY_NESTING`` (iterative walk)."""
    try:
        tree = ast.parse(text, SCRIPT_FILENAME, mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # the restricted compiler reports it
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, _DISPLAYS):
            depth += 1
            if depth > MAX_DISPLAY_NESTING:
                return (
                    f"Line {getattr(node, 'lineno', '?')}: lists, tuples, sets or dicts nested more than "
                    f"{MAX_DISPLAY_NESTING} levels deep in one expression are not allowed"
                )
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))
    return None


def _compile(source: str, mode: str) -> CodeType | tuple[str, ...]:
    text = _normalise(source or "", mode)
    if not text:
        return ("the expression is empty",) if mode == "eval" else compile("", SCRIPT_FILENAME, "exec")
    nesting = _display_nesting_problem(text, mode)
    if nesting is not None:
        return (nesting,)
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(text, filename=SCRIPT_FILENAME, policy=_Policy)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:  # pathological source
        return (f"cannot compile: {exc}",)
    if result.errors or result.code is None:
        return tuple(result.errors) or ("cannot compile",)
    return result.code


def compile_problems(source: str, mode: str) -> list[str]:
    """Messages of everything that stops ``source`` from compiling under the sandbox (empty if fine)."""
    compiled = _cached(source, mode)
    return list(compiled) if isinstance(compiled, tuple) else []


def _cached(source: str, mode: str) -> CodeType | tuple[str, ...]:
    key = (source, mode)
    compiled = _CACHE.get(key)
    if compiled is None:
        compiled = _compile(source, mode)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = compiled
    return compiled


def compile_script(source: str, mode: str) -> CodeType:
    compiled = _cached(source, mode)
    if isinstance(compiled, tuple):
        raise ScriptError("script refused: " + "; ".join(compiled))
    return compiled


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SandboxViolation):
        text = exc.message
    else:
        text = f"{type(exc).__name__}: {exc}"
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == SCRIPT_FILENAME]
    return f"{text} (script line {lines[-1]})" if lines and lines[-1] else text


class ScriptRunner:
    """Runs sandboxed code in this process. Used inside the pool's worker processes (``pool.py``);
    the engine never calls it in the web or Celery process."""

    def __init__(self, *, names: dict, max_steps: int, max_seconds: float):
        self.names = names
        self.max_steps = max_steps
        self.max_seconds = max_seconds

    def _globals(self, run: Run, context: dict, external_context: dict | None) -> dict:
        namespace = dict(self.names)
        if external_context:
            namespace.update(external_context)
        namespace.update(context)
        namespace.update(run.globals_for())  # guards last: data can never replace them
        return namespace

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None):
        code = compile_script(expression, "eval")
        run = Run(self.max_steps, self.max_seconds)
        try:
            result = eval(code, self._globals(run, context, external_context))
            check_json(result, "the expression result")
            _check_containers(context)
        except (Exception, SandboxViolation) as exc:
            raise ScriptError(f"expression {_shown(expression)!r} failed: {_describe(exc)}") from None
        return result

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> dict:
        """Runs ``script``; returns the variables as the script left them (JSON data only)."""
        code = compile_script(script, "exec")
        run = Run(self.max_steps, self.max_seconds)
        namespace = self._globals(run, context, external_context)
        try:
            exec(code, namespace)
            return self._collect(namespace, context, external_context or {})
        except (Exception, SandboxViolation) as exc:
            raise ScriptError(f"script failed: {_describe(exc)}") from None

    def _collect(self, namespace: dict, context: dict, external: dict) -> dict:
        updated = {}
        for key, value in namespace.items():
            if key in GUARD_NAMES:
                if key in context:  # data keys that look like guard names are kept as they were
                    updated[key] = context[key]
                continue
            if key not in context and (
                (key in self.names and value is self.names[key])
                or (key in external and value is external[key])
            ):
                continue
            if callable(value):  # functions defined by the script, helpers bound to new names
                continue
            if key not in context or context[key] is not value or type(value) in (list, dict):
                check_json(value, f"variable '{key}'")
            updated[key] = value
        return updated


def _shown(expression: str) -> str:
    shown = " ".join((expression or "").split())
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _check_containers(context: dict) -> None:
    for key, value in context.items():
        if type(value) in (list, dict):
            check_json(value, f"variable '{key}'")

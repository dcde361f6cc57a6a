"""Finds every function of the code base that writes customer identity or contact data, by
reading the source (ast): a new write path cannot slip past the checks unnoticed."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Customer fields the checks guard (docs/DOMAIN.md: checks A, B, D and the blacklist).
DATA_FIELDS = frozenset(
    {
        "name",
        "id_type",
        "id_number",
        "phone",
        "address",
        "email",
        "contact_person",
        "legal_rep_name",
        "legal_rep_id_type",
        "legal_rep_id_number",
        "birth_date",
    }
)
DISTINCTIVE_FIELDS = DATA_FIELDS - {"name", "address", "email", "phone"}
QUERYSET_WRITES = frozenset(
    {"create", "bulk_create", "update", "bulk_update", "get_or_create", "update_or_create"}
)
CHECK_FUNCTIONS = frozenset({"customer_checks_run", "customer_checks_run_many"})


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_customer_write(call: ast.Call) -> bool:
    f = call.func
    if isinstance(f, ast.Name) and f.id in ("Customer", "customer_changes_apply"):
        return True  # a new record built, or the apply core called
    if isinstance(f, ast.Attribute) and f.attr in QUERYSET_WRITES and _root_name(f.value) == "Customer":
        return True  # Customer.objects.create / .filter(...).update / bulk_create
    if isinstance(f, ast.Attribute) and f.attr == "save" and isinstance(f.value, ast.Name):
        fields = next((k.value for k in call.keywords if k.arg == "update_fields"), None)
        receiver = f.value.id.lower()
        if fields is None:
            return "customer" in receiver  # a full save of a customer record
        if isinstance(fields, ast.List | ast.Tuple):
            names = {e.value for e in fields.elts if isinstance(e, ast.Constant)}
            dynamic = any(isinstance(e, ast.Starred) for e in fields.elts)
            if "customer" in receiver:
                return bool(names & DATA_FIELDS) or dynamic
            return bool(names & DISTINCTIVE_FIELDS)  # fields only a customer record has
    return False


class _Finder(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module = module
        self.stack: list[str] = []
        self.writes: set[str] = set()
        self.calls: dict[str, set[str]] = {}

    def _function(self, node) -> None:
        self.stack.append(node.name)
        qualname = ".".join(self.stack)
        calls = self.calls.setdefault(f"{self.module}:{qualname}", set())
        for child in ast.walk(node):
            if isinstance(child, ast.Call):
                name = (
                    child.func.id if isinstance(child.func, ast.Name) else getattr(child.func, "attr", None)
                )
                if name:
                    calls.add(name)
                if _is_customer_write(child):
                    self.writes.add(f"{self.module}:{qualname}")
        self.stack.pop()

    _in_class = False

    def visit_FunctionDef(self, node) -> None:  # noqa: N802
        if len(self.stack) == 0 or self._in_class:
            was, self._in_class = self._in_class, False
            self._function(node)
            self._in_class = was

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815

    def visit_ClassDef(self, node) -> None:  # noqa: N802
        self.stack.append(node.name)
        was, self._in_class = self._in_class, True
        for child in node.body:
            self.visit(child)
        self._in_class = was
        self.stack.pop()


def scan() -> tuple[set[str], dict[str, set[str]]]:
    """(functions writing customer data, names each top-level function or method calls)."""
    writes: set[str] = set()
    calls: dict[str, set[str]] = {}
    for path in sorted((ROOT / "backend").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        finder = _Finder(module)
        finder.visit(ast.parse(path.read_text(encoding="utf-8")))
        writes |= finder.writes
        calls.update(finder.calls)
    return writes, calls


def runs_checks(function: str, calls: dict[str, set[str]], depth: int = 3) -> bool:
    """The function calls customer_checks_run(_many), directly or through functions of its own
    module (a few levels deep)."""
    called = calls.get(function, set())
    if called & CHECK_FUNCTIONS:
        return True
    if depth == 0:
        return False
    module = function.split(":", 1)[0]
    return any(
        runs_checks(f"{module}:{name}", calls, depth - 1) for name in called if f"{module}:{name}" in calls
    )

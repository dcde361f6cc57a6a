"""The shape of the code (docs/ARCHITECTURE.md, "Dependencies"): no import cycle between files,
no import inside a function except an app's `ready()` (Django's documented place to connect
signals and registries once the app registry is loaded), no source file over 800 lines.

The import-linter contracts in pyproject.toml (layers, engine isolation, acyclic packages, the
demo app on top) run in CI beside this; this test counts imports inside functions too, which
import-linter reads as ordinary imports.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("backend", "processes", "tasks", "forms", "pdfs")
MAX_LINES = 800


def _sources(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imported(module: str, node: ast.AST, sources: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".")
            if sources[module].name != "__init__.py":
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in sources else base for a in node.names]
    out = []
    for name in names:
        while name and name not in sources:
            name = name.rpartition(".")[0]
        if name and name != module:
            out.append(name)
    return out


def _in_function_imports(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    found = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.extend((fn.name, n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return found


def in_function_imports(root: Path = ROOT) -> list[str]:
    offenders = []
    for path in _sources(root).values():
        for function, node in _in_function_imports(ast.parse(path.read_text())):
            if path.name == "apps.py" and function == "ready":
                continue
            offenders.append(f"{path.relative_to(root)}:{node.lineno} in {function}()")
    return offenders


def import_cycles(root: Path = ROOT) -> list[list[str]]:
    sources = _sources(root)
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in sources.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges[module].update(_imported(module, node, sources))
    # Tarjan's strongly connected components, iteratively.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    counter = 0
    for root in sources:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))
    return cycles


def test_no_import_inside_a_function_except_ready():
    assert in_function_imports() == [], "move the import to the top of the module (or break the cycle it hides)"


def test_no_import_cycle_between_files():
    assert import_cycles() == []


def test_the_checks_find_what_they_look_for(tmp_path):
    """Not vacuous: two files importing each other, one of them inside a function, are found."""
    package = tmp_path / "backend"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from backend import b\n")
    (package / "b.py").write_text("def f():\n    from backend.a import x\n")
    assert import_cycles(tmp_path) == [["backend.a", "backend.b"]]
    assert in_function_imports(tmp_path) == ["backend/b.py:2 in f()"]


def test_no_source_file_over_800_lines():
    long = [f"{p.relative_to(ROOT)}: {n}" for p in _sources().values() if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert long == []

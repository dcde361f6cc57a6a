"""The one rule for data crossing the engine boundary: plain JSON values only."""

from __future__ import annotations

import math
from datetime import date, datetime

from .guards import SandboxViolation

MAX_JSON_DEPTH = 64
MAX_JSON_NODES = 200_000
_SCALARS = frozenset({str, int, bool, type(None)})


def check_json(value, where: str) -> None:
    """Refuse anything that is not plain JSON data (str, int, finite float, bool, None, list, dict).

    Shared references are walked each time (JSON would expand them), within a node budget.
    """
    stack = [(value, 0, where, None)]
    nodes = 0
    while stack:
        item, depth, parent, key = stack.pop()
        kind = type(item)
        if kind in _SCALARS:
            continue
        path = parent if key is None else f"{parent}[{key!r}]"
        if kind is float:
            if not math.isfinite(item):
                raise SandboxViolation(f"{path} is {item!r}, which is not JSON data")
            continue
        if kind is list or kind is dict:
            nodes += len(item) + 1
            if nodes > MAX_JSON_NODES:
                raise SandboxViolation(f"{where} is too large (more than {MAX_JSON_NODES} values)")
            if depth >= MAX_JSON_DEPTH:
                raise SandboxViolation(f"{path} is nested more than {MAX_JSON_DEPTH} levels deep")
            if kind is list:
                if set(map(type, item)) <= _SCALARS:  # fast path for flat lists
                    continue
                stack.extend((v, depth + 1, path, i) for i, v in enumerate(item) if type(v) not in _SCALARS)
                continue
            for k, v in item.items():
                if type(k) is not str:
                    raise SandboxViolation(f"{path} has a non-string key {k!r}; JSON keys are strings")
                stack.append((v, depth + 1, path, k))
            continue
        hint = " (use .isoformat())" if kind in (datetime, date) else ""
        raise SandboxViolation(f"{path} is a {kind.__name__}, which is not JSON data{hint}")

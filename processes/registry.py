"""Service-task operations: BPMN names an operation, domain apps register its handler.

Handlers are registered at startup from each app's AppConfig.ready(); a diagram naming an
unknown operation fails validation (processes/checks.py) instead of failing at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OperationContext:
    instance: Any  # processes.models.ProcessInstance (locked for this step)
    actor: Any  # the user whose action runs this step, or None for a timer

    def now(self):
        """The engine clock's now: a timer fires at its sweep's time, not the wall clock's."""
        from processes.engine import clock

        return clock.now()


Handler = Callable[[OperationContext, dict, dict], dict | None]


@dataclass(frozen=True)
class Operation:
    name: str
    handler: Handler
    description: str


_OPERATIONS: dict[str, Operation] = {}


def operation_register(name: str, handler: Handler, description: str = "") -> None:
    existing = _OPERATIONS.get(name)
    if existing is not None and existing.handler is not handler:
        raise ValueError(f"operation {name!r} is already registered")
    _OPERATIONS[name] = Operation(name, handler, description)


def operation_get(name: str) -> Operation | None:
    return _OPERATIONS.get(name)


def operation_names() -> list[str]:
    return sorted(_OPERATIONS)


# Helpers: functions a diagram's expressions may call by name (timer expressions above all),
# registered by domain apps. The runtime passes the engine clock's `now` as a keyword.
_HELPERS: dict[str, Callable[..., Any]] = {}


def helper_register(name: str, fn: Callable[..., Any]) -> None:
    existing = _HELPERS.get(name)
    if existing is not None and existing is not fn:
        raise ValueError(f"helper {name!r} is already registered")
    _HELPERS[name] = fn


def helpers() -> dict[str, Callable[..., Any]]:
    return dict(_HELPERS)

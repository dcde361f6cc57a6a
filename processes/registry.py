"""Service-task operations: BPMN names an operation, domain apps register its handler.

Handlers are registered at startup from each app's AppConfig.ready(); a diagram naming an
unknown operation fails validation (processes/checks.py) instead of failing at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from processes.engine import clock

# Subject type of the instances a process owner starts to try a diagram (no case of their own).
TEST_SUBJECT = "test"

# A declared operation parameter may not identify a case, a customer, a complaint or any other
# record: the runtime binds the case from the instance row (control 4, docs/SECURITY.md).
_RECORD_WORDS = ("case", "customer", "complaint", "opening", "amendment", "endorsement", "policy", "subject", "instance", "record")
_IDENTIFIER_PARAM = re.compile(
    r"(^|_)(id|ids|pk|pks|key|no|number)$|^(" + "|".join(_RECORD_WORDS) + r")s?($|_)", re.IGNORECASE
)


def param_names_record(name: str) -> bool:
    """True when a parameter name looks like a record identifier (`case_id`, `customer`,
    `complaint_pk`, `target_id` ...): such a parameter could point an operation at another case."""
    return bool(_IDENTIFIER_PARAM.search(str(name)))


@dataclass(frozen=True)
class OperationContext:
    """What a handler gets besides its declared parameters. The case is bound by the runtime
    from the instance row; nothing in process data or parameters can name another one."""

    instance: Any  # processes.models.ProcessInstance (locked for this step)
    actor: Any  # the user whose action runs this step, or None for a timer
    dry_run: bool = False  # a test instance: the handler runs in a savepoint that is rolled back

    @property
    def case_type(self) -> str:
        return self.instance.subject_type

    @property
    def case_id(self) -> int | None:
        """The primary key of the instance's own case (None for a test instance)."""
        if self.instance.subject_type == TEST_SUBJECT or self.instance.subject_id is None:
            return None
        return int(self.instance.subject_id)

    def now(self):
        """The engine clock's now: a timer fires at its sweep's time, not the wall clock's."""

        return clock.now()


Handler = Callable[[OperationContext, dict, dict], dict | None]


@dataclass(frozen=True)
class Operation:
    name: str
    handler: Handler
    description: str
    # The parameters a diagram may pass (anything else is refused by lint and dropped at run time).
    params: tuple[str, ...] = ()


_OPERATIONS: dict[str, Operation] = {}


def operation_register(name: str, handler: Handler, description: str = "", *, params: tuple[str, ...] = ()) -> None:
    """Register a handler. ``params`` are the parameter names a diagram may give it; none may
    identify a record (the case is bound from the instance, see ``OperationContext.case_id``)."""
    bad = [p for p in params if param_names_record(p)]
    if bad:
        raise ValueError(
            f"operation {name!r} declares parameters {bad} that identify a record: the runtime binds the case "
            "from the instance (ctx.case_id); an operation cannot take another case, customer or complaint as input"
        )
    existing = _OPERATIONS.get(name)
    if existing is not None and existing.handler is not handler:
        raise ValueError(f"operation {name!r} is already registered")
    _OPERATIONS[name] = Operation(name, handler, description, tuple(params))


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

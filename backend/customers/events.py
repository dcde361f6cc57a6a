"""Customer status changes, for other apps to follow (the integration app turns them into
callbacks for the upstream systems that opened or asked about the customer).

Listeners run inside the transaction of the change; they must only write (an outbox row, say)
and never call out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[..., None]  # fn(*, customer, old_status, new_status, actor)
_LISTENERS: list[Listener] = []


def customer_status_listener_register(fn: Listener) -> None:
    if fn not in _LISTENERS:
        _LISTENERS.append(fn)


def customer_status_changed(*, customer: Any, old_status: str, new_status: str, actor: Any = None) -> None:
    if old_status == new_status:
        return
    for fn in _LISTENERS:
        fn(customer=customer, old_status=str(old_status), new_status=str(new_status), actor=actor)


# Customer data changes (which fields, never the values): fn(*, customer, fields, actor, case_type, case_id)
_DATA_LISTENERS: list[Listener] = []


def customer_data_listener_register(fn: Listener) -> None:
    if fn not in _DATA_LISTENERS:
        _DATA_LISTENERS.append(fn)


def customer_data_changed(
    *, customer: Any, fields: list[str], actor: Any = None, case_type: str = "", case_id: Any = None
) -> None:
    if not fields:
        return
    for fn in _DATA_LISTENERS:
        fn(customer=customer, fields=sorted(fields), actor=actor, case_type=case_type, case_id=case_id)

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

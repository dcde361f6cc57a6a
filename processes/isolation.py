"""Timer steps run through the project's one isolation mechanism (``backend.common.isolation``):
a forked child with an address-space limit and a wall-clock kill. The parent sees ``ok``,
``error`` (a failure of the step itself: an incident), ``killed`` (over its bounds: an
incident) or ``transient`` (a broker, mail or database outage, or a shutdown: logged and
retried, never an incident; ``processes.incidents.is_step_failure`` decides)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.common.isolation import run_isolated as _run_isolated
from backend.common.isolation import run_isolated_steps as _run_isolated_steps
from processes.incidents import is_step_failure

__all__ = ["run_isolated", "run_isolated_steps"]


def _classify(exc: BaseException) -> str:
    """"error" for a failure of the step itself (an incident), "transient" for the rest."""
    if isinstance(exc, (SystemExit, KeyboardInterrupt)):
        return "transient"  # the worker is shutting down

    return "error" if is_step_failure(exc) else "transient"


def run_isolated(fn: Callable[[], Any], *, seconds: float, memory_mb: int) -> tuple[str, Any]:
    return _run_isolated(fn, seconds=seconds, memory_mb=memory_mb, classify=_classify)


def run_isolated_steps(
    fn: Callable[[Callable[[Any], None]], Any], *, seconds: float, memory_mb: int
) -> tuple[str, Any, list[Any]]:
    """A batch of timer steps in one bounded child (each step with the bounds of one)."""
    return _run_isolated_steps(fn, seconds=seconds, memory_mb=memory_mb, classify=_classify)

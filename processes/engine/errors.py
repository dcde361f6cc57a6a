"""Errors raised by the engine adapter. Plain exceptions: callers never see SpiffWorkflow types."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    """One problem found in a diagram. JSON-able through ``dataclasses.asdict``."""

    message: str
    element: str | None = None
    line: int | None = None
    # "error" blocks deployment; "warning" is shown to the process owner only.
    severity: str = "error"


class EngineError(Exception):
    """A run-time failure of a workflow step.

    ``element`` is the BPMN id of the element that failed (None when unknown) and
    ``message`` a clear, human-readable text.
    """

    def __init__(self, message: str, element: str | None = None):
        self.message = message
        self.element = element
        super().__init__(f"{element}: {message}" if element else message)


class ScriptError(EngineError):
    """A sandboxed script, condition or expression failed or was refused."""


class MigrationIncompatible(Exception):
    """An instance cannot move to the target version: ``missing`` lists the BPMN ids of its
    unfinished tasks that the target does not have (same id and type)."""

    def __init__(self, missing: list[str]):
        self.missing = list(missing)
        super().__init__("unfinished tasks missing in the target version: " + ", ".join(self.missing))


class DiagramError(Exception):
    """A diagram failed validation; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [
            (f"[{p.element}] " if p.element else "") + (f"line {p.line}: " if p.line else "") + p.message
            for p in self.problems
        ]
        super().__init__("; ".join(lines) or "invalid diagram")

"""The workflow engine adapter: the only code that imports SpiffWorkflow.

Pure Python (no Django): the rest of the system passes configuration in and gets plain values
back. See ``parse_diagram``, ``Engine`` and ``Workflow``.
"""

from .errors import DiagramError, EngineError, MigrationIncompatible, Problem, ScriptError
from .parser import Diagram, parse_diagram
from .pool import PoolLimits, disposable_process
from .runtime import Engine, ReadyTask, WaitingTimer, Workflow
from .serializer import STATE_FORMAT

__all__ = [
    "STATE_FORMAT",
    "Diagram",
    "DiagramError",
    "Engine",
    "EngineError",
    "MigrationIncompatible",
    "PoolLimits",
    "Problem",
    "ReadyTask",
    "ScriptError",
    "WaitingTimer",
    "Workflow",
    "disposable_process",
    "parse_diagram",
]

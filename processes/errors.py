"""Errors of the process runtime that more than one module raises or classifies (the runtime
raises them; incidents.py classifies them), kept apart so neither imports the other for them."""

from __future__ import annotations

from backend.common.exceptions import ApplicationError


class ProcessRunError(ApplicationError):
    """The diagram failed at run time (a script, a condition, an operation)."""

    status_code = 422
    default_code = "process_run_error"

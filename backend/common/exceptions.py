"""Domain errors. One handler (backend/api/exception_handler.py) turns them into responses.

Services raise these; views never build error responses themselves.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        field_errors: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.code = code or self.default_code
        self.field_errors = {k: [str(m) for m in v] for k, v in (field_errors or {}).items()}
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.field_errors)
        if self.message or not self.field_errors:
            body["detail"] = self.message
        body["code"] = self.code
        body.update(self.extra)
        return body


class ValidationFailed(ApplicationError):
    """Bad input: 400 with messages keyed by field name."""

    status_code = 400
    default_code = "invalid"

    @classmethod
    def field(cls, name: str, message: str, code: str | None = None) -> ValidationFailed:
        return cls("", field_errors={name: [message]}, code=code)


class Conflict(ApplicationError):
    status_code = 409
    default_code = "conflict"


class NotFound(ApplicationError):
    status_code = 404
    default_code = "not_found"


class Forbidden(ApplicationError):
    status_code = 403
    default_code = "forbidden"


class Unprocessable(ApplicationError):
    """Well-formed but refused, e.g. an idempotency key reused with a different body."""

    status_code = 422
    default_code = "unprocessable"


class TooManyRequests(ApplicationError):
    status_code = 429
    default_code = "too_many_requests"


class InvalidValue(ValueError):
    """A single value failed a domain rule; services attach it to the right field."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.code = code

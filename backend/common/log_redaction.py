"""Identifiers never reach a log line.

`redact_identifiers` replaces 18-character resident id numbers, unified social credit codes
(USCC) and Chinese mobile numbers (``1xxxxxxxxxx``, optionally ``+86``/``86``/``%2B86``, with
spaces or dashes between the groups) by a fixed marker. `RedactIdentifiersFilter` applies it
to each record's formatted message (the message with its args merged in, so both are covered)
and is installed on every handler in LOGGING, including the `django.server` (runserver) and
`gunicorn.access` / `gunicorn.error` handlers. `install_record_factory` also redacts at
record creation, so handlers added outside LOGGING (pytest's caplog, a debugger's) never see
the clear value either.
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

REDACTED = "[redacted]"
_formatter = logging.Formatter()

_USCC_CHARS = "0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy"
IDENTIFIER_RE = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    # 18-character resident id: 6-digit region, 8-digit birth date, 3-digit sequence, check.
    r"[1-9][0-9]{16}[0-9Xx]"
    # USCC (GB 32100): registration authority + type, 6-digit region, 9-char org code, check.
    rf"|[{_USCC_CHARS}]{{2}}[0-9]{{6}}[{_USCC_CHARS}]{{10}}"
    r")(?![0-9A-Za-z])"
    # Mobile numbers, alone or after +86 / 86 / %2B86 (URL-encoded), grouped or not.
    r"|(?<![0-9])(?:(?:\+|%2[Bb]|＋)?86[\s\-]?)?1[3-9][0-9][\s\-]?[0-9]{4}[\s\-]?[0-9]{4}(?![0-9])",
)


def redact_identifiers(text: str) -> str:
    return IDENTIFIER_RE.sub(REDACTED, text)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: redact its parts as they are
        record.msg = redact_identifiers(str(record.msg))
        record.args = tuple(redact_identifiers(str(a)) for a in record.args or ())
        return
    clean = redact_identifiers(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        # Formatters reuse exc_text when it is set: the traceback is redacted once, here.
        record.exc_text = _formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact_identifiers(record.exc_text)


class RedactIdentifiersFilter(logging.Filter):
    """A handler filter that never drops a record, only rewrites its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


_installed = False


def install_record_factory() -> None:
    """Redact every record when it is created (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def configure_logging(logging_settings: dict[str, Any]) -> None:
    """LOGGING_CONFIG: Django's dictConfig of LOGGING, then the redacting record factory."""

    logging.config.dictConfig(logging_settings)
    install_record_factory()

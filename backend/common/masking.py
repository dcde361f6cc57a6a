"""The masking primitive. Which field is masked for whom, and by which rule, is decided in one
place: backend/organisation/privacy.py."""

from __future__ import annotations

MASK_CHAR = "*"


def mask(value: str | None, keep_start: int, keep_end: int) -> str:
    if not value:
        return value or ""
    value = str(value)
    n = len(value)
    if keep_start + keep_end >= n:
        # Never show a short value whole: keep at most the first character.
        return value[:1] + MASK_CHAR * (n - 1) if n > 1 else MASK_CHAR
    end = value[n - keep_end :] if keep_end else ""
    return value[:keep_start] + MASK_CHAR * (n - keep_start - keep_end) + end


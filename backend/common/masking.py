"""Masking of personal fields. How much stays visible is a setting (CUSTFLOW['MASKING'])."""

from __future__ import annotations

from django.conf import settings

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


def mask_field(field: str, value: str | None) -> str:
    rule = settings.CUSTFLOW["MASKING"].get(field)
    if rule is None:
        return value or ""
    if field == "phone" and value and value.startswith("+86"):
        value = value[3:]  # mainland numbers read in national form: 138****5678
    return mask(value, *rule)

"""Server-side validation of a submission against its form: schema first, then domain rules."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from backend.common.exceptions import ValidationFailed
from forms.registry import FormDefinition, form_get, form_validator_get

_MESSAGES = {
    "required": lambda e: _("此项为必填项"),
    "enum": lambda e: _("取值无效,可选: %(choices)s") % {"choices": ", ".join(map(str, e.validator_value))},
    "type": lambda e: _("类型不正确,应为 %(type)s") % {"type": e.validator_value},
    "maxLength": lambda e: _("长度不能超过 %(n)s 个字符") % {"n": e.validator_value},
    "minLength": lambda e: _("此项为必填项") if e.validator_value == 1 else _("长度不能少于 %(n)s 个字符") % {"n": e.validator_value},
    "additionalProperties": lambda e: _("不允许的字段"),
    "pattern": lambda e: _("格式不正确"),
    "format": lambda e: _("格式不正确"),
}


def _field_of(error) -> str:
    if error.validator == "required":
        # "'comment' is a required property" → the missing property name.
        missing = [p for p in error.validator_value if p not in (error.instance or {})]
        return ".".join([*map(str, error.absolute_path), missing[0]]) if missing else "non_field_errors"
    if error.validator == "additionalProperties":
        extra = set(error.instance) - set(error.schema.get("properties", {}))
        return sorted(extra)[0] if extra else "non_field_errors"
    return ".".join(map(str, error.absolute_path)) or "non_field_errors"


_CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"} | {"\x7f"}


def control_character_fields(value: Any, path: str = "") -> list[str]:
    """Fields holding control characters (NUL breaks PostgreSQL's jsonb; none belong in a form)."""
    if isinstance(value, str):
        return [path or "non_field_errors"] if any(ch in _CONTROL for ch in value) else []
    if isinstance(value, dict):
        return [f for k, v in value.items() for f in control_character_fields(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in control_character_fields(v, f"{path}.{i}" if path else str(i))]
    return []


@lru_cache(maxsize=128)
def _schema_validator(key: str) -> Draft202012Validator:
    return Draft202012Validator(form_get(key).schema)


def form_data_validate(key: str, data: Any, context: Any = None, form: FormDefinition | None = None) -> dict:
    """`form`: the definition stored with the case's process version, when it has its own."""
    validator = _schema_validator(key) if form is None else Draft202012Validator(form.schema)
    form = form or form_get(key)
    if not isinstance(data, dict):
        raise ValidationFailed(_("表单数据必须是 JSON 对象"), code="invalid_form")
    errors: dict[str, list[str]] = {name: [_("不能包含控制字符")] for name in control_character_fields(data)}
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_form")
    for error in validator.iter_errors(data):
        message = _MESSAGES.get(error.validator, lambda e: _("取值无效"))(error)
        errors.setdefault(_field_of(error), []).append(str(message))
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_form")
    cleaned = dict(data)
    if form.validator:
        cleaned = form_validator_get(form.validator)(cleaned, context)
    return cleaned

"""Checking a form definition a process owner edits (JSON text → definition or field messages)."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from backend.common.exceptions import ValidationFailed
from forms.registry import form_validator_names

MAX_FORM_BYTES = 64 * 1024


def form_definition_parse(text: Any) -> dict:
    """The definition JSON, checked; raises ValidationFailed (400) with messages under `definition`."""
    if isinstance(text, (dict, list)):
        text = json.dumps(text, ensure_ascii=False)
    if not isinstance(text, str):
        raise ValidationFailed.field("definition", _("请提供表单定义(JSON 文本)"), code="invalid_form_definition")
    if len(text.encode("utf-8", errors="replace")) > MAX_FORM_BYTES:
        raise ValidationFailed.field(
            "definition", _("表单定义过大(最多 %(n)d 字节)") % {"n": MAX_FORM_BYTES}, code="invalid_form_definition"
        )
    if "\x00" in text:
        raise ValidationFailed.field("definition", _("不能包含控制字符"), code="invalid_form_definition")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValidationFailed.field(
            "definition", _("不是有效的 JSON:%(error)s") % {"error": str(exc)[:200]}, code="invalid_form_definition"
        ) from None
    errors = form_definition_problems(raw)
    if errors:
        raise ValidationFailed("", field_errors={"definition": errors}, code="invalid_form_definition")
    return raw


def form_definition_problems(raw: Any) -> list[str]:
    if not isinstance(raw, dict):
        return [_("表单定义必须是 JSON 对象")]
    errors: list[str] = []
    unknown = sorted(set(raw) - {"title", "schema", "ui", "validator"})
    if unknown:
        errors.append(_("不允许的键:%(keys)s") % {"keys": ", ".join(unknown)})
    if not isinstance(raw.get("title"), str) or not raw["title"].strip():
        errors.append(_("缺少标题(title)"))
    schema, ui = raw.get("schema"), raw.get("ui")
    if not isinstance(schema, dict):
        errors.append(_("缺少 schema(JSON 对象)"))
    else:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = "/".join(map(str, exc.absolute_path))
            errors.append(_("schema 无效(%(where)s):%(error)s") % {"where": where or "/", "error": exc.message[:200]})
        except RecursionError:
            errors.append(_("schema 嵌套过深"))
        else:
            props = schema.get("properties")
            if schema.get("type") != "object" or not isinstance(props, dict):
                errors.append(_("schema 须为 type: object 并列出 properties"))
    if not isinstance(ui, dict):
        errors.append(_("缺少 ui(JSON 对象)"))
    elif isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        order = ui.get("order", [])
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            errors.append(_("ui.order 须为字段名列表"))
        else:
            missing = [n for n in order if n not in schema["properties"]]
            if missing:
                errors.append(_("ui.order 中的字段不在 schema 中:%(names)s") % {"names": ", ".join(missing)})
    validator = raw.get("validator")
    if validator is not None and (not isinstance(validator, str) or validator not in form_validator_names()):
        errors.append(_("未注册的校验器:%(name)s") % {"name": str(validator)[:100]})
    return errors

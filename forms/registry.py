"""Form definitions: JSON Schema + UI hints per user task, one JSON file per form.

A user task names its form by key (`account_opening/review` → definitions/account_opening/review.json).
The web page, the API and the PDF take labels from the same schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
_KEY = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")


@dataclass(frozen=True)
class FormDefinition:
    key: str
    title: str
    schema: dict
    ui: dict = field(default_factory=dict)
    validator: str | None = None  # name of a registered domain validator

    def fields(self) -> list[dict[str, Any]]:
        """Ordered fields with labels and widgets for rendering."""
        props = self.schema.get("properties", {})
        order = self.ui.get("order") or list(props)
        required = set(self.schema.get("required", []))
        out = []
        for name in order:
            prop = props.get(name)
            if prop is None:
                continue
            hints = self.ui.get("fields", {}).get(name, {})
            out.append(
                {
                    "name": name,
                    "label": prop.get("title", name),
                    "type": prop.get("type", "string"),
                    "enum": prop.get("enum"),
                    "enum_labels": prop.get("x-enum-labels") or prop.get("enum"),
                    "required": name in required,
                    "widget": hints.get("widget", "textarea" if prop.get("maxLength", 0) > 200 else "input"),
                    "help": hints.get("help", prop.get("description", "")),
                    "max_length": prop.get("maxLength"),
                }
            )
        return out


# Form folders a process type brings with it: key prefix → folder ("surrender" → the type's
# forms/ folder, so `surrender/review` is `<folder>/review.json`). Registered by
# processes.types.process_type_register; the shipped forms stay in definitions/.
_FORM_DIRS: dict[str, Path] = {}


def form_dir_register(prefix: str, folder: Path) -> None:
    if not _KEY.match(prefix or "") or "/" in prefix:
        raise ValueError(f"form prefix {prefix!r} must be one lower-case word")
    existing = _FORM_DIRS.get(prefix)
    if existing is not None and existing != Path(folder):
        raise ValueError(f"form prefix {prefix!r} is already registered for {existing}")
    _FORM_DIRS[prefix] = Path(folder)
    form_get.cache_clear()


def _form_path(key: str) -> Path:
    prefix, _sep, rest = key.partition("/")
    folder = _FORM_DIRS.get(prefix)
    if folder is not None and rest:
        return folder / f"{rest}.json"
    return DEFINITIONS_DIR / f"{key}.json"


def form_exists(key: str) -> bool:
    return bool(_KEY.match(key or "")) and _form_path(key).is_file()


@lru_cache(maxsize=128)
def form_get(key: str) -> FormDefinition:
    if not form_exists(key):
        raise KeyError(key)
    raw = json.loads(_form_path(key).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(raw["schema"])
    return form_from_raw(key, raw)


def form_from_raw(key: str, raw: dict) -> FormDefinition:
    """A definition from its JSON ({title, schema, ui, validator}), e.g. one stored with a version."""
    return FormDefinition(key=key, title=raw.get("title", key), schema=raw["schema"], ui=raw.get("ui", {}), validator=raw.get("validator"))


def form_raw(key: str) -> dict:
    """The file's JSON as it is, for editing."""
    if not form_exists(key):
        raise KeyError(key)
    return json.loads(_form_path(key).read_text(encoding="utf-8"))


def form_key_valid(key: Any) -> bool:
    return isinstance(key, str) and len(key) <= 200 and bool(_KEY.match(key))


def form_keys() -> list[str]:
    keys = {str(p.relative_to(DEFINITIONS_DIR).with_suffix("")) for p in DEFINITIONS_DIR.glob("**/*.json")}
    for prefix, folder in _FORM_DIRS.items():
        keys.update(f"{prefix}/{p.relative_to(folder).with_suffix('')}" for p in folder.glob("**/*.json"))
    return sorted(keys)


# Domain validators: forms name them, domain apps register them at startup.
DomainValidator = Callable[[dict, Any], dict]
_VALIDATORS: dict[str, DomainValidator] = {}


def form_validator_register(name: str, fn: DomainValidator) -> None:
    _VALIDATORS[name] = fn


def form_validator_get(name: str) -> DomainValidator:
    return _VALIDATORS[name]


def form_validator_names() -> list[str]:
    return sorted(_VALIDATORS)

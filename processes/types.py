"""Process types: each kind of case declares, in one place, everything the platform needs to run it.

A process type is declared by the domain app that owns it (e.g. `backend/customers/process_types.py`)
and registered from its AppConfig.ready(), the way service operations are. The inbox, the task
page, the task API, the SLA report, diagram lint, deployment (`deploy_processes`, `seed_demo`) and
the modeler read the declarations; no other table names a process type.

The shape follows viewflow's flow class (one class per process naming its nodes, views and
permissions) with the platform's own pieces: diagrams are BPMN files, forms are JSON Schema files,
lanes map to roles in the org tree. docs/ADDING_A_PROCESS.md walks through adding one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.organisation.lanes import lane_register
from forms.registry import form_dir_register, form_validator_register
from processes.registry import Operation, operation_register

GENERIC_CASE_TEMPLATE = "web/_case_generic.html"


@dataclass(frozen=True)
class InboxRow:
    """What an inbox row shows of a case besides the task (what tells cases apart): ORM paths
    on the case model. Left empty, each comes from the case base (`process_type_inbox_row`):
    the number is the case id (shown "#12"), the customer is the case's `customer` (its
    name, masked in the row), the submitter is `CaseBase.SUBMITTER_FIELD`."""

    # A case number of its own, e.g. "number" (投诉编号) or "complaint__number".
    number: str = ""
    # The customer's (or complainant's) name, e.g. "complainant_name", "policy__policyholder__name".
    customer_name: str = ""
    # Who submitted the case: a user foreign key, e.g. "requested_by".
    submitter: str = ""


@dataclass(frozen=True)
class ProcessType:
    """What one process type is. Only `key`, `label` and `case_type` are required."""

    # The BPMN process id: ProcessDefinition.key, HumanTask.process_key.
    key: str
    # The name people see (inbox filter, SLA report rows), e.g. "黑名单变更": the process's name
    # as its diagram gives it (process and task names are data, shown as written).
    label: str
    # The case the process works on, "<app_label>.<model>" (ProcessInstance.subject_type,
    # HumanTask.case_type). Several process types may share one case type.
    case_type: str
    # The case model class (a subclass of backend.common.cases.CaseBase), when there is one.
    case_model: Any = None
    # BPMN files shipped with the type (deployed by `manage.py deploy_processes`).
    diagrams: tuple[Path, ...] = ()
    # The form keys its user tasks name, and the folder they live in when the type brings its
    # own (then each key is "<key prefix>/<file name>", the prefix being `form_prefix`).
    forms: tuple[str, ...] = ()
    forms_dir: Path | None = None
    form_prefix: str = ""
    # Lanes only this type uses: lane name → backend.organisation.lanes.LaneRule (who does the
    # work). Lanes of the org chart (collector, officer, city_reviewer …) need no declaration.
    lanes: Mapping[str, Any] = field(default_factory=dict)
    # Service operations its diagrams call: names registered by the app's handlers, or
    # processes.registry.Operation objects registered with the type.
    operations: tuple[Any, ...] = ()
    # Domain form validators its forms name: validator name → fn(data, task).
    validators: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # Task page: `case_view(*, user, case_id) -> dict` (raises NotFound when the user may not
    # see the case), the template that shows it, and `page_sections(case) -> dict` for extra
    # presentation-only context (e.g. the opening's check rows).
    case_view: Callable[..., dict[str, Any]] | None = None
    case_template: str = GENERIC_CASE_TEMPLATE
    page_sections: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Recusal (回避): `fn(*, user, case_id) -> reason | None`.
    recusal: Callable[..., str | None] | None = None
    # Four eyes beyond the task rows: `fn(*, user) -> QuerySet of case ids` whose data the user
    # gathered or changed without completing a step (the collector an officer opened for).
    data_work: Callable[..., Any] | None = None
    # 退回 / 撤销: the domain's side (`fn(*, actor, instance, step, reason)`,
    # `fn(*, actor, instance, reason, withdrawn)`); a cancel hook is what allows 撤销.
    on_return: Callable[..., None] | None = None
    on_cancel: Callable[..., None] | None = None
    # Printed documents: template names under pdfs/templates/ (manage.py check finds each).
    pdf_templates: tuple[str, ...] = ()
    # Who may start a case outside the diagram's lanes: action ("start") → role names. The
    # domain service that starts the case enforces it; the declaration says it in one place.
    permissions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The inbox row (number, customer, submitter); empty parts come from the case base.
    inbox_row: InboxRow = field(default_factory=InboxRow)


_TYPES: dict[str, ProcessType] = {}


def process_type_register(process_type: ProcessType) -> ProcessType:
    """Register a type and what it brings (lanes, form folder, operations, validators).
    Registering the same declaration twice is harmless; another one under the same key is refused."""
    existing = _TYPES.get(process_type.key)
    if existing is not None and existing is not process_type:
        raise ValueError(f"process type {process_type.key!r} is already registered")
    for name, rule in process_type.lanes.items():
        lane_register(name, rule)
    if process_type.forms_dir is not None:
        form_dir_register(process_type.form_prefix or process_type.key, process_type.forms_dir)
    for op in process_type.operations:
        if isinstance(op, Operation):
            operation_register(op.name, op.handler, op.description, params=op.params)
    for name, fn in process_type.validators.items():
        form_validator_register(name, fn)
    _TYPES[process_type.key] = process_type
    return process_type


def process_type_get(key: str) -> ProcessType | None:
    return _TYPES.get(key)


def process_type_for_case(case_type: str) -> ProcessType | None:
    """The (first registered) type whose case is `case_type`."""
    return next((t for t in _TYPES.values() if t.case_type == case_type), None)


def process_type_inbox_row(process_type: ProcessType) -> InboxRow:
    """The type's inbox row with the case base's defaults filled in (see `InboxRow`)."""
    declared, model = process_type.inbox_row, process_type.case_model
    if model is None:
        return declared
    names = {f.name for f in model._meta.get_fields()}
    return InboxRow(
        number=declared.number,
        customer_name=declared.customer_name or ("customer__name" if "customer" in names else ""),
        submitter=declared.submitter or (getattr(model, "SUBMITTER_FIELD", "") or ""),
    )


def process_types() -> list[ProcessType]:
    return sorted(_TYPES.values(), key=lambda t: t.key)


def process_type_label(key: str, default: str = "") -> str:
    process_type = _TYPES.get(key)
    return str(process_type.label) if process_type else (default or key)


def process_type_diagrams() -> list[Path]:
    """Every diagram the registered types ship."""
    return sorted({Path(p) for t in _TYPES.values() for p in t.diagrams})


def process_type_operation_names(process_type: ProcessType) -> set[str]:
    return {op if isinstance(op, str) else op.name for op in process_type.operations}

"""`manage.py check` validates the shipped diagrams: parse, sandbox compile, lanes, forms, operations."""

from django.core import checks
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from processes.services import DiagramInvalid, diagram_check, diagram_validate, shipped_diagrams
from processes.types import process_type_operation_names, process_types


@checks.register("custflow")
def shipped_diagrams_check(app_configs=None, **kwargs):
    errors = []
    for path in shipped_diagrams():
        try:
            diagram_validate(path.read_bytes(), path.name)
        except DiagramInvalid as exc:
            for message in exc.field_errors.get("file", []):
                errors.append(checks.Error(message, obj=str(path.relative_to(path.parents[2])), id="custflow.E001"))
    return errors


@checks.register("custflow")
def process_types_check(app_configs=None, **kwargs):
    """Each process type's declaration matches its files: its diagrams and PDF templates exist,
    the diagram's process id is the type's key, and every form and service operation it names is
    one the type declares."""

    errors = []
    for process_type in process_types():
        for name in process_type.pdf_templates:
            try:
                get_template(name)
            except TemplateDoesNotExist:
                errors.append(checks.Error(f"process type {process_type.key}: PDF template {name} is missing", id="custflow.E002"))
        operations = process_type_operation_names(process_type)
        prefix = f"{process_type.form_prefix or process_type.key}/" if process_type.forms_dir else None
        for path in process_type.diagrams:
            if not path.is_file():
                errors.append(checks.Error(f"process type {process_type.key}: diagram {path} is missing", id="custflow.E002"))
                continue
            diagram, _problems = diagram_check(path.read_bytes(), path.name)
            if diagram is None:
                continue  # shipped_diagrams_check reports why
            found = []
            if diagram.process_key != process_type.key:
                found.append(f"the diagram's process id is {diagram.process_key!r}")
            for task in diagram.user_tasks:
                form = (task.get("properties") or {}).get("form")
                if form and form not in process_type.forms and not (prefix and form.startswith(prefix)):
                    found.append(f"form {form!r} is not declared")
            for task in diagram.service_tasks:
                if task.get("operation") and task["operation"] not in operations:
                    found.append(f"operation {task['operation']!r} is not declared")
            errors.extend(checks.Error(f"process type {process_type.key}: {m}", obj=path.name, id="custflow.E003") for m in found)
    return errors

"""`manage.py check` validates the shipped diagrams: parse, sandbox compile, lanes, forms, operations."""

from django.core import checks


@checks.register("custflow")
def shipped_diagrams_check(app_configs=None, **kwargs):
    from processes.services import DiagramInvalid, diagram_validate, shipped_diagrams

    errors = []
    for path in shipped_diagrams():
        try:
            diagram_validate(path.read_bytes(), path.name)
        except DiagramInvalid as exc:
            for message in exc.field_errors.get("file", []):
                errors.append(checks.Error(message, obj=str(path.relative_to(path.parents[2])), id="custflow.E001"))
    return errors

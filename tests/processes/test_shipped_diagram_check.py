"""`manage.py check` validates the shipped diagrams (parse, sandbox, lanes, forms, operations)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from processes import services
from processes.checks import shipped_diagrams_check
from tests.fixtures.diagrams import script_diagram, user_task_diagram


def test_shipped_diagrams_pass():
    assert shipped_diagrams_check() == []
    call_command("check")


@pytest.mark.parametrize(
    "content, needle",
    [
        (user_task_diagram(lane="nobody"), "nobody"),
        (user_task_diagram(form="no/such_form"), "no/such_form"),
        (user_task_diagram(operation="customers.no_such_op"), "customers.no_such_op"),
        (script_diagram("import os"), "script"),
        (b"<broken", ""),
    ],
)
def test_broken_shipped_diagram_fails_check(tmp_path, monkeypatch, content, needle):
    folder = tmp_path / "bpmn" / "broken"
    folder.mkdir(parents=True)
    (folder / "broken.bpmn").write_bytes(content)
    monkeypatch.setattr(services, "BPMN_DIR", tmp_path / "bpmn")
    errors = shipped_diagrams_check()
    assert errors and all(e.id == "custflow.E001" for e in errors)
    assert any(needle in e.msg for e in errors), [e.msg for e in errors]
    with pytest.raises(SystemCheckError):
        call_command("check")

"""R4: schemathesis over the whole OpenAPI schema, as authenticated demo users.

Every operation gets `CUSTFLOW_FUZZ_EXAMPLES` generated requests per user and mode (3 in CI; raise it on
demand, e.g. `CUSTFLOW_FUZZ_EXAMPLES=200`), valid and invalid ones alike. No response may be a
5xx, and a response whose status the schema documents must match the documented body and
content type. All failures are collected and reported together (one per operation and check).
"""

from __future__ import annotations

import contextlib
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tasks.models import HumanTask

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("openapi-fuzz")]

EXAMPLES = int(os.environ.get("CUSTFLOW_FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _token(client, username: str) -> str:
    resp = client.post("/api/auth/token/", {"username": username, "password": "demo-pass-2026"}, format="json")
    assert resp.status_code == 200, resp.content
    return resp.json()["token"]


@contextlib.contextmanager
def wsgi_app():
    """The real WSGI application, minus closing the connection after each request (as Django's
    test client does), so requests run inside the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def live_objects(submit, api):
    """A few real objects, so small generated ids hit something: an opening with its review
    task (claimed by the reviewer), a primary-level customer."""
    assert submit("advanced").status_code == 201
    assert submit("primary").status_code == 201
    task = HumanTask.objects.filter(step="review").first()
    assert api("reviewer.sz").post(f"/api/tasks/{task.pk}/claim/").status_code == 200


@pytest.mark.parametrize("username", ["collector.sz", "reviewer.sz", "admin"])
def test_openapi_fuzz(username, live_objects):
    token = _token(APIClient(), username)
    headers = {"Authorization": f"Token {token}"}
    with wsgi_app() as app:
        failures, operations = _fuzz(schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=headers), headers)
    assert operations > 50
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in sorted(failures.items()))


def _fuzz(schema, headers: dict[str, str]) -> tuple[dict[str, str], int]:
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _examples(operation, mode, headers, failures)()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                assert mode == GenerationMode.NEGATIVE, operation.label
    return failures, operations


def _examples(operation, mode, headers: dict[str, str], failures: dict[str, str]):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except BaseException as exc:  # schemathesis raises a FailureGroup; collect, report all at the end
            if isinstance(exc, KeyboardInterrupt):
                raise
            key = f"{operation.label} [{type(exc).__name__}]"
            failures.setdefault(key, f"{case.method} {case.formatted_path} → {response.status_code}: {str(exc)[:600]}")

    return run

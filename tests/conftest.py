from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import opening_payload

# The fast tier (`scripts/test.sh --fast`: SQLite, no browser, no integration) leaves these out:
# each is thorough and long; the full suite runs them on both databases.
HEAVY = (
    "tests/api/test_openapi_fuzz.py",
    "tests/api/test_get_is_safe.py",
    "tests/complaints/test_no_server_errors.py",
    "tests/deploy/",
    "tests/processes/test_long_rework_loop.py",
    "tests/processes/test_script_isolation.py",
    "tests/processes/test_timer_step_isolation.py",
    "tests/processes/engine/test_engine_compaction.py::test_return_loop_survives_1000_rounds",
    "tests/tasks/test_flow_properties.py",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(HEAVY):
            item.add_marker(pytest.mark.heavy)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters (the cache) start empty in every test."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def audit_checkpoint_dir(tmp_path_factory, monkeypatch):
    """Every test its own audit checkpoint directory (created on first write): the test database is
    rolled back after each test, so a checkpoint written by one test must not judge the next."""
    from uuid import uuid4

    from django.conf import settings

    path = tmp_path_factory.getbasetemp() / f"audit-checkpoints-{uuid4().hex}"
    monkeypatch.setitem(settings.CUSTFLOW["AUDIT"], "CHECKPOINT_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup, django_db_blocker):
    """The demo seed, run once per test database and kept in side tables (tests/demo_snapshot.py)."""
    from tests.demo_snapshot import DemoSnapshot

    with django_db_blocker.unblock():
        return DemoSnapshot.take()


@pytest.fixture
def demo(db, demo_snapshot):
    """The demo org tree, users, sales agents and deployed diagrams: the rows `seed_demo` writes,
    copied in from the session's snapshot (a few INSERT … SELECT instead of a seed per test)."""
    demo_snapshot.restore()


@pytest.fixture
def users(demo, django_user_model):
    return {u.username: u for u in django_user_model.objects.all()}


@pytest.fixture
def api(users):
    """api("reviewer.sz") → an APIClient authenticated with that user's token.

    Tokens expire after an idle time (docs/SECURITY.md §10): when a test moves the clock
    (time-machine) between two calls, the same client signs in again for a fresh token."""
    clients: dict[str, APIClient] = {}
    last_call: dict[str, datetime] = {}

    def client_for(username: str) -> APIClient:
        now = timezone.now()
        moved = username in last_call and abs(now - last_call[username]) > timedelta(minutes=5)
        if username not in clients or moved:
            c = clients.get(username) or APIClient()
            resp = c.post("/api/auth/token/", {"username": username, "password": "demo-pass-2026"}, format="json")
            assert resp.status_code == 200, resp.content
            c.credentials(HTTP_AUTHORIZATION=f"Token {resp.json()['token']}")
            clients[username] = c
        last_call[username] = now
        return clients[username]

    return client_for


@pytest.fixture
def submit(api):
    """submit(level, as_user="collector.sz", confirm_as="officer.sz", **overrides) → the API response.

    A collector's submission waits for a customer-information officer (seed 003 §1.1.1); most
    tests are about what comes after, so `confirm_as` confirms it at once and the response's
    body is then the opening as it stands after the confirmation. `confirm_as=None` leaves the
    case at the officer's step."""

    def _submit(level: str = "advanced", as_user: str = "collector.sz", confirm_as: str | None = "officer.sz", **overrides):
        resp = api(as_user).post("/api/account-openings/", opening_payload(level, **overrides), format="multipart")
        return officer_confirmed(api, resp, as_user=as_user, confirm_as=confirm_as)

    return _submit


def officer_confirmed(api, resp, *, as_user: str = "collector.sz", confirm_as: str | None = "officer.sz"):
    """The response of POST /api/account-openings/ after the officer's step (if it waits and
    `confirm_as` is given): its body becomes the opening as it then stands."""
    if resp.status_code == 201 and confirm_as:
        officer_confirm(api, resp.json()["id"], confirm_as)
        detail = api(as_user).get(f"/api/account-openings/{resp.json()['id']}/")
        assert detail.status_code == 200, detail.content
        resp.json = detail.json
    return resp


def officer_confirm(api, opening_id: int, username: str = "officer.sz", **data) -> None:
    """The officer's step of a collector's opening, if it waits: confirm it (or `data`)."""
    from tasks.models import HumanTask

    task = HumanTask.objects.filter(case_type="customers.accountopening", case_id=opening_id, step="officer_check", status="ready").first()
    if task is None:
        return
    resp = api(username).post(f"/api/tasks/{task.pk}/complete/", {"decision": "confirm", **data}, format="json")
    assert resp.status_code == 200, resp.content


def inbox(client) -> list[dict]:
    resp = client.get("/api/tasks/")
    assert resp.status_code == 200, resp.content
    return resp.json()["results"]

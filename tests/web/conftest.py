"""Fixtures of the web page tests: the seeded demo data, logged-in clients, a pending opening."""

from __future__ import annotations

import pytest
from django.test import Client

from tasks.models import HumanTask
from tests.web.helpers import DEMO_PASSWORD, submit_opening

OPENING_CASE = "customers.accountopening"


@pytest.fixture
def seeded(demo):
    """The demo seed (tests/conftest.py restores it from the session's snapshot)."""


@pytest.fixture
def login(seeded):
    def _login(username: str) -> Client:
        client = Client()
        assert client.login(username=username, password=DEMO_PASSWORD)
        return client

    return _login


@pytest.fixture
def opening(seeded):
    """An advanced-level opening submitted by collector.sz: it waits for review in 深圳."""
    return submit_opening()


@pytest.fixture
def review_task(opening) -> HumanTask:
    return HumanTask.objects.get(case_type=OPENING_CASE, case_id=opening.pk, step="review", status="ready")

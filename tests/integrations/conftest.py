from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from backend.integrations.clients import api_client_create
from tests.factories import png_bytes


@pytest.fixture
def make_client(demo):
    """make_client("GD-SZ", scopes=("open", "query")) → (ApiClient, APIClient with its token)."""

    def _make(
        org_unit: str = "GD-SZ", scopes=("open", "query"), name: str | None = None, callback_url: str = ""
    ):
        client, token = api_client_create(
            actor=None,
            name=name or f"承保系统-{org_unit}-{'-'.join(scopes)}",
            org_unit_code=org_unit,
            scopes=list(scopes),
            callback_url=callback_url,
        )
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client, http, token

    return _make


def scan_b64() -> str:
    return base64.b64encode(png_bytes()).decode("ascii")


def open_payload(**overrides) -> dict:
    from tests.factories import resident_id

    data = {
        "name": "王自动",
        "id_type": "resident_id",
        "id_number": resident_id(),
        "scan": scan_b64(),
        "scan_filename": "id.png",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture(autouse=True)
def jobs_inline(monkeypatch):
    """Jobs run inline here even in an integration run (CUSTFLOW_INTEGRATION=1 turns eager
    mode off for the real-worker tests); these tests call the job functions' effects directly."""
    from backend.config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)

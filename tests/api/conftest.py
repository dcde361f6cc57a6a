from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def jobs_inline(monkeypatch):
    """Jobs queued by the API run inline here, also in an integration run (CUSTFLOW_INTEGRATION=1
    turns eager mode off for the real-worker tests), so nothing is left on the broker."""
    from backend.config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)

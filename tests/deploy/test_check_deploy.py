"""R10: `manage.py check --deploy` is clean under the production settings (warnings fail too)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check(**env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CUSTFLOW_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**base, "DJANGO_SETTINGS_MODULE": "backend.config.settings.production", **env},
        capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = _check(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="custflow.example.com")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_a_weak_secret_key():
    # The check can fail: Django's own security checks are active under these settings.
    result = _check(DJANGO_SECRET_KEY="short", DJANGO_ALLOWED_HOSTS="custflow.example.com")
    assert result.returncode != 0 and "security.W009" in result.stdout + result.stderr

"""Control 15: under the production settings `/api/schema/` and `/api/docs/` need a signed-in user.

drf-spectacular reads SERVE_PERMISSIONS when its views module is imported, so the check runs in a
fresh interpreter started with the production settings (the test settings keep the map open for
the OpenAPI fuzz tests)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json
import django
from django.test import override_settings

django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import resolve
from rest_framework.test import APIRequestFactory, force_authenticate

out = {}
static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
with override_settings(STORAGES={"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                                 "staticfiles": static}):
    client = Client()
    factory = APIRequestFactory()
    user = get_user_model()(pk=1, username="reader", is_active=True)
    for path in ("/api/schema/", "/api/docs/"):
        anonymous = client.get(path, secure=True)
        out[path + " anonymous"] = anonymous.status_code
        request = factory.get(path, secure=True)
        force_authenticate(request, user=user)
        response = resolve(path).func(request)
        if hasattr(response, "render"):
            response.render()
        out[path + " signed-in"] = response.status_code
print(json.dumps(out))
"""


def _probe(settings: str) -> dict[str, int]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CUSTFLOW_", "DATABASE_URL"))}
    env = {
        **base,
        "DJANGO_SETTINGS_MODULE": settings,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_hides_the_api_map_from_anonymous_and_serves_it_to_signed_in_users():
    seen = _probe("backend.config.settings.production")
    for path in ("/api/schema/", "/api/docs/"):
        assert seen[f"{path} anonymous"] in (401, 403), seen
        assert seen[f"{path} signed-in"] == 200, seen


def test_local_settings_keep_the_map_open():
    # The contrast that proves the probe can see an open map (the fuzz tests rely on it).
    seen = _probe("backend.config.settings.local")
    assert seen["/api/schema/ anonymous"] == 200, seen

"""Control 10: people's API tokens expire when idle and at an absolute limit, and die on
sign-out and on a password change (whatever path changes it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from backend.accounts.models import AuthToken
from backend.accounts.services import user_password_set
from backend.common.models import AuditEvent
from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db

IDLE = settings.REST_KNOX["TOKEN_TTL"]
ABSOLUTE = settings.REST_KNOX["AUTO_REFRESH_MAX_TTL"]
PROBE = "/api/notifications/"


def token_for(username: str) -> str:
    resp = APIClient().post("/api/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert resp.status_code == 200, resp.content
    assert set(resp.json()) == {"token"}
    return resp.json()["token"]


def call(token: str, url: str = PROBE, method: str = "get"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return getattr(client, method)(url)


def test_the_expiry_settings_are_bounded():
    assert settings.REST_KNOX["AUTO_REFRESH"] is True
    assert timedelta(0) < IDLE < ABSOLUTE


def test_a_token_used_within_the_idle_time_lives_on(people):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = token_for("alice.sz")
    # Three idle periods in all, never idle for a whole one.
    for k in range(1, 4):
        with time_machine.travel(start + k * (IDLE - timedelta(minutes=2)), tick=False):
            assert call(token).status_code == 200


def test_a_token_idle_longer_than_the_idle_time_is_dead(people):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = token_for("alice.sz")
    with time_machine.travel(start + IDLE - timedelta(minutes=2), tick=False):
        assert call(token).status_code == 200  # renews: idle counts from here
    with time_machine.travel(start + 2 * IDLE - timedelta(minutes=3), tick=False):
        assert call(token).status_code == 200
    with time_machine.travel(start + 3 * IDLE + timedelta(minutes=1), tick=False):
        assert call(token).status_code == 401
    assert not AuthToken.objects.exists()


def test_a_token_in_constant_use_dies_at_the_absolute_limit(people):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = token_for("alice.sz")
    step = IDLE / 2
    at = start + step
    while at < start + ABSOLUTE - timedelta(minutes=1):
        with time_machine.travel(at, tick=False):
            assert call(token).status_code == 200
        at += step
    with time_machine.travel(start + ABSOLUTE + timedelta(minutes=1), tick=False):
        assert call(token).status_code == 401


def test_sign_out_kills_that_token_only_and_is_audited(people):
    first, second = token_for("alice.sz"), token_for("alice.sz")
    assert call(first, "/api/auth/logout/", "post").status_code == 204
    assert call(first).status_code == 401
    assert call(first, "/api/auth/logout/", "post").status_code == 401
    assert call(second).status_code == 200  # another device stays signed in
    assert AuditEvent.objects.filter(action="auth.signed_out", object_id=str(people["alice.sz"].pk), actor=people["alice.sz"]).count() == 1


def test_sign_out_needs_a_signed_in_caller(people):
    assert APIClient().post("/api/auth/logout/").status_code == 401


def test_password_change_through_the_service_kills_every_token(people):
    alice = people["alice.sz"]
    tokens = [token_for("alice.sz"), token_for("alice.sz")]
    other = token_for("bob.sz")
    user_password_set(actor=alice, user=alice, password="a-new-long-secret-9")
    assert [call(t).status_code for t in tokens] == [401, 401]
    assert call(other).status_code == 200
    assert not AuthToken.objects.filter(user=alice).exists()
    assert AuditEvent.objects.filter(action="auth.password_changed", object_id=str(alice.pk)).exists()


def test_password_change_by_any_other_path_kills_the_tokens_too(people, monkeypatch):
    alice = people["alice.sz"]
    token = token_for("alice.sz")
    alice.set_password("changed-in-the-admin-42")  # admin form, shell: no service call
    alice.save()
    assert call(token).status_code == 401
    bob_token = token_for("bob.sz")
    monkeypatch.setattr("getpass.getpass", lambda *a, **k: "changed-by-command-42")
    call_command("changepassword", "bob.sz", stdout=open("/dev/null", "w"))
    assert call(bob_token).status_code == 401


def test_hostile_token_headers_get_401_not_a_server_error(people):
    for header in ("Token \xff\xfe\xfd", "Token " + "a" * 10_000, "Token", "Token a b", "Token ../../etc"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get(PROBE).status_code == 401, header


def test_tokens_are_stored_hashed(people):
    token = token_for("alice.sz")
    row = AuthToken.objects.get()
    assert token not in (row.digest, row.token_key) and row.token_key == token[: len(row.token_key)]


def test_an_upstream_client_token_is_not_signed_out_here(demo):
    from backend.integrations.clients import api_client_create

    _, token = api_client_create(actor=None, name="承保系统-登出", org_unit_code="GD-SZ", scopes=["query"], callback_url="")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post("/api/auth/logout/").status_code == 401
    assert client.get("/api/integrations/customers/check", {"id_number": "110101199003074514"}).status_code != 401


def test_admin_lists_sign_in_tokens_without_their_secrets(people, admin_client):
    token = token_for("alice.sz")
    page = admin_client.get("/admin/accounts/authtoken/")
    assert page.status_code == 200 and "alice.sz" in page.content.decode()
    row = AuthToken.objects.get(user=people["alice.sz"])
    # The row is keyed by the token's one-way digest; the token and the password MAC never show.
    assert token not in page.content.decode() and row.password_mac not in page.content.decode()

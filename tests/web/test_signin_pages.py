"""Control 10 on the web: the sign-in page under lockout, the session idle timeout, sign-out and
a password change end the session."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from backend.common.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "demo-pass-2026"
IDLE = timedelta(seconds=settings.SESSION_COOKIE_AGE)


@pytest.fixture
def alice(db, django_user_model):
    return django_user_model.objects.create_user("alice.sz", password=PASSWORD)


def sign_in(client: Client, password: str, ip: str = "10.7.7.7"):
    return client.post("/login/", {"username": "alice.sz", "password": password}, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    resp = client.get("/notifications/")
    return resp.status_code == 200


def test_lockout_shows_the_form_again_with_a_chinese_message(alice):
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        resp = sign_in(client, f"wrong-{i}")
        assert resp.status_code in {200, 429}
    resp = sign_in(client, PASSWORD)
    assert resp.status_code == 429 and "Retry-After" in resp
    page = resp.content.decode()
    assert 'name="password"' in page and "锁定" in page and "分钟后再试" in page
    assert not signed_in(client)


def test_sign_in_and_sign_out_are_audited_and_sign_out_deletes_the_session(alice):
    client = Client()
    assert sign_in(client, PASSWORD).status_code == 302
    assert signed_in(client)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.post("/logout/").status_code == 302
    assert not Session.objects.filter(session_key=cookie).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert not signed_in(replay)
    actions = list(AuditEvent.objects.filter(object_type="auth.user", object_id=str(alice.pk)).values_list("action", flat=True))
    assert actions == ["auth.signed_in", "auth.signed_out"]


def test_session_ends_after_the_idle_time_and_lives_while_used(alice):
    start = timezone.now()
    client = Client()
    with time_machine.travel(start, tick=False):
        assert sign_in(client, PASSWORD).status_code == 302
    with time_machine.travel(start + IDLE - timedelta(minutes=1), tick=False):
        assert signed_in(client)  # renews the session
    with time_machine.travel(start + 2 * IDLE - timedelta(minutes=2), tick=False):
        assert signed_in(client)
    with time_machine.travel(start + 3 * IDLE, tick=False):
        assert not signed_in(client)


def test_password_change_ends_the_other_sessions(alice):
    client = Client()
    assert sign_in(client, PASSWORD).status_code == 302
    alice.set_password("a-fresh-long-secret-8")
    alice.save()
    assert not signed_in(client)

"""Control 10: repeated sign-in failures lock the username and the client address (django-axes),
even for the right password, until the cool-off ends; every step is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from backend.common.models import AuditEvent
from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(username: str, password: str, ip: str = "10.1.1.1"):
    return APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=ip)


def fail(n: int, usernames, ip: str) -> None:
    for i in range(n):
        assert sign_in(usernames[i % len(usernames)], f"wrong-guess-{i}", ip).status_code in {400, 429}


def test_failures_for_one_user_lock_it_from_every_address_even_with_the_right_password(people):
    fail(settings.AXES_FAILURE_LIMIT, ["alice.sz"], ip="10.1.1.1")
    for ip in ("10.1.1.1", "10.9.9.9"):
        resp = sign_in("alice.sz", PASSWORD, ip)
        assert resp.status_code == 429
        assert "token" not in resp.json()
        assert resp.json()["code"] == "locked_out" and "锁定" in resp.json()["detail"]
        assert int(resp["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    # Another user is not affected.
    assert sign_in("bob.sz", PASSWORD, "10.9.9.9").status_code == 200


def test_one_failure_short_of_the_limit_still_signs_in(people):
    fail(settings.AXES_FAILURE_LIMIT - 1, ["alice.sz"], ip="10.1.1.1")
    assert sign_in("alice.sz", PASSWORD).status_code == 200


def test_failures_from_one_address_across_usernames_lock_that_address(people):
    # Password spraying: one guess per username, existing or not.
    names = ["alice.sz", "bob.sz", "nobody-1", "nobody-2", "nobody-3"]
    fail(settings.AXES_FAILURE_LIMIT, names, ip="10.2.2.2")
    resp = sign_in("carol.sz", PASSWORD, "10.2.2.2")  # never guessed, right password
    assert resp.status_code == 429 and "Retry-After" in resp
    assert sign_in("carol.sz", PASSWORD, "10.3.3.3").status_code == 200


def test_cool_off_ends_the_lockout(people):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(settings.AXES_FAILURE_LIMIT, ["alice.sz"], ip="10.1.1.1")
        assert sign_in("alice.sz", PASSWORD).status_code == 429
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME - timedelta(seconds=30), tick=False):
        # The refused attempt above restarted the cool-off: still locked.
        assert sign_in("alice.sz", PASSWORD).status_code == 429
    with time_machine.travel(start + 2 * settings.AXES_COOLOFF_TIME + timedelta(minutes=1), tick=False):
        assert sign_in("alice.sz", PASSWORD).status_code == 200


def test_sign_in_failure_lockout_and_success_are_audited(people):
    alice = people["alice.sz"]
    assert sign_in("alice.sz", PASSWORD, "10.4.4.4").status_code == 200
    fail(settings.AXES_FAILURE_LIMIT, ["alice.sz"], ip="10.4.4.4")
    sign_in("nobody-at-all", "x", "10.5.5.5")
    events = list(AuditEvent.objects.filter(object_type="auth.user", object_id=str(alice.pk)).order_by("id"))
    actions = [e.action for e in events]
    assert actions[0] == "auth.signed_in" and events[0].actor_id == alice.pk
    assert actions.count("auth.sign_in_failed") == settings.AXES_FAILURE_LIMIT
    assert "auth.locked_out" in actions
    assert all(e.data["ip"] == "10.4.4.4" and e.data["username"] == "alice.sz" for e in events)
    assert not any("wrong-guess" in str(e.data) for e in events)  # never the typed password
    unknown = AuditEvent.objects.get(object_type="auth.signin", object_id="unknown")
    assert unknown.action == "auth.sign_in_failed" and unknown.data["username"] == "nobody-at-all"


def test_a_huge_username_is_refused_without_a_server_error(people):
    resp = APIClient().post("/api/auth/token/", {"username": "x" * 100_000, "password": "y" * 100_000}, format="json")
    assert resp.status_code == 400


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_the_proxy_the_address_it_saw_counts_and_forged_entries_do_not(people):
    proxy = "10.0.0.2"

    def via_proxy(username, password, client_ip, forged=""):
        header = f"{forged}, {client_ip}" if forged else client_ip
        return APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=header)

    # Spraying from one client while forging a new left-most address on every try.
    for i in range(settings.AXES_FAILURE_LIMIT):
        via_proxy(f"nobody-{i}", "wrong", "198.51.100.7", forged=f"192.0.2.{i}")
    assert via_proxy("carol.sz", PASSWORD, "198.51.100.7", forged="192.0.2.200").status_code == 429
    # Other clients behind the same proxy are not locked out with it.
    assert via_proxy("carol.sz", PASSWORD, "198.51.100.8").status_code == 200
    # The guesses and the refused attempt are recorded against the real client, never a forged one.
    assert AuditEvent.objects.filter(action="auth.sign_in_failed", data__ip="198.51.100.7").count() == settings.AXES_FAILURE_LIMIT + 1
    assert not AuditEvent.objects.filter(data__ip__startswith="192.0.2.").exists()

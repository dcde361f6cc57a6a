"""A session save cut by a database restart must not answer 400 after the view's write committed
(the restart drill saw one): the store reconnects once, else drops the update; a session deleted
meanwhile is still Django's UpdateError."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError, OperationalError

from backend.accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _store():
    store = SessionStore()
    store["k"] = 1
    store.save(must_create=True)
    return store


def test_a_cut_connection_is_retried_once(monkeypatch):
    store = _store()
    calls = []
    original = store.model.save

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(store.model, "save", flaky)
    store["k"] = 2
    store.save()
    assert len(calls) == 2
    assert SessionStore(session_key=store.session_key)["k"] == 2


def test_a_database_still_away_drops_the_update_without_an_error(monkeypatch, caplog):
    store = _store()

    def down(self, *args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(store.model, "save", down)
    store["k"] = 3
    store.save()  # no UpdateError: the request is not turned into a 400
    assert "session update dropped" in caplog.text


def test_a_deleted_session_is_still_an_update_error(monkeypatch):
    store = _store()

    def gone(self, *args, **kwargs):
        raise DatabaseError("Forced update did not affect any rows.")

    monkeypatch.setattr(store.model, "save", gone)
    with pytest.raises(UpdateError):
        store.save()

"""The session store: Django's database sessions, except that a session whose save fails because
the database connection was cut (a PostgreSQL restart or failover) does not turn the request into
a 400. Django maps any DatabaseError while updating a session to `UpdateError`, which the session
middleware answers with "Bad Request" — after the view's own write may already have committed, so
the client would retry a write that counted. Here a cut connection is closed and the save tried
once more; if the database is still away the update is given up (the session keeps its previous
state and idle time) and logged. A session deleted meanwhile (the real `UpdateError`) is left as
Django handles it."""

from __future__ import annotations

import logging

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import InterfaceError, OperationalError, connections, router

logger = logging.getLogger(__name__)
CONNECTION_ERRORS = (OperationalError, InterfaceError)


class SessionStore(db.SessionStore):
    def save(self, must_create: bool = False) -> None:
        try:
            return super().save(must_create=must_create)
        except UpdateError as exc:
            if must_create or not isinstance(exc.__context__, CONNECTION_ERRORS):
                raise
        connection = connections[router.db_for_write(self.model)]
        if not connection.in_atomic_block and connection.connection is not None and not connection.is_usable():
            connection.close()  # the cut connection: the next query opens a new one
        try:
            return super().save(must_create=False)
        except UpdateError as exc:
            if not isinstance(exc.__context__, CONNECTION_ERRORS):
                raise
            logger.warning("session update dropped: the database is unreachable (%s)", type(exc.__context__).__name__)
            return None

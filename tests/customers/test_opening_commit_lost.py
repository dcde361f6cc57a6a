"""A submission whose COMMIT is cut (the connection lost on the way) keeps its scan file.

The outcome of such a commit is unknown to the web process; PostgreSQL may well have committed
it (the restart drill in tests/integration/test_restarts.py sees exactly that). The opening then
exists, and its reviewer must find the scan he approves: only a submission known to be rolled
back (an error before the commit) removes the files it saved.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import OperationalError, connection

from backend.customers.models import AccountOpening, ScanDocument
from backend.customers.services import account_opening_submit
from tests.factories import ID_VALID_UNTIL, resident_id, scan_upload

pytestmark = pytest.mark.django_db(transaction=True)


def _submit(actor):
    return account_opening_submit(
        actor=actor,
        info_level="advanced",
        name="断线客户",
        id_type="resident_id",
        id_number=resident_id(),
        phone="13800000000",
        id_valid_until=ID_VALID_UNTIL,
        scan=scan_upload(),
    )


def test_a_commit_cut_after_it_happened_keeps_the_scan_of_the_case_it_made(demo, monkeypatch):
    officer = get_user_model().objects.get(username="officer.sz")
    real_commit = connection.commit

    def commit_then_lose_the_connection():
        real_commit()
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(connection, "commit", commit_then_lose_the_connection)
    with pytest.raises(OperationalError):
        _submit(officer)
    monkeypatch.undo()

    opening = AccountOpening.objects.get()  # the commit happened
    document = ScanDocument.objects.get(opening=opening)
    assert default_storage.exists(document.file.name), "the committed case lost its scan"


def test_an_error_before_the_commit_removes_the_saved_scan(demo, monkeypatch):
    from backend.customers import services

    officer = get_user_model().objects.get(username="officer.sz")
    saved: list[str] = []
    real_start = services.process_instance_start

    def start_then_fail(**kwargs):
        saved.extend(ScanDocument.objects.values_list("file", flat=True))
        real_start(**kwargs)
        raise RuntimeError("the step failed")

    monkeypatch.setattr(services, "process_instance_start", start_then_fail)
    with pytest.raises(RuntimeError):
        _submit(officer)

    assert AccountOpening.objects.count() == 0
    assert saved and not any(default_storage.exists(name) for name in saved)

"""Issue 16 items 1-2: an import row is checked again when an officer accepts it; a person on
the active blacklist cannot be opened from an import (400 on `decision`, nothing written)."""

from __future__ import annotations

import io

import pytest

from backend.customers.models import Customer
from backend.integrations.imports import import_reviews_start
from backend.integrations.models import ImportReview
from tasks.models import HumanTask
from tests.customers.test_blacklist import approve_blacklist, propose
from tests.factories import resident_id

pytestmark = pytest.mark.django_db


def test_a_blacklisted_row_cannot_be_accepted_from_the_import(api, django_capture_on_commit_callbacks):
    number = resident_id(serial=555)
    change = propose(api, id_number=number, source="反洗钱名单")
    assert change.status_code == 201, change.content
    approve_blacklist(api, change.json()["id"])
    f = io.BytesIO(f"姓名,证件类型,证件号码\n黑名单人,居民身份证,{number}\n".encode())
    f.name = "rows.csv"
    with django_capture_on_commit_callbacks(execute=True):
        resp = api("officer.sz").post("/api/integrations/imports/", {"file": f}, format="multipart")
    assert resp.status_code == 202, resp.content
    detail = api("officer.sz").get(f"/api/integrations/imports/{resp.json()['id']}/").json()
    assert detail["flagged_rows"] == [
        {"row_number": 2, "outcome": "suspicious", "customer_id": None, "flags": ["blacklist_hit"]}
    ]
    review = ImportReview.objects.get()
    import_reviews_start(batch_id=review.batch_id)
    task = HumanTask.objects.get(process_key="import_row_review", status="ready")
    page = api("officer.sz").get(f"/api/tasks/{task.pk}/").json()
    assert page["case"]["flags"] == ["blacklist_hit"]
    refused = api("officer.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "accept"}, format="json")
    assert refused.status_code == 400, refused.content
    assert "黑名单" in refused.json()["decision"][0]
    assert not Customer.objects.filter(id_number=number).exists()
    assert HumanTask.objects.get(pk=task.pk).status == "ready"

"""Issue 16 item 5 on the upstream path: POST /api/integrations/customers/ takes id_valid_until;
an expired document is a failed check (202, an officer's task, no customer), 长期 opens."""

from __future__ import annotations

import pytest

from backend.customers.models import Customer
from backend.integrations.models import IntegrationRequest
from tests.integrations.conftest import open_payload

pytestmark = pytest.mark.django_db

URL = "/api/integrations/customers/"


def test_upstream_opening_takes_the_validity_and_refuses_an_expired_document(make_client):
    _c, http, _t = make_client()
    resp = http.post(
        URL, open_payload(id_valid_until="2001-01-01"), format="json", HTTP_IDEMPOTENCY_KEY="k-old"
    )
    assert resp.status_code == 202, resp.content
    body = resp.json()
    assert body["status"] == "needs_review" and body["customer_id"] is None
    assert set(body["errors"]) == {"id_valid_until"}  # the client learns which field, the officer why
    assert "已过期" in IntegrationRequest.objects.get(pk=body["request_id"]).errors["id_valid_until"][0]
    assert not Customer.objects.exists()

    resp = http.post(
        URL, open_payload(id_valid_until="2040/01/01"), format="json", HTTP_IDEMPOTENCY_KEY="k-bad"
    )
    assert resp.status_code == 202
    assert (
        "YYYY-MM-DD"
        in IntegrationRequest.objects.get(pk=resp.json()["request_id"]).errors["id_valid_until"][0]
    )

    ok = http.post(URL, open_payload(id_valid_until="长期"), format="json", HTTP_IDEMPOTENCY_KEY="k-ok")
    assert ok.status_code == 201, ok.content
    customer = Customer.objects.get()
    assert (customer.id_valid_until, customer.id_valid_long_term) == (None, True)

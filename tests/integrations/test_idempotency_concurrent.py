"""100 concurrent retries of one opening with one Idempotency-Key: one customer, 100 identical
responses. Real threads and real connections on PostgreSQL (SQLite serialises all writers,
so the race this guards against cannot happen there)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from backend.customers.models import Customer
from backend.integrations.models import IdempotencyRecord, IntegrationRequest
from tests.integrations.conftest import open_payload

pytestmark = pytest.mark.xdist_group("pg-concurrency")

RETRIES = 100
# Threads share PostgreSQL's max_connections (100) with other users of the server, so 100
# requests run from 30 threads released together by a barrier.
THREADS = 30


@pytest.mark.django_db(transaction=True)
def test_hundred_concurrent_retries_open_one_customer(make_client):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no concurrent race to test")
    _client, _http, token = make_client()
    payload = open_payload()
    barrier = threading.Barrier(THREADS)

    def worker(n: int) -> list[tuple[int, str]]:
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        barrier.wait()
        out = []
        try:
            for _ in range(n):
                resp = http.post(
                    "/api/integrations/customers/", payload, format="json", HTTP_IDEMPOTENCY_KEY="same-key"
                )
                out.append((resp.status_code, json.dumps(resp.json(), sort_keys=True)))
        finally:
            connections.close_all()
        return out

    shares = [RETRIES // THREADS + (1 if i < RETRIES % THREADS else 0) for i in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        results = [r for chunk in pool.map(worker, shares) for r in chunk]
    assert len(results) == RETRIES
    assert len(set(results)) == 1, set(results)
    status, body = results[0]
    assert status == 201
    assert Customer.objects.count() == 1
    assert json.loads(body)["customer_id"] == Customer.objects.get().pk
    assert IntegrationRequest.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1

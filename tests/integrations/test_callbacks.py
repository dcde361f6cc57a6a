"""Status callbacks through the outbox: a real local HTTP receiver that fails the first three
deliveries receives the event exactly once after recovery, and every attempt is logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from backend.integrations.callbacks import callbacks_deliver
from backend.integrations.models import CallbackAttempt, CallbackEvent
from tests.integrations.conftest import open_payload

pytestmark = pytest.mark.django_db


class Receiver:
    """Fails the first `fail` deliveries with 500, then accepts; keeps events by id (dedup)."""

    def __init__(self, fail: int, secret_holder: dict) -> None:
        self.fail = fail
        self.calls: list[dict] = []
        self.accepted: dict[str, dict] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers["X-Custflow-Timestamp"]
                expected = (
                    "sha256="
                    + hmac.new(
                        secret_holder["secret"].encode(), timestamp.encode() + b"." + body, hashlib.sha256
                    ).hexdigest()
                )
                event_id = self.headers["X-Custflow-Event-Id"]
                receiver.calls.append(
                    {
                        "event_id": event_id,
                        "signed": hmac.compare_digest(expected, self.headers["X-Custflow-Signature"]),
                    }
                )
                if len(receiver.calls) <= receiver.fail:
                    self.send_response(500)
                else:
                    receiver.accepted.setdefault(event_id, json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver(settings):
    holder: dict = {}
    r = Receiver(fail=3, secret_holder=holder)
    r.holder = holder
    # A loopback receiver is inside the network: the test allow-lists exactly its host:port.
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = [f"127.0.0.1:{r.server.server_address[1]}"]
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_receiver_failing_three_times_gets_the_event_once_after_recovery(make_client, receiver):
    client, http, _t = make_client(callback_url=receiver.url)
    receiver.holder["secret"] = client.callback_secret
    resp = http.post(
        "/api/integrations/customers/", open_payload(), format="json", HTTP_IDEMPOTENCY_KEY="cb-1"
    )
    assert resp.status_code == 201
    event = CallbackEvent.objects.get()
    now = timezone.now()
    for round_ in range(6):  # the job runs again and again; time moves past each backoff
        callbacks_deliver(now=now + timedelta(hours=round_))
    event.refresh_from_db()
    assert event.status == "delivered"
    assert event.attempts == 4
    assert [c["event_id"] for c in receiver.calls] == [str(event.event_id)] * 4
    assert all(c["signed"] for c in receiver.calls)
    assert list(receiver.accepted) == [str(event.event_id)]
    assert receiver.accepted[str(event.event_id)]["data"] == resp.json()
    assert list(
        CallbackAttempt.objects.filter(event=event).order_by("id").values_list("status_code", flat=True)
    ) == [500, 500, 500, 204]


def test_no_attempt_before_the_backoff_has_passed(make_client, receiver):
    client, http, _t = make_client(callback_url=receiver.url)
    receiver.holder["secret"] = client.callback_secret
    http.post("/api/integrations/customers/", open_payload(), format="json", HTTP_IDEMPOTENCY_KEY="cb-2")
    now = timezone.now()
    callbacks_deliver(now=now)
    callbacks_deliver(now=now)
    assert CallbackAttempt.objects.count() == 1
    assert CallbackEvent.objects.get().next_attempt_at > now


def test_unreachable_receiver_is_logged_and_retried(make_client, settings):
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = ["127.0.0.1:9"]
    _client, http, _t = make_client(callback_url="http://127.0.0.1:9/nothing-listens")
    http.post("/api/integrations/customers/", open_payload(), format="json", HTTP_IDEMPOTENCY_KEY="cb-3")
    callbacks_deliver(now=timezone.now())
    attempt = CallbackAttempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error != ""
    assert CallbackEvent.objects.get().status == "pending"


def test_later_status_changes_of_an_opened_customer_reach_the_client(make_client, api, settings):
    """Freezing (and unfreezing) a customer an upstream system opened queues a
    customer.status_changed event with the business gate, and no personal data."""
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = ["127.0.0.1:9"]
    client, http, _ = make_client("GD-SZ", callback_url="http://127.0.0.1:9/callback")
    other, _, _ = make_client("GD-SZ", name="理赔系统", callback_url="http://127.0.0.1:9/other")
    resp = http.post("/api/integrations/customers/", open_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-status-1")
    assert resp.status_code == 201, resp.content
    customer_id = resp.json()["customer_id"]
    CallbackEvent.objects.all().delete()  # the opening's own event is tested above

    assert api("officer.sz").post(f"/api/customers/{customer_id}/freeze/", {"reason": "司法冻结"}, format="json").status_code == 200
    [event] = CallbackEvent.objects.filter(event_type="customer.status_changed")
    assert event.client_id == client.pk  # only the client that opened it, not every client
    assert event.payload == {"customer_id": customer_id, "status": "frozen", "can_do_business": False}
    assert api("officer.sz").post(f"/api/customers/{customer_id}/unfreeze/", {"reason": "解除"}, format="json").status_code == 200
    assert [e.payload["can_do_business"] for e in CallbackEvent.objects.filter(event_type="customer.status_changed").order_by("id")] == [False, True]
    assert not CallbackEvent.objects.filter(client=other).exists()

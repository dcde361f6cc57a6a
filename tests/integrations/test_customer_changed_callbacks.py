"""Issue 16 item 7: upstream clients subscribed to a customer (they opened it or asked about
it) receive `customer.changed` callbacks naming the changed fields, never their values, next to
the status events; a rejected change sends nothing."""

from __future__ import annotations

import json

import pytest

from backend.customers.models import Customer
from backend.integrations.models import CallbackEvent
from tests.conftest import inbox
from tests.integrations.conftest import open_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(make_client, settings):
    # The callback receiver address is inside the network: the test allow-lists exactly it.
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = ["127.0.0.1:9"]
    client, http, _token = make_client(callback_url="http://127.0.0.1:9/hook")
    resp = http.post(
        "/api/integrations/customers/", open_payload(), format="json", HTTP_IDEMPOTENCY_KEY="chg-1"
    )
    assert resp.status_code == 201, resp.content
    customer = Customer.objects.get(pk=resp.json()["customer_id"])
    assert customer.status == "active"
    return client, customer


def amend(api, customer, decision="approve", **changes):
    resp = api("officer.sz").post(
        f"/api/customers/{customer.pk}/amendments/", {**changes, "reason": "客户来电"}, format="json"
    )
    assert resp.status_code == 201, resp.content
    [task] = [t for t in inbox(api("reviewer.sz")) if t["case_id"] == resp.json()["id"]]
    done = api("reviewer.sz").post(
        f"/api/tasks/{task['id']}/complete/", {"decision": decision, "comment": "核实"}, format="json"
    )
    assert done.status_code == 200, done.content


def test_subscribed_client_gets_the_changed_fields_without_values(api, opened):
    client, customer = opened
    before = set(CallbackEvent.objects.values_list("pk", flat=True))
    amend(api, customer, phone="13912346666", address="深圳市南山区 6 号")
    [event] = CallbackEvent.objects.exclude(pk__in=before)
    assert (event.client_id, event.event_type) == (client.pk, "customer.changed")
    assert event.payload == {
        "customer_id": customer.pk,
        "fields": ["address", "phone"],
        "version": customer.version + 1,
        "status": "active",
    }
    raw = json.dumps(event.payload, ensure_ascii=False)
    assert "13912346666" not in raw and "南山区" not in raw


def test_status_events_still_flow_next_to_change_events(api, opened):
    _client, customer = opened
    amend(api, customer, email="a@example.com")
    resp = api("officer.sz").post(
        f"/api/customers/{customer.pk}/freeze/", {"reason": "涉嫌欺诈"}, format="json"
    )
    assert resp.status_code == 200, resp.content
    kinds = list(
        CallbackEvent.objects.filter(payload__customer_id=customer.pk)
        .order_by("id")
        .values_list("event_type", flat=True)
    )
    assert kinds[-2:] == ["customer.changed", "customer.status_changed"]


def test_a_rejected_change_and_an_unsubscribed_client_get_nothing(api, opened, make_client):
    other, _http, _t = make_client(callback_url="http://127.0.0.1:9/other", name="另一个系统")
    _client, customer = opened
    before = CallbackEvent.objects.count()
    amend(api, customer, decision="reject", phone="13912347777")
    assert CallbackEvent.objects.count() == before
    amend(api, customer, phone="13912347777")
    assert not CallbackEvent.objects.filter(client=other).exists()

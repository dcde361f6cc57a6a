"""Status callbacks: an outbox row per event, delivered at least once by a retrying job,
signed with HMAC-SHA256; every attempt is logged. Receivers deduplicate by event id."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.common.locks import lock_skipping_taken
from backend.customers.checks import blacklist_hits, customer_documents
from backend.customers.models import CustomerStatus
from backend.integrations.callback_urls import CallbackUrlRefused, callback_post, callback_target
from backend.integrations.dispatch import callbacks_deliver_on_commit
from backend.integrations.models import (
    ApiClient,
    CallbackAttempt,
    CallbackEvent,
    CallbackStatus,
    IntegrationRequest,
)


def callback_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def callback_enqueue(*, client: ApiClient, event_type: str, payload: dict) -> CallbackEvent | None:
    """Write the event into the outbox, inside the caller's transaction. A client without a
    callback URL gets no events."""
    if not client.callback_url:
        return None

    event = CallbackEvent.objects.create(
        client=client, event_type=event_type, payload=payload, next_attempt_at=timezone.now()
    )
    callbacks_deliver_on_commit()
    return event


def _backoff(attempts: int) -> timedelta:
    cfg = settings.CUSTFLOW["CALLBACKS"]
    return timedelta(
        seconds=min(cfg["BACKOFF_SECONDS"] * (2 ** max(attempts - 1, 0)), cfg["MAX_BACKOFF_SECONDS"])
    )


def _post(event: CallbackEvent) -> tuple[int | None, str]:
    body = json.dumps(
        {
            "event_id": str(event.event_id),
            "type": event.event_type,
            "created_at": event.created_at.isoformat(),
            "data": event.payload,
        },
        ensure_ascii=False,
        sort_keys=True,
    ).encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Custflow-Event-Id": str(event.event_id),
        "X-Custflow-Timestamp": timestamp,
        "X-Custflow-Signature": callback_signature(event.client.callback_secret, timestamp, body),
    }
    try:
        # Checked again at every delivery (the allow-list or DNS may have changed since the
        # registration) and posted to the checked address itself, never following a redirect.
        target = callback_target(event.client.callback_url)
    except CallbackUrlRefused as exc:
        return None, f"refused: {exc}"[:500]
    try:
        status = callback_post(
            target, body=body, headers=headers, timeout=settings.CUSTFLOW["CALLBACKS"]["TIMEOUT_SECONDS"]
        )
    except (OSError, ValueError) as exc:
        return None, str(exc)[:500]
    return status, "" if 200 <= status < 300 else f"HTTP {status}"


def callbacks_deliver(*, now: datetime | None = None, limit: int = 100) -> int:
    """Deliver due events; each in its own transaction with the row locked (SKIP LOCKED on
    PostgreSQL), so two workers never post the same attempt. Returns how many were delivered."""
    now = now or timezone.now()
    max_attempts = settings.CUSTFLOW["CALLBACKS"]["MAX_ATTEMPTS"]
    due = list(
        CallbackEvent.objects.filter(status=CallbackStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    delivered = 0
    for event_id in due:
        with transaction.atomic():
            qs = lock_skipping_taken(CallbackEvent.objects.select_related("client"))
            event = qs.filter(pk=event_id, status=CallbackStatus.PENDING, next_attempt_at__lte=now).first()
            if event is None:
                continue
            started = time.monotonic()
            code, error = _post(event)
            ok = code is not None and 200 <= code < 300
            CallbackAttempt.objects.create(
                event=event,
                attempted_at=timezone.now(),
                status_code=code,
                error="" if ok else (error or f"HTTP {code}"),
                duration_ms=int((time.monotonic() - started) * 1000),
            )
            event.attempts += 1
            if ok:
                event.status = CallbackStatus.DELIVERED
                event.delivered_at = timezone.now()
                delivered += 1
            elif event.attempts >= max_attempts:
                event.status = CallbackStatus.FAILED
            else:
                event.next_attempt_at = now + _backoff(event.attempts)
            event.save(update_fields=["status", "attempts", "delivered_at", "next_attempt_at"])
    return delivered


def _subscribed_clients(customer) -> list[ApiClient]:
    """Active clients that opened or were answered about this customer through an integration
    request, with the customer in their scope."""

    client_ids = set(IntegrationRequest.objects.filter(customer=customer).values_list("client_id", flat=True))
    if not client_ids:
        return []
    return [
        client
        for client in ApiClient.objects.filter(pk__in=client_ids).select_related("org_unit").order_by("pk")
        if not getattr(client, "revoked_at", None) and customer.org_unit.path.startswith(client.org_unit.path)
    ]


def customer_changed_callbacks(*, customer, fields: list[str]) -> int:
    """A customer's data changed: each subscribed client gets a `customer.changed` event naming
    the changed fields and the new record version, never the values (the client reads the
    record through its own API access if it needs them)."""
    payload = {
        "customer_id": customer.pk,
        "fields": sorted(fields),
        "version": customer.version,
        "status": str(customer.status),
    }
    return sum(
        1
        for client in _subscribed_clients(customer)
        if callback_enqueue(client=client, event_type="customer.changed", payload=payload)
    )


def customer_status_callbacks(*, customer) -> int:
    """A customer's status or business gate changed: every active client that opened or was
    answered about this customer through an integration request, with the customer in its
    scope, gets a `customer.status_changed` event carrying the gate answer (no personal data)."""

    client_ids = set(IntegrationRequest.objects.filter(customer=customer).values_list("client_id", flat=True))
    if not client_ids:
        return 0
    values = {f: getattr(customer, f) for f in ("id_type", "id_number", "legal_rep_id_type", "legal_rep_id_number")}
    blacklisted = bool(blacklist_hits(customer_documents(values)))
    payload = {
        "customer_id": customer.pk,
        "status": str(customer.status),
        "can_do_business": customer.status == CustomerStatus.ACTIVE and not blacklisted,
    }
    sent = 0
    for client in ApiClient.objects.filter(pk__in=client_ids).select_related("org_unit"):
        if getattr(client, "revoked_at", None) or not customer.org_unit.path.startswith(client.org_unit.path):
            continue
        if callback_enqueue(client=client, event_type="customer.status_changed", payload=payload):
            sent += 1
    return sent

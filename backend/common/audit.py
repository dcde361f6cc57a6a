"""Audit events: written in the same transaction as the change they describe."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.utils import timezone

from backend.common.models import AuditEvent


def _digest(prev_hash: str, payload: dict[str, Any]) -> str:
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hmac.new(settings.SECRET_KEY.encode(), prev_hash.encode() + body, hashlib.sha256).hexdigest()


def _payload(event: AuditEvent) -> dict[str, Any]:
    return {
        "created_at": event.created_at.isoformat(),
        "actor": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "org_unit": event.org_unit_id,
        "process_instance_id": event.process_instance_id,
        "task_id": event.task_id,
        "data": event.data,
    }


def audit_event_record(
    *,
    actor: Any,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    org_unit: Any = None,
    process_instance_id: int | None = None,
    task_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Call inside the transaction of the change, after locking the object."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    prev = (
        AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id))
        .order_by("-id")
        .values_list("hash", flat=True)
        .first()
    ) or ""
    event = AuditEvent(
        created_at=timezone.now(),
        actor=actor_obj,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        org_unit=org_unit,
        process_instance_id=process_instance_id,
        task_id=task_id,
        data=json.loads(json.dumps(data or {}, default=str)),
        prev_hash=prev,
    )
    event.hash = _digest(prev, _payload(event))
    event.save()
    return event


def audit_stream_verify(*, object_type: str, object_id: Any) -> bool:
    """True when every event of the stream is intact and none is missing from the chain."""
    prev = ""
    for event in AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("id"):
        if event.prev_hash != prev or event.hash != _digest(prev, _payload(event)):
            return False
        prev = event.hash
    return True

"""Audit events: written in the same transaction as the change they describe."""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Model, Q

from backend.common import clock
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


_batch: contextvars.ContextVar[list[AuditEvent] | None] = contextvars.ContextVar("audit_batch", default=None)


@contextmanager
def audit_batch() -> Iterator[None]:
    """Collect the events of one step and append them with one INSERT when the block ends,
    inside the caller's transaction. Nested batches join the outer one; on an exception
    nothing is written (the transaction rolls back anyway)."""
    if _batch.get() is not None:
        yield
        return
    token = _batch.set([])
    try:
        yield
        events = _batch.get() or []
    finally:
        _batch.reset(token)
    _append(events)


def _append(events: list[AuditEvent]) -> None:
    if not events:
        return
    streams = {(e.object_type, e.object_id) for e in events}
    if connection.vendor == "postgresql":
        # Writers of one stream take turns until commit, so two of them never chain onto the
        # same head (SQLite already serialises writers). Sorted keys: no lock-order deadlocks.
        keys = sorted(f"{t}:{i}" for t, i in streams)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest(%s::text[]) AS k", [keys])
    in_streams = reduce(or_, (Q(object_type=t, object_id=i) for t, i in streams))
    last_ids = AuditEvent.objects.filter(in_streams).values("object_type", "object_id").annotate(last=Max("id")).values("last")
    heads = {(t, i): h for t, i, h in AuditEvent.objects.filter(id__in=last_ids).values_list("object_type", "object_id", "hash")}
    for event in events:
        stream = (event.object_type, event.object_id)
        event.prev_hash = heads.get(stream, "")
        event.hash = _digest(event.prev_hash, _payload(event))
        heads[stream] = event.hash
    AuditEvent.objects.bulk_create(events)


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
    """Append one event. Call inside the transaction of the change, after locking the object;
    inside `audit_batch()` the write is deferred to the end of the batch."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        created_at=clock.now(),
        actor=actor_obj,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        org_unit=org_unit,
        process_instance_id=process_instance_id,
        task_id=task_id,
        data=json.loads(json.dumps(data or {}, default=str)),
    )
    batch = _batch.get()
    if batch is not None:
        batch.append(event)
    else:
        _append([event])
    return event


def audit_stream_verify(*, object_type: str, object_id: Any) -> bool:
    """True when every event of the stream is intact and none is missing from the chain."""
    prev = ""
    for event in AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("id"):
        if event.prev_hash != prev or event.hash != _digest(prev, _payload(event)):
            return False
        prev = event.hash
    return True


def audit_download_record(
    *,
    actor: Any,
    kind: str,
    filename: str,
    content: bytes | None = None,
    size: int | None = None,
    obj: Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    org_unit: Any = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """An export or a download (`export.downloaded`): who took which file — its kind, name, size
    and, when the bytes are at hand, SHA-256. The stream is the object downloaded, else the
    actor's own export stream (`export:<user id>`)."""

    if obj is None and not object_type:
        object_type, object_id = "export", getattr(actor, "pk", None) or "anonymous"
    details = {"kind": kind, "filename": filename, **(data or {})}
    if content is not None:
        details["bytes"] = len(content)
        details["sha256"] = hashlib.sha256(content).hexdigest()
    elif size is not None:
        details["bytes"] = size
    with transaction.atomic():  # the stream's advisory lock lasts until this commits
        return audit_event_record(
            actor=actor, action="export.downloaded", obj=obj, object_type=object_type, object_id=object_id, org_unit=org_unit, data=details
        )

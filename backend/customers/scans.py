"""The identity scan an opening carries, served to whoever may see the case (seed 003 §1.1.1:
the reviewer checks the data against the document he approves).

Serving a scan is a read that must leave a trace: each view writes a `RevealEvent` of kind
`scan` (user, customer, when) and an audit event in one transaction, before the bytes go out.
Compliance lists the events at `GET /api/reveal-events/?kind=scan`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import NotFound
from backend.customers.models import RevealEvent, RevealEventKind, ScanDocument
from backend.customers.selectors import opening_get_visible, opening_scan

SCAN_FIELD = "scan"
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def opening_scan_open(*, actor, opening_id: Any) -> tuple[ScanDocument, Any]:
    """The scan of an opening the actor may see, opened for reading, with the view recorded.
    Out of scope and no scan are both 404 (nobody learns a case exists by asking)."""
    opening = opening_get_visible(user=actor, opening_id=opening_id)
    document = opening_scan(opening)
    if document is None:
        raise NotFound(_("该开户申请没有扫描件"), code="scan_not_found")
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, OSError):
        raise NotFound(_("扫描件文件不存在"), code="scan_not_found") from None
    customer = opening.customer
    with transaction.atomic():
        event = RevealEvent.objects.create(
            kind=RevealEventKind.SCAN,
            user=actor,
            customer=customer,
            field=SCAN_FIELD,
            org_unit=customer.org_unit,
            created_at=timezone.now(),
        )
        audit_event_record(
            actor=actor,
            action="customer.scan_viewed",
            obj=customer,
            org_unit=customer.org_unit,
            data={
                "opening": opening.pk,
                "scan": document.pk,
                "sha256": document.sha256,
                "reveal_event": event.pk,
            },
        )
    return document, handle


def scan_filename(document: ScanDocument, opening_id: int) -> str:
    return f"scan-{opening_id}.{EXTENSIONS.get(document.content_type, 'bin')}"

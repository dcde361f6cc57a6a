"""The 批改申请书 as a PDF: masked per the reader, with trail and a verification QR code."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from backend.common.audit import audit_event_record
from backend.customers.models import PrintedDocument
from backend.policies.models import Endorsement
from backend.policies.selectors import endorsement_trail, endorsement_view
from pdfs.documents import render_endorsement_form

FLAG_LABELS = {"blacklist_hit": "证件号码命中黑名单"}
PRINTED_KIND = "endorsement_form"


def _local(value: str | None) -> str:
    parsed = parse_datetime(value) if value else None
    return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M") if parsed else ""


@transaction.atomic
def endorsement_form_print(*, actor, endorsement: Endorsement) -> tuple[bytes, PrintedDocument]:
    """Render the endorsement form for this reader and record it as a PrintedDocument
    (kind "endorsement_form", customer = the policyholder)."""
    policy = endorsement.policy
    view = endorsement_view(user=actor, endorsement=endorsement, purpose="endorsement_form")
    document = PrintedDocument(
        kind=PRINTED_KIND,
        customer_id=policy.policyholder_id,
        org_unit=endorsement.org_unit,
        printed_by=actor,
        printed_at=timezone.now(),
    )
    diff = view["diff"]
    content = {
        "document_id": str(document.id),
        "printed_at": timezone.localtime(document.printed_at).strftime("%Y-%m-%d %H:%M:%S"),
        "printed_by": actor.get_full_name() or actor.username,
        "org_unit": endorsement.org_unit.name,
        "endorsement": {
            "endorsement_id": view["id"],
            "status_label": view["status_label"],
            "policy_number": view["policy_number"],
            "product": view["product"],
            "policyholder": policy.policyholder.name,
            "insured": policy.insured.name,
            "scope_label": view["scope_label"],
            "requested_by": view["requested_by_name"],
            "created_at": _local(view["created_at"]),
            "decided_by": view["decided_by"] or "",
            "reason": view["reason"],
            "decision_comment": view["decision_comment"],
        },
        "customer_parts": diff["customers"],
        "policy_changes": diff["policy"],
        "beneficiaries": diff["beneficiaries"],
        "flags": [FLAG_LABELS.get(f, f) for f in view["flags"]],
        "trail": endorsement_trail(endorsement=endorsement),
    }
    # The hash covers everything printed; /verify/<id> can recompute it from the stored data.
    document.data_sha256 = hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    pdf = render_endorsement_form(
        {
            **content,
            "sha256": document.data_sha256,
            "verify_url": f"{settings.CUSTFLOW['SITE_URL']}/verify/{document.id}",
        }
    )
    document.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    document.save()
    audit_event_record(
        actor=actor,
        action="document.printed",
        obj=endorsement,
        org_unit=endorsement.org_unit,
        data={"kind": document.kind, "document": str(document.id), "sha256": document.data_sha256},
    )
    return pdf, document

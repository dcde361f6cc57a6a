"""The 批改申请书 as a PDF: masked per the reader, with trail and a verification QR code."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from backend.customers.documents import print_metadata, printed_document_finish, printed_document_start
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
def endorsement_form_print(*, actor, endorsement: Endorsement, reason: str = "") -> tuple[bytes, PrintedDocument]:
    """Render the endorsement form for this reader and record it as a PrintedDocument
    (kind "endorsement_form", customer = the policyholder)."""
    policy = endorsement.policy
    view = endorsement_view(user=actor, endorsement=endorsement, purpose="endorsement_form")
    document = printed_document_start(
        actor=actor,
        kind=PRINTED_KIND,
        subject=f"endorsement:{endorsement.pk}",
        customer_id=policy.policyholder_id,
        org_unit=endorsement.org_unit,
        reason=reason,
    )
    diff = view["diff"]
    content = {
        **print_metadata(document, actor),
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
    pdf = printed_document_finish(
        actor=actor, document=document, content=content, render=render_endorsement_form, audit_obj=endorsement
    )
    return pdf, document

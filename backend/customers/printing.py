"""The 客户信息资料采集卡 as a PDF: masked per the reader, with trail and a verification QR code."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.common.audit import audit_event_record
from backend.customers.models import Customer, PrintedDocument
from backend.customers.selectors import customer_trail, customer_view
from pdfs.documents import render_collection_card

FLAG_LABELS = {
    "shared_phone": "电话号码与其他客户或业务员相同",
    "agent_phone": "电话号码属于登记的业务员",
    "duplicate_id": "证件号码重复",
    "blacklist_hit": "命中黑名单",
}


@transaction.atomic
def collection_card_print(*, actor, customer: Customer) -> tuple[bytes, PrintedDocument]:
    view = customer_view(user=actor, customer=customer, purpose="collection_card")
    latest = customer.openings.order_by("-id").first()
    document = PrintedDocument(
        kind="collection_card",
        customer=customer,
        org_unit=customer.org_unit,
        printed_by=actor,
        printed_at=timezone.now(),
    )
    content = {
        "document_id": str(document.id),
        "printed_at": timezone.localtime(document.printed_at).strftime("%Y-%m-%d %H:%M:%S"),
        "printed_by": actor.get_full_name() or actor.username,
        "org_unit": customer.org_unit.name,
        "customer": {
            **view,
            "customer_type_label": customer.get_customer_type_display(),
            "collected_by": view["collected_by"] or "",
            "created_at": timezone.localtime(customer.created_at).strftime("%Y-%m-%d %H:%M"),
        },
        "flags": [FLAG_LABELS.get(f, f) for f in (latest.flags if latest else [])],
        "trail": customer_trail(customer=customer),
    }
    # The hash covers everything printed; /verify/<id> can recompute it from the stored data.
    document.data_sha256 = hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    card = {
        **content,
        "sha256": document.data_sha256,
        "verify_url": f"{settings.CUSTFLOW['SITE_URL']}/verify/{document.id}",
    }
    pdf = render_collection_card(card)
    document.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    document.save()
    audit_event_record(
        actor=actor,
        action="document.printed",
        obj=customer,
        org_unit=customer.org_unit,
        data={"kind": document.kind, "document": str(document.id), "sha256": document.data_sha256},
    )
    return pdf, document


@transaction.atomic
def change_request_print(*, actor, amendment) -> tuple[bytes, PrintedDocument]:
    """客户信息变更申请表: the request's diff (masked per the reader), its state and trail."""
    from backend.customers.case_views import amendment_view
    from pdfs.documents import render_change_request

    customer = amendment.customer
    view = amendment_view(user=actor, amendment=amendment, with_customer=False)
    document = PrintedDocument(kind="change_request", customer=customer, org_unit=customer.org_unit, printed_by=actor, printed_at=timezone.now())
    content = {
        "document_id": str(document.id),
        "printed_at": timezone.localtime(document.printed_at).strftime("%Y-%m-%d %H:%M:%S"),
        "printed_by": actor.get_full_name() or actor.username,
        "org_unit": customer.org_unit.name,
        "case_id": amendment.pk,
        "customer_id": customer.pk,
        "customer_name": customer.name,
        "scope_label": view["scope_label"],
        "status_label": view["status_label"],
        "reason": amendment.reason,
        "requested_by": amendment.requested_by.get_full_name() or amendment.requested_by.username,
        "requested_at": timezone.localtime(amendment.created_at).strftime("%Y-%m-%d %H:%M"),
        "decided_by": (amendment.decided_by.get_full_name() or amendment.decided_by.username) if amendment.decided_by_id else "",
        "changes": view["changes"],
        "trail": customer_trail(customer=customer),
    }
    document.data_sha256 = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    pdf = render_change_request({**content, "sha256": document.data_sha256, "verify_url": f"{settings.CUSTFLOW['SITE_URL']}/verify/{document.id}"})
    document.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    document.save()
    audit_event_record(
        actor=actor, action="document.printed", obj=customer, org_unit=customer.org_unit,
        data={"kind": document.kind, "document": str(document.id), "sha256": document.data_sha256, "amendment": amendment.pk},
    )
    return pdf, document

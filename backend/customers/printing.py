"""The 客户信息资料采集卡 and the change request as signed PDFs: masked per the reader, with
trail and a verification QR code; reprints are numbered 副本 n and need a reason."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from backend.customers.case_views import amendment_view
from backend.customers.documents import print_metadata, printed_document_finish, printed_document_start
from backend.customers.models import Customer, CustomerType, PrintedDocument
from backend.customers.selectors import customer_trail, customer_view, opening_reviews
from pdfs.documents import render_change_request, render_collection_card, render_opening_form

FLAG_LABELS = {
    "shared_phone": "电话号码与其他客户或业务员相同",
    "agent_phone": "电话号码属于登记的业务员",
    "duplicate_id": "证件号码重复",
    "blacklist_hit": "命中黑名单",
}


@transaction.atomic
def collection_card_print(*, actor, customer: Customer, reason: str = "") -> tuple[bytes, PrintedDocument]:
    document = printed_document_start(
        actor=actor,
        kind="collection_card",
        subject=f"customer:{customer.pk}",
        customer_id=customer.pk,
        org_unit=customer.org_unit,
        reason=reason,
    )
    pdf = printed_document_finish(
        actor=actor,
        document=document,
        content=collection_card_content(actor=actor, customer=customer, document=document),
        render=render_collection_card,
        audit_obj=customer,
    )
    return pdf, document


def collection_card_content(*, actor, customer: Customer, document: PrintedDocument) -> dict:
    """What the card prints, masked for this reader (hashed into the document record)."""
    view = customer_view(user=actor, customer=customer, purpose="collection_card")
    latest = customer.openings.order_by("-id").first()
    return {
        **print_metadata(document, actor),
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


@transaction.atomic
def change_request_print(*, actor, amendment, reason: str = "") -> tuple[bytes, PrintedDocument]:
    """客户信息变更申请表: the request's diff (masked per the reader), its state and trail."""

    customer = amendment.customer
    view = amendment_view(user=actor, amendment=amendment, with_customer=False)
    document = printed_document_start(
        actor=actor,
        kind="change_request",
        subject=f"amendment:{amendment.pk}",
        customer_id=customer.pk,
        org_unit=customer.org_unit,
        reason=reason,
    )
    content = {
        **print_metadata(document, actor),
        "org_unit": customer.org_unit.name,
        "case_id": amendment.pk,
        "customer_id": customer.pk,
        "customer_name": customer.name,
        "scope_label": view["scope_label"],
        "status_label": view["status_label"],
        "reason": amendment.reason,
        "requested_by": amendment.requested_by.get_full_name() or amendment.requested_by.username,
        "requested_at": timezone.localtime(amendment.created_at).strftime("%Y-%m-%d %H:%M"),
        "decided_by": (amendment.decided_by.get_full_name() or amendment.decided_by.username)
        if amendment.decided_by_id
        else "",
        "changes": view["changes"],
        "trail": customer_trail(customer=customer),
    }
    pdf = printed_document_finish(
        actor=actor,
        document=document,
        content=content,
        render=render_change_request,
        audit_obj=customer,
        audit_data={"amendment": amendment.pk},
    )
    return pdf, document


def _check_result(check) -> str | None:
    if check is None:
        return None
    if isinstance(check, list):  # blacklist hits
        return f"命中 {len(check)} 条,转省级审核" if check else "未命中"
    return "通过" if check.get("passed") else "未通过(已提示审核人)"


@transaction.atomic
def opening_form_print(*, actor, opening, reason: str = "") -> tuple[bytes, PrintedDocument]:
    """个人/法人客户开户申请表: the application, the customer as collected (masked per the
    reader), checks A–D with the blacklist, the reviewer's comment and the trail."""

    customer = opening.customer
    view = customer_view(user=actor, customer=customer, purpose="opening_form")
    document = printed_document_start(
        actor=actor,
        kind="opening_form",
        subject=f"opening:{opening.pk}",
        customer_id=customer.pk,
        org_unit=opening.org_unit,
        reason=reason,
    )
    checks = opening.checks or {}
    corporate = customer.customer_type == CustomerType.CORPORATE
    content = {
        **print_metadata(document, actor),
        "title": "法人客户开户申请表" if corporate else "个人客户开户申请表",
        "org_unit": opening.org_unit.name,
        "opening_id": opening.pk,
        "info_level_label": opening.get_info_level_display(),
        "submitted_by": opening.submitted_by.get_full_name() or opening.submitted_by.username,
        "submitted_at": timezone.localtime(opening.created_at).strftime("%Y-%m-%d %H:%M"),
        "status_label": customer.get_status_display(),
        "closed_at": timezone.localtime(opening.closed_at).strftime("%Y-%m-%d %H:%M") if opening.closed_at else "",
        "customer": {
            **view,
            "customer_type_label": customer.get_customer_type_display(),
            "collected_by": view["collected_by"] or "",
            "created_at": timezone.localtime(customer.created_at).strftime("%Y-%m-%d %H:%M"),
        },
        "checks": {key: _check_result(checks.get(key)) for key in ("A", "B", "C", "D", "blacklist")},
        "flags": [FLAG_LABELS.get(f, f) for f in opening.flags or []],
        "decision_comment": opening.decision_comment,
        "reviews": opening_reviews(opening=opening),
        "trail": customer_trail(customer=customer),
    }
    pdf = printed_document_finish(
        actor=actor,
        document=document,
        content=content,
        render=render_opening_form,
        audit_obj=customer,
        audit_data={"opening": opening.pk},
    )
    return pdf, document

"""Printed forms as records: numbering of reprints (副本), signing, and verification.

Every printing service (collection card, change request, endorsement form) goes through
`printed_document_start` (numbers the print, asks a reason for a reprint) and
`printed_document_finish` (hashes, renders, signs with the issuing org unit's key, saves,
audits). Verification answers from the record and from the uploaded bytes' signature.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import ValidationFailed
from backend.customers.models import Customer, PrintedDocument
from pdfs.reading import PdfRefused, signature_check_bounded
from pdfs.signing import sign_pdf

KIND_LABELS = {
    "collection_card": "客户信息资料采集卡",
    "change_request": "客户信息变更申请表",
    "endorsement_form": "批改申请书",
    "print_batch": "批量打印",
    "complaint_register": "客户投诉登记表",
    "complaint_verify": "客户投诉核实表",
    "complaint_handover": "客户投诉移交表",
    "complaint_handle": "客户投诉处理表",
    "complaint_analysis": "客户投诉分析表",
    "service_report": "客服信息分析报告",
}
# Keys of a form's content that describe the print, not the form: left out of content_sha256.
PRINT_KEYS = ("document_id", "printed_at", "printed_by", "copy_number")


def _sha256_json(value: Any) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def printed_document_start(
    *, actor, kind: str, subject: str, customer_id: int | None, org_unit, reason: str = ""
) -> PrintedDocument:
    """A new, unsaved print record numbered among the prints of (kind, subject). The first
    print is the original; any later one is a reprint and needs a reason (400 otherwise).
    Call inside the printing transaction: the customer row lock orders concurrent prints."""
    if customer_id is not None:
        Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk", flat=True).first()
    copy_number = PrintedDocument.objects.filter(kind=kind, subject=subject).count()
    reason = (reason or "").strip()
    low, high = settings.CUSTFLOW["REPRINT_REASON_LENGTH"]
    if copy_number and not low <= len(reason) <= high:
        raise ValidationFailed(
            _("该单证已打印过,重新打印为副本,请填写重印原因(%(low)d–%(high)d 个字)。")
            % {"low": low, "high": high},
            field_errors={"reason": [_("请填写重印原因。")]},
            code="reprint_reason_required",
            extra={"copy_number": copy_number},
        )
    return PrintedDocument(
        kind=kind,
        subject=subject,
        customer_id=customer_id,
        org_unit=org_unit,
        printed_by=actor,
        printed_at=timezone.now(),
        copy_number=copy_number,
        reprint_reason=reason if copy_number else "",
    )


def print_metadata(document: PrintedDocument, actor) -> dict[str, Any]:
    return {
        "document_id": str(document.id),
        "printed_at": timezone.localtime(document.printed_at).strftime("%Y-%m-%d %H:%M:%S"),
        "printed_by": actor.get_full_name() or actor.username,
        "copy_number": document.copy_number,
    }


def printed_document_system_print(
    *,
    kind: str,
    subject: str,
    org_unit,
    content: dict[str, Any],
    render: Callable[[dict[str, Any]], bytes],
    audit_data: dict[str, Any] | None = None,
) -> tuple[bytes, PrintedDocument]:
    """A form the system prints with nobody at the printer (a monthly archive): its own print
    record, so the QR code on it verifies like any other print. Call inside the caller's
    transaction."""
    document = printed_document_start(actor=None, kind=kind, subject=subject[:64], customer_id=None, org_unit=org_unit)
    full = {
        "document_id": str(document.id),
        "printed_at": timezone.localtime(document.printed_at).strftime("%Y-%m-%d %H:%M:%S"),
        "printed_by": _("系统(月度归档)"),
        "copy_number": document.copy_number,
        "org_unit": org_unit.name,
        **content,
    }
    pdf = printed_document_finish(
        actor=None, document=document, content=full, render=render, audit_obj=org_unit, audit_data=audit_data
    )
    return pdf, document


def printed_document_finish(
    *,
    actor,
    document: PrintedDocument,
    content: dict[str, Any],
    render: Callable[[dict[str, Any]], bytes],
    audit_obj,
    audit_data: dict[str, Any] | None = None,
) -> bytes:
    """Hash the content, render it, sign it as the document's org unit, save and audit."""
    pdf = render(_hashed(document, content))
    org_unit = document.org_unit
    signed = sign_pdf(
        pdf,
        document_id=str(document.id),
        org_code=org_unit.code,
        org_name=org_unit.name,
        reason=KIND_LABELS.get(document.kind, document.kind)
        + (f" 副本{document.copy_number}" if document.copy_number else ""),
    )
    document.pdf_sha256 = hashlib.sha256(signed).hexdigest()
    document.signed_by = org_unit.code
    document.save(force_insert=True)
    _audit_print(actor, document, audit_obj, audit_data)
    return signed


def _hashed(document: PrintedDocument, content: dict[str, Any]) -> dict[str, Any]:
    """Set the document's hashes; the render input (content + hash + verification URL)."""
    document.data_sha256 = _sha256_json(content)
    document.content_sha256 = _sha256_json({k: v for k, v in content.items() if k not in PRINT_KEYS})
    return {
        **content,
        "sha256": document.data_sha256,
        "verify_url": f"{settings.CUSTFLOW['SITE_URL']}/verify/{document.id}",
    }


def printed_document_in_batch(
    *, actor, document: PrintedDocument, content: dict[str, Any], audit_obj, batch_id: Any
) -> dict[str, Any]:
    """Record one form of a batch print; returns its render input. The batch's merged PDF is
    signed as a whole (a PAdES signature covers one file), so this record keeps no PDF hash:
    its QR code still verifies the form's content hash."""
    data = _hashed(document, content)
    document.save(force_insert=True)
    _audit_print(actor, document, None if audit_obj is None else audit_obj, {"batch": str(batch_id)})
    return data


def _audit_print(actor, document: PrintedDocument, audit_obj, audit_data: dict[str, Any] | None) -> None:
    audit_event_record(
        actor=actor,
        action="document.reprinted" if document.copy_number else "document.printed",
        obj=audit_obj,
        org_unit=document.org_unit,
        data={
            "kind": document.kind,
            "document": str(document.id),
            "sha256": document.data_sha256,
            "copy_number": document.copy_number,
            "reason": document.reprint_reason,
            **(audit_data or {}),
        },
    )


# ---- verification (public: no personal data) ------------------------------------------------


def _document(document_id: Any) -> PrintedDocument | None:
    try:
        return PrintedDocument.objects.select_related("org_unit").filter(pk=str(document_id)).first()
    except ValidationError:  # not a UUID
        return None


def _standing(document: PrintedDocument) -> dict[str, Any]:
    """Its place among the prints of the same form: reprint number, and the newest print whose
    content differs (a newer version) if any."""
    later = PrintedDocument.objects.filter(
        kind=document.kind, subject=document.subject, printed_at__gt=document.printed_at
    ).exclude(pk=document.pk)
    newer = later.exclude(content_sha256=document.content_sha256).order_by("-printed_at").first()
    return {
        "copy_number": document.copy_number,
        "is_reprint": document.copy_number > 0,
        "superseded": newer is not None,
        "superseded_by": str(newer.pk) if newer else "",
        "superseded_at": newer.printed_at if newer else None,
    }


def _summary(document: PrintedDocument) -> dict[str, Any]:
    return {
        "found": True,
        "document_id": str(document.pk),
        "kind": document.kind,
        "kind_label": KIND_LABELS.get(document.kind, document.kind),
        "org_unit": document.org_unit.name,
        "printed_at": document.printed_at,
        "sha256": document.data_sha256,
        **_standing(document),
    }


def printed_document_verify(*, document_id: Any, sha256: str = "") -> dict[str, Any]:
    """What anyone holding a printed form may learn from its QR code: whether the document
    was issued here, whether the hash printed with it matches, whether it is a reprint and
    whether a newer version was printed since. No personal data."""
    document = _document(document_id)
    if document is None:
        return {"found": False}
    sha256 = (sha256 or "").strip().lower()
    return {
        **_summary(document),
        "hash_checked": bool(sha256),
        "hash_matches": bool(sha256) and sha256 == document.data_sha256,
    }


def _verdict(result: dict[str, Any]) -> str:
    if result.get("superseded"):
        return "superseded"
    return "reprint" if result.get("is_reprint") else "genuine"


def printed_pdf_verify(*, pdf: bytes, document_id: Any = None) -> dict[str, Any]:
    """Check an uploaded PDF: its signature must be intact, cover the whole file and be ours
    (the exact bytes we issued, recorded by SHA-256). Verdicts: genuine, reprint, superseded
    (a newer version was printed since), tampered, unsigned, unreadable, unknown.
    When `document_id` is given (the /verify/<id> page), a PDF of another document is unknown.

    The bytes are read in a killable child with structural limits (pdfs/reading.py): a file that
    breaks a limit is a 400 on `pdf`; one that cannot be read within the bounds is unreadable."""
    try:
        check = signature_check_bounded(pdf)
    except PdfRefused as exc:
        raise ValidationFailed.field("pdf", _pdf_refusal_message(exc.code), code="pdf_too_complex")
    if check.state in ("unsigned", "unreadable"):
        return {"verdict": check.state, "found": False}
    document = _document(check.document_id)
    if document is None or (document_id is not None and str(document.pk) != str(document_id)):
        return {"verdict": "tampered" if check.state == "tampered" else "unknown", "found": False}
    result = _summary(document)
    digest = hashlib.sha256(pdf).hexdigest()
    if check.state != "valid" or digest != document.pdf_sha256:
        return {**result, "verdict": "tampered", "signature": check.state, "pdf_matches": False}
    return {
        **result,
        "verdict": _verdict(result),
        "signature": check.state,
        "pdf_matches": True,
        "signer": check.signer,
        "signed_at": check.signed_at,
    }


def _pdf_refusal_message(code: str) -> str:
    messages = {
        "pdf_too_many_objects": _("PDF 文件包含的对象过多，无法核验。"),
        "pdf_too_deeply_nested": _("PDF 文件的嵌套层级过深，无法核验。"),
        "pdf_bad_tree": _("PDF 文件的页面树或表单域树结构异常（层级过深或节点被重复引用），无法核验。"),
        "pdf_inflates_too_much": _("PDF 文件解压后的内容过大，无法核验。"),
    }
    return messages.get(code, _("PDF 文件结构过于复杂，无法核验。"))


def uploaded_pdf_read(upload) -> bytes:
    """The bytes of an uploaded PDF for verification, or a 400 on the `pdf` field."""
    if upload is None:
        raise ValidationFailed.field("pdf", _("请选择要核验的 PDF 文件。"), code="pdf_required")
    if upload.size > settings.CUSTFLOW["VERIFY_MAX_BYTES"]:
        raise ValidationFailed.field("pdf", _("文件过大。"), code="pdf_too_large")
    return upload.read()

"""批量打印: select many customers, get one merged PDF of their collection cards from a job.

`print_batch_request` checks the selection (in scope, at most CUSTFLOW["BATCH_PRINT_MAX"], a
reason when any card would be a reprint) and queues the job after commit; the job prints each
card (each recorded, numbered and audited like a single print), merges them, signs the merged
file as the requester's org unit, and moves `done` after every card so the page can poll.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_download_record, audit_event_record
from backend.common.exceptions import Conflict, NotFound, ValidationFailed
from backend.common.outbox import outbox_enqueue
from backend.customers.documents import (
    printed_document_finish,
    printed_document_in_batch,
    printed_document_start,
)
from backend.customers.models import Customer, PrintBatch, PrintBatchStatus, PrintedDocument
from backend.customers.printing import collection_card_content
from backend.organisation.selectors import scope_q, user_home_org_unit
from pdfs.documents import render_collection_cards

# The job's registered name (backend/customers/jobs.py): enqueued by name, so this module does
# not import the Celery task module that imports it.
PRINT_BATCH_JOB = "customers.print_batch_run"


def _ids(raw: Any) -> list[int]:
    values = raw if isinstance(raw, list | tuple) else str(raw or "").replace(",", " ").split()
    ids: list[int] = []
    for value in values:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise ValidationFailed.field("customer_ids", _("客户号应为数字"), code="invalid_customer_ids")
    return list(dict.fromkeys(ids))


@transaction.atomic
def print_batch_request(*, actor, customer_ids: Any, reason: str = "") -> PrintBatch:
    ids = _ids(customer_ids)
    limit = settings.CUSTFLOW["BATCH_PRINT_MAX"]
    if not ids:
        raise ValidationFailed.field("customer_ids", _("请选择要打印的客户"), code="customer_ids_required")
    if len(ids) > limit:
        raise ValidationFailed.field(
            "customer_ids", _("一次最多打印 %(n)d 位客户") % {"n": limit}, code="batch_too_large"
        )
    visible = set(
        # An id outside the key's range cannot exist (and SQLite refuses to bind it).
        Customer.objects.filter(scope_q(actor, "org_unit"), pk__in=[i for i in ids if 0 < i < 2**63]).values_list("pk", flat=True)
    )
    missing = [i for i in ids if i not in visible]
    if missing:
        raise ValidationFailed.field(
            "customer_ids",
            _("客户不存在:%(ids)s") % {"ids": ", ".join(map(str, missing[:20]))},
            code="customer_not_found",
        )
    reason = (reason or "").strip()
    low, high = settings.CUSTFLOW["REPRINT_REASON_LENGTH"]
    subjects = [f"customer:{i}" for i in ids]
    reprints = (
        PrintedDocument.objects.filter(kind="collection_card", subject__in=subjects)
        .values("subject")
        .distinct()
        .count()
    )
    if reprints and not low <= len(reason) <= high:
        raise ValidationFailed(
            _("所选客户中有 %(n)d 位的采集卡已打印过,请填写重印原因。") % {"n": reprints},
            field_errors={"reason": [_("请填写重印原因。")]},
            code="reprint_reason_required",
            extra={"reprints": reprints},
        )
    org_unit = user_home_org_unit(actor)
    if org_unit is None:
        raise NotFound(_("机构不存在"), code="org_unit_not_found")
    batch = PrintBatch.objects.create(
        requested_by=actor,
        org_unit=org_unit,
        customer_ids=ids,
        reason=reason,
        total=len(ids),
        created_at=timezone.now(),
    )
    audit_event_record(
        actor=actor, action="print_batch.requested", obj=batch, org_unit=org_unit, data={"count": len(ids)}
    )
    outbox_enqueue(job=PRINT_BATCH_JOB, args=[str(batch.pk)], key=f"{PRINT_BATCH_JOB}:{batch.pk}")
    return batch


def print_batch_run(*, batch_id: Any) -> str:
    """The job: idempotent (a finished batch is left alone; an interrupted one starts again,
    and its earlier card records stay as logged prints)."""
    with transaction.atomic():
        batch = PrintBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status in (PrintBatchStatus.DONE, PrintBatchStatus.FAILED):
            return batch.status if batch else "missing"
        # RUNNING here means an earlier run died (a killed worker; the broker handed the job out
        # again): its cards stay as logged prints, and printing them again is a reprint, which
        # needs a reason.
        restarted = batch.status == PrintBatchStatus.RUNNING
        batch.status, batch.done = PrintBatchStatus.RUNNING, 0
        batch.save(update_fields=["status", "done"])
    actor = batch.requested_by
    cards: list[dict[str, Any]] = []
    try:
        for customer_id in batch.customer_ids:
            with transaction.atomic():
                customer = Customer.objects.select_related("org_unit").get(pk=customer_id)
                document = printed_document_start(
                    actor=actor,
                    kind="collection_card",
                    subject=f"customer:{customer.pk}",
                    customer_id=customer.pk,
                    org_unit=customer.org_unit,
                    reason=f"{batch.reason}({_('批量打印中断后重新执行')})" if restarted else batch.reason,
                )
                content = collection_card_content(actor=actor, customer=customer, document=document)
                cards.append(
                    printed_document_in_batch(
                        actor=actor, document=document, content=content, audit_obj=customer, batch_id=batch.pk
                    )
                )
            PrintBatch.objects.filter(pk=batch.pk).update(done=F("done") + 1)
        with transaction.atomic():
            merged = PrintedDocument(
                kind="print_batch",
                subject=f"batch:{batch.pk}",
                org_unit=batch.org_unit,
                printed_by=actor,
                printed_at=timezone.now(),
            )
            pdf = printed_document_finish(
                actor=actor,
                document=merged,
                content={"batch": str(batch.pk), "cards": [card["document_id"] for card in cards]},
                render=lambda _data: render_collection_cards(cards),
                audit_obj=batch,
            )
            PrintBatch.objects.filter(pk=batch.pk).update(
                status=PrintBatchStatus.DONE, pdf=pdf, document=merged, finished_at=timezone.now()
            )
    except Exception as exc:
        PrintBatch.objects.filter(pk=batch.pk).update(
            status=PrintBatchStatus.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        raise
    return PrintBatchStatus.DONE


def print_batch_get_visible(*, user, batch_id: Any) -> PrintBatch:
    """A batch is its requester's (others: 404)."""
    try:
        batch = PrintBatch.objects.filter(pk=str(batch_id), requested_by=user).first()
    except ValidationError:  # not a UUID
        batch = None
    if batch is None:
        raise NotFound(_("批量打印任务不存在"), code="print_batch_not_found")
    return batch


def print_batch_view(batch: PrintBatch) -> dict[str, Any]:
    return {
        "id": str(batch.pk),
        "status": batch.status,
        "status_label": batch.get_status_display(),
        "total": batch.total,
        "done": batch.done,
        "percent": round(100 * batch.done / batch.total) if batch.total else 0,
        "error": batch.error,
        "document_id": str(batch.document_id) if batch.document_id else "",
    }


def print_batch_pdf_download(*, user, batch_id: Any) -> tuple[bytes, PrintBatch]:
    """The finished batch's signed PDF (409 while it is not done), recorded in the audit trail."""

    batch = print_batch_get_visible(user=user, batch_id=batch_id)
    if batch.status != PrintBatchStatus.DONE:
        raise Conflict(_("批量打印尚未完成"), code="print_batch_not_ready")
    content = bytes(batch.pdf)
    audit_download_record(
        actor=user, kind="print_batch_pdf", filename=f"print-batch-{batch.pk}.pdf", content=content, obj=batch, data={"document": str(batch.document_id or "")}
    )
    return content, batch

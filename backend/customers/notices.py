"""客户变更通知: when a customer's contact or identity data changes, the customer is told
which data changed (never the values), by SMS and/or letter.

`customer_change_notice_record` renders the text from a template and writes one
`CustomerNotice` row per channel inside the transaction of the change; `customer_notices_deliver`
(a periodic job) sends pending rows through the backend named by the setting
CUSTFLOW_CUSTOMER_NOTICE_BACKEND (default: the log backend, used by the demo and the tests).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from backend.common.locks import lock_skipping_taken
from backend.customers.models import FIELD_LABELS, Customer, CustomerNotice, NoticeChannel, NoticeStatus

logger = logging.getLogger("custflow.customer_notices")

DEFAULT_BACKEND = "backend.customers.notices.LogNoticeBackend"
MAX_ATTEMPTS = 5
# A change to any of these is announced (seed: the customer is told when his data changes).
ANNOUNCED_FIELDS = frozenset(
    {
        "name",
        "id_type",
        "id_number",
        "birth_date",
        "gender",
        "phone",
        "address",
        "email",
        "contact_person",
        "legal_rep_name",
        "legal_rep_id_type",
        "legal_rep_id_number",
    }
)


class NoticeBackend(Protocol):
    def send(self, *, notice: CustomerNotice, recipient: str) -> None: ...


class LogNoticeBackend:
    """Demo and test backend: logs the notice (its text holds field labels, no values; the
    recipient is not logged)."""

    def send(self, *, notice: CustomerNotice, recipient: str) -> None:
        logger.info(
            "customer notice #%s %s customer=%s fields=%s\n%s",
            notice.pk,
            notice.channel,
            notice.customer_id,
            ",".join(notice.fields),
            notice.body,
        )


def notice_backend() -> NoticeBackend:
    path = getattr(settings, "CUSTFLOW_CUSTOMER_NOTICE_BACKEND", "") or DEFAULT_BACKEND
    return import_string(path)()


def _labels(fields: list[str]) -> str:
    return "、".join(str(FIELD_LABELS.get(f, f)) for f in fields)


def _render(channel: str, *, fields: list[str], reference: str) -> str:
    context = {
        "labels": _labels(fields),
        "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "reference": reference,
        "hotline": settings.CUSTFLOW["SERVICE_HOTLINE"],
    }
    # The customer is written to in Chinese whatever language the acting user chose.
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(f"customers/notices/data_changed_{channel}.txt", context).strip()


def customer_change_notice_record(
    *, customer: Customer, fields: list[str], case_type: str, case_id: int | None
) -> list[CustomerNotice]:
    """Inside the caller's transaction: the notices of one applied change. SMS when the
    customer has a phone; a letter when he has an address and either has no phone or his
    phone is what changed (the new number alone must not be the only one told)."""
    announced = sorted(f for f in fields if f in ANNOUNCED_FIELDS)
    if not announced:
        return []
    channels = []
    if customer.phone:
        channels.append(NoticeChannel.SMS)
    if customer.address and (not customer.phone or "phone" in announced):
        channels.append(NoticeChannel.LETTER)
    reference = f"{case_type.rsplit('.', 1)[-1][:12]}-{case_id}" if case_id else str(customer.pk)
    return [
        CustomerNotice.objects.create(
            customer=customer,
            channel=channel,
            fields=announced,
            body=_render(channel, fields=announced, reference=reference),
            case_type=case_type,
            case_id=case_id,
        )
        for channel in channels
    ]


def _recipient(notice: CustomerNotice) -> str:
    customer = notice.customer
    return customer.phone if notice.channel == NoticeChannel.SMS else customer.address


def customer_notices_deliver(*, limit: int = 100) -> int:
    """Send pending notices, each in its own transaction with its row locked (SKIP LOCKED on
    PostgreSQL). A backend failure is recorded and retried up to MAX_ATTEMPTS. Returns how many
    were sent."""
    backend = notice_backend()
    due = list(
        CustomerNotice.objects.filter(status=NoticeStatus.PENDING)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    sent = 0
    for notice_id in due:
        with transaction.atomic():
            qs = lock_skipping_taken(CustomerNotice.objects.select_related("customer"))
            notice = qs.filter(pk=notice_id, status=NoticeStatus.PENDING).first()
            if notice is None:
                continue
            notice.attempts += 1
            try:
                backend.send(notice=notice, recipient=_recipient(notice))
            except Exception as exc:  # noqa: BLE001 — any failure of an outside gateway is retried
                notice.error = f"{type(exc).__name__}"[:500]
                if notice.attempts >= MAX_ATTEMPTS:
                    notice.status = NoticeStatus.FAILED
                logger.warning("customer notice #%s failed (%s)", notice.pk, type(exc).__name__)
            else:
                notice.status = NoticeStatus.SENT
                notice.sent_at = timezone.now()
                notice.error = ""
                sent += 1
            notice.save(update_fields=["attempts", "status", "sent_at", "error"])
    return sent


def notices_view(*, case_type: str, case_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": n.pk,
            "customer_id": n.customer_id,
            "channel": n.channel,
            "fields": n.fields,
            "status": n.status,
            "created_at": n.created_at.isoformat(),
            "sent_at": n.sent_at.isoformat() if n.sent_at else None,
        }
        for n in CustomerNotice.objects.filter(case_type=case_type, case_id=case_id).order_by("id")
    ]

"""The in-app notification centre: reads and the one write (mark read)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common import clock
from backend.common.audit import audit_event_record
from backend.common.exceptions import NotFound, ValidationFailed
from backend.common.locks import lock_skipping_taken
from backend.common.outbox import outbox_enqueue
from tasks.models import EmailDelivery, Notification, NotificationPreference

logger = logging.getLogger(__name__)


# The e-mail job's registered name (tasks/jobs.py): enqueued by name, not by importing the task.
EMAIL_JOB = "tasks.email_notifications"


def notifications_create(rows: list[Notification]) -> list[Notification]:
    """The one way notifications are made: written in the caller's transaction, with an outbox
    row for the e-mail job in that same transaction (the job is published once it commits)."""
    rows = [r for r in rows if r.user_id]
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created if n.pk]
    if ids:
        outbox_enqueue(job=EMAIL_JOB, args=[ids], key=f"{EMAIL_JOB}:{min(ids)}", fresh=True)
    return created


def immediate_q() -> Q:
    """Notifications whose user wants each one by e-mail (no preference row: immediately);
    digest users get them in the daily digest (tasks/digest.py), `none` users only in the bell."""
    return Q(user__notification_preference__isnull=True) | Q(user__notification_preference__email=EmailDelivery.IMMEDIATE)


def notification_link(note: Notification) -> str:
    """The absolute link an e-mail gives: the task, else the notification centre (CUSTFLOW["SITE_URL"])."""

    site = settings.CUSTFLOW["SITE_URL"].rstrip("/")
    return f"{site}/tasks/{note.task_id}/" if note.task_id else f"{site}/notifications/"


def notifications_email(*, ids: list[int]) -> int:
    """Send each notification once by e-mail; returns how many were sent. Idempotent on the
    notification row: each one is locked, sent and marked `emailed_at` in one transaction, so a
    re-run (a job published twice, the resend sweep) skips the ones already sent, two workers
    never both send one, and a mail server that refuses leaves it unsent for the resend sweep."""

    sent = 0
    candidates = Notification.objects.filter(immediate_q(), pk__in=ids, emailed_at__isnull=True).exclude(user__email="")
    for pk in candidates.order_by("id").values_list("id", flat=True):
        try:
            with transaction.atomic():
                qs = lock_skipping_taken(Notification.objects.filter(immediate_q(), pk=pk, emailed_at__isnull=True).select_related("user"))
                note = qs.first()
                if note is None or not note.user.email:
                    continue
                send_mail(
                    subject=f"[custflow] {note.get_kind_display()}",
                    message=f"{note.message}\n\n{notification_link(note)}",
                    from_email=None,
                    recipient_list=[note.user.email],
                )
                Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())
        except Exception as exc:  # noqa: BLE001 - the mail server: left unsent, the sweep retries
            logger.warning("notification %s: e-mail not sent, will retry: %s: %s", pk, type(exc).__name__, exc)
            continue
        sent += 1
    return sent


def notifications_email_resend(*, now=None) -> int:
    """The sweep: e-mail the notifications still unsent some minutes after they were made (their
    job was lost with the broker, or the mail server refused). Returns how many were sent."""

    cfg = settings.CUSTFLOW["NOTIFICATION_EMAIL"]
    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(
            immediate_q(),
            emailed_at__isnull=True,
            created_at__lte=now - timedelta(minutes=cfg["RESEND_AFTER_MINUTES"]),
            created_at__gte=now - timedelta(hours=cfg["RESEND_MAX_AGE_HOURS"]),
        )
        .exclude(user__email="")
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )
    return notifications_email(ids=ids) if ids else 0


def notification_list(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=user).select_related("task").order_by("-created_at", "-id")
    return qs.filter(read_at__isnull=True) if unread_only else qs


def notification_unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@transaction.atomic
def notifications_mark_read(*, user, notification_id=None) -> int:
    """Mark one notification (or, without an id, all of them) read; returns how many changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        try:
            pk = int(notification_id)
        except (TypeError, ValueError):
            raise NotFound(_("通知不存在"), code="notification_not_found")
        if not Notification.objects.filter(user=user, pk=pk).exists():
            raise NotFound(_("通知不存在"), code="notification_not_found")
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())


def notification_preference_get(*, user) -> str:
    """The user's e-mail delivery: immediate / digest / none."""
    pref = NotificationPreference.objects.filter(user=user).values_list("email", flat=True).first()
    return pref or EmailDelivery.IMMEDIATE


@transaction.atomic
def notification_preference_set(*, actor, email: object) -> NotificationPreference:
    """The user chooses how notifications reach them by e-mail (their own preference only)."""

    if email not in EmailDelivery.values:
        raise ValidationFailed.field("email", _("请选择邮件通知方式"), code="invalid_choice")
    pref, _created = NotificationPreference.objects.select_for_update().get_or_create(
        user=actor, defaults={"email": email, "updated_at": clock.now()}
    )
    before = pref.email if not _created else EmailDelivery.IMMEDIATE
    pref.email, pref.updated_at = email, clock.now()
    pref.save(update_fields=["email", "updated_at"])
    audit_event_record(actor=actor, action="notification.preference_set", obj=pref, data={"email": email, "before": before})
    return pref

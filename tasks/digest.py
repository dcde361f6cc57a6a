"""The daily digest (每日汇总): users who chose it get one e-mail a day listing the notifications
not yet sent to them, each with its link, instead of one e-mail per notification.

A beat job runs it once a day (CELERY_BEAT_SCHEDULE["notification-digest"]); it is idempotent:
a `NotificationDigest` row per user and day (Asia/Shanghai) is written in the transaction that
sends the e-mail and marks the notifications sent, so a second run the same day sends nothing,
two workers never both send one, and a mail server that refuses leaves everything for the next
run. Notifications made after the day's digest went out wait for the next day's.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common import clock
from tasks.models import EmailDelivery, Notification, NotificationDigest, NotificationPreference
from tasks.notifications import notification_link

logger = logging.getLogger(__name__)


def _body(notes: list[Notification], day) -> str:
    lines = [_("您在 %(day)s 共有 %(n)d 条新通知：") % {"day": day.isoformat(), "n": len(notes)}, ""]
    for note in notes:
        when = timezone.localtime(note.created_at).strftime("%H:%M")
        lines.append(f"{when} [{note.get_kind_display()}] {note.message}")
        lines.append(f"    {notification_link(note)}")
    return "\n".join(lines)


def notifications_digest_send(*, now: datetime | None = None) -> int:
    """Send the day's digest to every digest user who has unsent notifications and no digest
    yet today. Returns how many e-mails were sent."""
    now = now or clock.now()
    day = timezone.localdate(now)
    users = (
        get_user_model()
        .objects.filter(notification_preference__email=EmailDelivery.DIGEST, is_active=True)
        .exclude(email="")
        .filter(notifications__emailed_at__isnull=True, notifications__created_at__lte=now)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    sent = 0
    for user_id in list(users):
        try:
            sent += _digest_one(user_id=user_id, day=day, now=now)
        except Exception as exc:  # noqa: BLE001 - the mail server: nothing marked, the next run retries
            logger.warning(
                "digest for user %s not sent, will retry: %s: %s", user_id, type(exc).__name__, exc
            )
    return sent


@transaction.atomic
def _digest_one(*, user_id: int, day, now: datetime) -> int:
    pref = (
        NotificationPreference.objects.select_for_update()
        .select_related("user")
        .filter(user_id=user_id)
        .first()
    )
    if pref is None or pref.email != EmailDelivery.DIGEST or not pref.user.email:
        return 0
    if NotificationDigest.objects.filter(user_id=user_id, day=day).exists():
        return 0
    notes = list(
        Notification.objects.select_for_update()
        .filter(user_id=user_id, emailed_at__isnull=True, created_at__lte=now)
        .order_by("created_at", "id")
    )
    if not notes:
        return 0
    send_mail(
        subject=_("[custflow] 每日通知汇总 %(day)s（%(n)d 条）") % {"day": day.isoformat(), "n": len(notes)},
        message=_body(notes, day),
        from_email=None,
        recipient_list=[pref.user.email],
    )
    Notification.objects.filter(pk__in=[n.pk for n in notes]).update(emailed_at=timezone.now())
    NotificationDigest.objects.create(user_id=user_id, day=day, sent_at=timezone.now(), count=len(notes))
    return 1

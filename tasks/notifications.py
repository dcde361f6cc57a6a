"""The in-app notification centre: reads and the one write (mark read)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.exceptions import NotFound
from tasks.models import Notification


def notifications_create(rows: list[Notification]) -> list[Notification]:
    """The one way notifications are made: written in the caller's transaction, and e-mailed
    to users with an address by a job once it commits."""
    rows = [r for r in rows if r.user_id]
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created if n.pk]
    if ids:
        from tasks.jobs import email_notifications

        transaction.on_commit(lambda: email_notifications.delay(ids))
    return created


def notifications_email(*, ids: list[int]) -> int:
    """Send each notification once by e-mail (idempotent: a re-run after a crash skips the ones
    already sent); returns how many were sent."""
    from django.conf import settings
    from django.core.mail import send_mail

    sent = 0
    for note in Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).select_related("user", "task"):
        if not note.user.email:
            continue
        link = f"{settings.CUSTFLOW['SITE_URL']}/tasks/{note.task_id}/" if note.task_id else f"{settings.CUSTFLOW['SITE_URL']}/notifications/"
        # Claim the row first: two workers never both send it.
        if not Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(emailed_at=timezone.now()):
            continue
        send_mail(
            subject=f"[custflow] {note.get_kind_display()}",
            message=f"{note.message}\n\n{link}",
            from_email=None,
            recipient_list=[note.user.email],
        )
        sent += 1
    return sent


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

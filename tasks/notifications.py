"""The in-app notification centre: reads and the one write (mark read)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.exceptions import NotFound
from tasks.models import Notification


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

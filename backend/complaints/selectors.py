"""Reads of complaints, level-scoped: a unit sees the complaints it is responsible for now and
those it accepted (handed out or not), each within its subtree; head office sees all."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from backend.common.exceptions import NotFound
from backend.complaints.models import Complaint
from backend.organisation.selectors import scope_q


def complaint_scope_q(user) -> Q:
    return scope_q(user, "org_unit") | scope_q(user, "received_org_unit")


def complaints_visible(*, user) -> QuerySet[Complaint]:
    return Complaint.objects.filter(complaint_scope_q(user)).select_related("org_unit", "received_org_unit")


def complaint_get(*, user, complaint_id: Any) -> Complaint:
    try:
        pk = int(complaint_id)
    except (TypeError, ValueError):
        raise NotFound(_("投诉不存在"), code="complaint_not_found") from None
    complaint = complaints_visible(user=user).filter(pk=pk).first()
    if complaint is None:
        raise NotFound(_("投诉不存在"), code="complaint_not_found")
    return complaint


def complaint_list(*, user, params: Any) -> QuerySet[Complaint]:
    """Filters: status, channel, category, org_unit (code), q (number, subject or complainant
    name), major, overdue (open and past due), month (YYYY-MM of receipt)."""
    from django.utils import timezone

    from backend.complaints.models import OPEN_STATUSES

    qs = complaints_visible(user=user)
    get = getattr(params, "get", lambda _k, _d=None: None)
    for name in ("status", "channel", "category"):
        value = get(name)
        if value:
            qs = qs.filter(**{name: str(value)[:32]})
    if get("org_unit"):
        qs = qs.filter(org_unit__code=str(get("org_unit"))[:32])
    q = str(get("q") or "").strip()[:100]
    if q:
        qs = qs.filter(Q(number=q) | Q(subject__icontains=q) | Q(complainant_name=q))
    if get("major") in ("1", "true", "True"):
        qs = qs.filter(major=True)
    if get("overdue") in ("1", "true", "True"):
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
    return qs.order_by("-received_at", "-id")

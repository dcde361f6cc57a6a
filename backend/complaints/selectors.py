"""Reads of complaints, level-scoped: a unit sees the complaints it is responsible for now and
those it accepted (handed out or not), each within its subtree; head office sees all."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.exceptions import NotFound
from backend.complaints.models import OPEN_STATUSES, Complaint
from backend.organisation.selectors import scope_q
from tasks.models import HumanTask, TaskStatus
from tasks.selectors import task_visible_q


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


def complaint_open_tasks(*, user, complaint: Complaint) -> list:
    """The case's open tasks this user may see: the complaint's own steps and those of its +30
    extension requests and upper-level reviews."""

    cases = (
        Q(case_type="complaints.complaint", case_id=complaint.pk)
        | Q(case_type="complaints.complaintextension", case_id__in=list(complaint.extensions.values_list("pk", flat=True)))
        | Q(case_type="complaints.complaintreview", case_id__in=list(complaint.reviews.values_list("pk", flat=True)))
    )
    return list(
        HumanTask.objects.filter(cases, status=TaskStatus.READY).filter(task_visible_q(user)).select_related("org_unit", "assignee").order_by("created_at", "id")
    )


def customer_complaints(*, user, customer) -> list[dict[str, Any]]:
    """The customer page's 投诉 section: the customer's complaints within the viewer's scope."""
    rows = complaints_visible(user=user).filter(customer=customer).order_by("-received_at", "-id")[:50]
    return [
        {"id": c.pk, "number": c.number, "subject": c.subject, "status": c.status, "status_label": c.get_status_display(), "received_at": c.received_at.isoformat()}
        for c in rows
    ]


def complaint_org_unit_choices(*, user) -> list[tuple[str, str]]:
    """The responsible units of the complaints this user sees (the list's filter)."""
    return sorted(set(complaints_visible(user=user).order_by().values_list("org_unit__code", "org_unit__name")))

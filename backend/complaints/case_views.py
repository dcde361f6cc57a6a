"""What screens and the API show of a complaint (personal data masked unless the viewer
handles complaints at the responsible unit or above; every full view is audited)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Forbidden, NotFound
from backend.complaints import clock
from backend.complaints.models import (
    OPEN_STATUSES,
    Complaint,
    ComplaintExtension,
    ComplaintReview,
    ComplaintStatus,
    RequestStatus,
)
from backend.complaints.selectors import complaint_get
from backend.complaints.services import require_handler
from backend.organisation import privacy
from backend.organisation.selectors import scope_q


def user_sees_full(user, c: Complaint) -> bool:
    return privacy.sees_full(user, c.org_unit, subject="complainant")


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def complaint_summary(c: Complaint) -> dict[str, Any]:
    """List rows: always masked."""
    return {
        "id": c.pk,
        "number": c.number,
        "status": c.status,
        "status_label": c.get_status_display(),
        "channel": c.channel,
        "channel_label": c.get_channel_display(),
        "category": c.category,
        "category_label": c.get_category_display(),
        "subject": c.subject,
        "complainant_name": c.complainant_name,
        "complainant_phone": privacy.masked("phone", c.complainant_phone),
        "org_unit": c.org_unit.code,
        "org_unit_name": c.org_unit.name,
        "received_org_unit": c.received_org_unit.code,
        "received_at": _iso(c.received_at),
        "due_at": _iso(c.due_at),
        "major": c.major,
        "breached": c.breached_at is not None,
        "on_time": c.on_time,
    }


def complaint_view(*, user, c: Complaint, purpose: str = "view") -> dict[str, Any]:
    full = user_sees_full(user, c)
    if full and (c.complainant_id_number or c.complainant_phone):
        audit_event_record(actor=user, action="complaint.full_viewed", obj=c, org_unit=c.org_unit, data={"purpose": purpose})
    view = complaint_summary(c)
    view.update(
        {
            "complainant_phone": privacy.present("complainant_phone", c.complainant_phone, full=full),
            "complainant_id_type": c.complainant_id_type,
            "complainant_id_number": privacy.present("complainant_id_number", c.complainant_id_number or "", full=full),
            "masked": not full,
            "identity_verified": c.identity_verified,
            "complainant_count": c.complainant_count,
            "description": c.description,
            "product": c.product,
            "customer_id": c.customer_id,
            "policy_number": c.policy.policy_number if c.policy_id else None,
            "subject_employee": c.subject_employee.username if c.subject_employee_id else None,
            "subject_agent": c.subject_agent.agent_code if c.subject_agent_id else None,
            "complainant_agent": c.complainant_agent.agent_code if c.complainant_agent_id else None,
            "received_org_unit_name": c.received_org_unit.name,
            "verified_facts": c.verified_facts,
            "registered_at": _iso(c.registered_at),
            "facts": c.facts,
            "basis": c.basis,
            "reasons": c.reasons,
            "decision": c.decision,
            "remedies": c.remedies,
            "decided_at": _iso(c.decided_at),
            "satisfaction": c.satisfaction,
            "closed_at": _iso(c.closed_at),
            "withdrawn_at": _iso(c.withdrawn_at),
            "withdrawal_reason": c.withdrawal_reason,
            "root_cause": c.root_cause,
            "root_cause_note": c.root_cause_note,
            "process_instance_id": c.process_instance_id,
            "clock": {k: (_iso(v) if hasattr(v, "isoformat") else v) for k, v in clock.clock_view(c).items()},
            "clock_events": [
                {"kind": e.kind, "kind_label": e.get_kind_display(), "at": _iso(e.at), "actor": e.actor.username if e.actor_id else None,
                 "reason": e.reason, "due_before": _iso(e.due_before), "due_after": _iso(e.due_after)}
                for e in c.clock_events.select_related("actor")
            ],
            "handovers": [
                {"from": h.from_org_unit.code, "from_name": h.from_org_unit.name, "to": h.to_org_unit.code, "to_name": h.to_org_unit.name,
                 "reason": h.reason, "by": h.by.username if h.by_id else None, "handler": h.handler.username if h.handler_id else None, "at": _iso(h.at)}
                for h in c.handovers.select_related("from_org_unit", "to_org_unit", "by", "handler")
            ],
            "opinions": [
                {"org_unit": o.org_unit.code, "org_unit_name": o.org_unit.name, "question": o.question, "opinion": o.opinion,
                 "by": o.by.username if o.by_id else None, "at": _iso(o.at)}
                for o in c.opinions.select_related("org_unit", "by")
            ],
            "notices": [
                {"kind": n.kind, "kind_label": n.get_kind_display(), "channel": n.channel, "channel_label": n.get_channel_display(),
                 "sent_at": _iso(n.sent_at), "proof": n.proof, "recorded_by": n.recorded_by.username}
                for n in c.notices.select_related("recorded_by")
            ],
            "merges": [{"complainant_name": m.complainant_name, "channel": m.channel, "received_at": _iso(m.received_at)} for m in c.merges.all()],
            "attachments": [
                {"id": a.pk, "kind": a.kind, "filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}
                for a in c.attachments.all()
            ],
            "extensions": [
                {"id": e.pk, "reason": e.reason, "status": e.status, "status_label": e.get_status_display(), "requested_at": _iso(e.requested_at),
                 "decided_by": e.decided_by.username if e.decided_by_id else None, "comment": e.comment}
                for e in c.extensions.select_related("decided_by")
            ],
            "reviews": [
                {"id": r.pk, "reason": r.reason, "org_unit": r.org_unit.code, "status": r.status, "decision": r.decision, "comment": r.comment,
                 "received_at": _iso(r.received_at), "due_at": _iso(r.due_at), "decided_at": _iso(r.decided_at)}
                for r in c.reviews.select_related("org_unit")
            ],
        }
    )
    return view


def complaint_case_view(*, user, complaint_id: Any) -> dict[str, Any]:
    c = complaint_get(user=user, complaint_id=complaint_id)
    return {"complaint": complaint_view(user=user, c=c, purpose="task")}


def extension_case_view(*, user, extension_id: Any) -> dict[str, Any]:
    ext = ComplaintExtension.objects.select_related("complaint__org_unit", "complaint__received_org_unit").filter(pk=extension_id).filter(scope_q(user, "org_unit") | scope_q(user, "complaint__org_unit")).first()
    if ext is None:
        raise NotFound(_("延期申请不存在"), code="extension_not_found")
    return {"extension": {"id": ext.pk, "reason": ext.reason, "status": ext.status}, "complaint": complaint_summary(ext.complaint) | {"clock": {k: (_iso(v) if hasattr(v, "isoformat") else v) for k, v in clock.clock_view(ext.complaint).items()}}}


def review_case_view(*, user, review_id: Any) -> dict[str, Any]:
    review = ComplaintReview.objects.select_related("complaint__org_unit", "complaint__received_org_unit").filter(pk=review_id).filter(scope_q(user, "org_unit") | complaint_scope_q_prefixed(user)).first()
    if review is None:
        raise NotFound(_("核查申请不存在"), code="review_not_found")
    return {"review": {"id": review.pk, "reason": review.reason, "due_at": _iso(review.due_at)}, "complaint": complaint_view(user=user, c=review.complaint, purpose="review")}


def complaint_scope_q_prefixed(user):
    return scope_q(user, "complaint__org_unit") | scope_q(user, "complaint__received_org_unit")


def complaint_actions(*, user, c: Complaint) -> dict[str, bool]:
    """Which of the complaint page's action forms apply now (presentation only: each service
    checks again)."""

    try:
        require_handler(user, c)
        handler = True
    except Forbidden:
        handler = False
    view = clock.clock_view(c)
    is_open = handler and c.status in OPEN_STATUSES
    return {
        "extend": handler and view["can_extend"],
        "extension_request": handler and view["can_request_extension"] and not c.extensions.filter(status=RequestStatus.PENDING).exists(),
        "pause": is_open and c.paused_since is None,
        "resume": is_open and c.paused_since is not None,
        "new_facts": is_open,
        "withdraw": is_open,
        "notice": handler,
        "attachment": handler,
        "review_request": handler and c.status == ComplaintStatus.CLOSED and c.decided_at is not None
        and not c.reviews.filter(status=RequestStatus.PENDING).exists(),
        "any": handler,
    }

"""The four complaint forms (登记表, 核实表, 移交表, 处理表) and the monthly 客户投诉分析表 as
signed PDFs, through the printed-document records of backend/customers/documents.py: numbered
per (form, complaint), a reprint (副本) needs a reason, signed by the issuing org unit,
verifiable by QR code and upload. The complainant's phone and id number are always masked."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.exceptions import NotFound
from backend.common.models import AuditEvent
from backend.complaints.analysis import Month, analysis_scope, complaint_analysis
from backend.complaints.clock import clock_view
from backend.complaints.exports import analysis_pdf_content
from backend.complaints.models import (
    ClockEventKind,
    Complaint,
    NoticeChannel,
    NoticeKind,
    Remedy,
)
from backend.complaints.selectors import complaint_get
from backend.customers.documents import (
    print_metadata,
    printed_document_finish,
    printed_document_start,
    printed_document_system_print,
)
from backend.customers.models import PrintedDocument
from backend.organisation import privacy
from pdfs.complaint_documents import COMPLAINT_FORMS, render_analysis_table, render_complaint_form

FORMS = tuple(COMPLAINT_FORMS)
ANALYSIS_KIND = "complaint_analysis"

# Audit actions on a complaint's stream that its forms' trail shows (others by their code).
TRAIL_LABELS = {
    "complaint.accepted": "受理",
    "complaint.verified": "核实",
    "complaint.registered": "登记",
    "complaint.attachment_added": "添加附件",
    "complaint.major": "群体投诉预警",
    "complaint.merged": "合并重复来件",
    "complaint.coordination_started": "发起协调",
    "complaint.opinions_recorded": "协调意见",
    "complaint.decided": "作出处理决定",
    "complaint.notice_recorded": "告知投诉人",
    "complaint.closed": "办结",
    "complaint.review_requested": "申请核查",
    "complaint.reviewed": "核查决定",
    "complaint.root_cause_set": "认定根本原因",
    "complaint.corrective_action_created": "制定整改措施",
    "complaint.corrective_action_closed": "整改完成",
    "task.completed": "完成任务",
    "task.escalated": "超时上报",
}
# Printing records, and the audit twins of clock events and hand-overs (their rows are in the
# trail already).
HIDDEN_ACTIONS = (
    "document.printed",
    "document.reprinted",
    "complaint.handed_over",
    "complaint.withdrawn",
    "complaint.extended",
    "complaint.extension_requested",
    "complaint.extension_granted",
    "complaint.extension_refused",
    "complaint.clock_paused",
    "complaint.clock_resumed",
    "complaint.clock_restarted",
    "complaint.clock_reminded",
    "complaint.clock_breached",
)


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _who(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def complaint_trail(*, complaint: Complaint) -> list[dict[str, str]]:
    """The case's trail: its clock events, hand-overs and audit events (and the completed or
    escalated tasks of its process), oldest first."""
    entries: list[tuple[dt.datetime, int, dict[str, str]]] = []
    for e in complaint.clock_events.select_related("actor"):
        entries.append(
            (
                e.at,
                0,
                {
                    "at": _when(e.at),
                    "actor": _who(e.actor) or "系统",
                    "action": ClockEventKind(e.kind).label if e.kind in ClockEventKind.values else e.kind,
                    "comment": e.reason,
                },
            )
        )
    for h in complaint.handovers.select_related("from_org_unit", "to_org_unit", "by"):
        entries.append(
            (
                h.at,
                1,
                {
                    "at": _when(h.at),
                    "actor": _who(h.by) or "系统",
                    "action": f"移交:{h.from_org_unit.name} → {h.to_org_unit.name}",
                    "comment": h.reason,
                },
            )
        )
    stream = Q(object_type="complaints.complaint", object_id=str(complaint.pk))
    if complaint.process_instance_id:
        stream |= Q(
            process_instance_id=complaint.process_instance_id, action__in=["task.completed", "task.escalated"]
        )
    for e in AuditEvent.objects.filter(stream).exclude(action__in=HIDDEN_ACTIONS).select_related("actor"):
        data = e.data or {}
        label = TRAIL_LABELS.get(e.action, e.action)
        if e.action == "task.completed":
            label = f"{label}: {data.get('name') or data.get('step', '')}".strip()
        comment = (
            data.get("comment") or data.get("reason") or data.get("note") or data.get("description") or ""
        )
        entries.append(
            (
                e.created_at,
                2,
                {
                    "at": _when(e.created_at),
                    "actor": _who(e.actor) or "系统",
                    "action": label,
                    "comment": str(comment),
                },
            )
        )
    entries.sort(key=lambda x: (x[0], x[1]))
    return [entry for _at, _order, entry in entries]


def _case(complaint: Complaint) -> dict[str, Any]:
    return {
        "number": complaint.number,
        "status_label": complaint.get_status_display(),
        "complainant_name": complaint.complainant_name,
        "complainant_phone": privacy.masked("phone", complaint.complainant_phone),
        "id_type": complaint.complainant_id_type,
        "id_number": privacy.masked("id_number", complaint.complainant_id_number),
        "channel_label": complaint.get_channel_display(),
        "received_at": _when(complaint.received_at),
        "received_org_unit": complaint.received_org_unit.name,
        "org_unit_name": complaint.org_unit.name,
        "category_label": complaint.get_category_display(),
        "subject": complaint.subject,
        "product": complaint.product or (complaint.policy.product if complaint.policy_id else ""),
        "customer_name": complaint.customer.name if complaint.customer_id else "",
        "policy_number": complaint.policy.policy_number if complaint.policy_id else "",
        "complainant_count": complaint.complainant_count,
        "major_label": _("是") if complaint.major else _("否"),
    }


def _clock(complaint: Complaint) -> dict[str, Any]:
    view = clock_view(complaint)
    on_time = {True: _("是"), False: _("否")}.get(view["on_time"], "")
    return {
        "state_label": view["state_label"],
        "clock_start": _when(view["clock_start"]),
        "limit_days": view["limit_days"],
        "due_at": _when(view["due_at"]),
        "extension_reason": view["extension_reason"],
        "paused_days": f"{view['paused_seconds'] / 86400:.1f}",
        "breached_at": _when(view["breached_at"]),
        "on_time_label": on_time,
        "closed_at": _when(complaint.closed_at),
    }


def _remedies(values: Any) -> str:
    labels = dict(Remedy.choices)
    return "、".join(str(labels.get(v, v)) for v in (values or []) if isinstance(v, str))


def complaint_form_content(*, complaint: Complaint, form: str) -> dict[str, Any]:
    """What a form prints (without the print's own metadata)."""
    content: dict[str, Any] = {"case": _case(complaint), "trail": complaint_trail(complaint=complaint)}
    if form == "register":
        content["description"] = complaint.description
        content["registered_at"] = _when(complaint.registered_at)
        content["attachments"] = [
            {"filename": a.filename, "kind": a.kind, "size": a.size, "sha256": a.sha256[:16]}
            for a in complaint.attachments.order_by("created_at", "id")
        ]
    elif form == "verify":
        content["identity_verified"] = _("身份已核验") if complaint.identity_verified else _("身份未核验")
        content["verified_facts"] = complaint.verified_facts
    elif form == "handover":
        content["handovers"] = [
            {
                "at": _when(h.at),
                "from_org": h.from_org_unit.name,
                "to_org": h.to_org_unit.name,
                "reason": h.reason,
                "handler": _who(h.handler),
                "by": _who(h.by),
            }
            for h in complaint.handovers.select_related("from_org_unit", "to_org_unit", "handler", "by")
        ]
    else:
        content["decision"] = {
            "facts": complaint.facts,
            "basis": complaint.basis,
            "reasons": complaint.reasons,
            "decision": complaint.decision,
            "remedies": _remedies(complaint.remedies),
            "decided_at": _when(complaint.decided_at),
            "decided_by": _who(complaint.decided_by) if complaint.decided_by_id else "",
            "satisfaction_label": complaint.get_satisfaction_display() if complaint.satisfaction else "",
            "root_cause_label": complaint.get_root_cause_display() if complaint.root_cause else "",
            "root_cause_note": complaint.root_cause_note,
        }
        content["clock"] = _clock(complaint)
        content["opinions"] = [
            {
                "at": _when(o.at),
                "org_unit": o.org_unit.name,
                "question": o.question,
                "opinion": o.opinion,
                "by": _who(o.by),
            }
            for o in complaint.opinions.select_related("org_unit", "by")
        ]
        content["notices"] = [
            {
                "sent_at": _when(n.sent_at),
                "kind_label": NoticeKind(n.kind).label if n.kind in NoticeKind.values else n.kind,
                "channel_label": NoticeChannel(n.channel).label
                if n.channel in NoticeChannel.values
                else n.channel,
                "proof": n.proof,
                "recorded_by": _who(n.recorded_by),
            }
            for n in complaint.notices.select_related("recorded_by")
        ]
        content["reviews"] = [
            {
                "received_at": _when(r.received_at),
                "org_unit": r.org_unit.name,
                "reason": r.reason,
                "due_at": _when(r.due_at),
                "status_label": r.get_status_display(),
                "decision_label": r.get_decision_display() if r.decision else "",
                "comment": r.comment,
            }
            for r in complaint.reviews.select_related("org_unit").order_by("received_at", "id")
        ]
        content["actions"] = [
            {
                "root_cause_label": a.get_root_cause_display(),
                "description": a.description,
                "owner": a.owner_org_unit.name,
                "due_date": a.due_date.isoformat(),
                "status_label": a.get_status_display(),
                "closing_note": a.closing_note,
            }
            for a in complaint.corrective_actions.select_related("owner_org_unit")
        ]
    return content


def _clean_reason(reason: Any) -> str:
    """A reprint reason as text that the database can store (no NUL characters)."""
    return str(reason or "").replace("\x00", "")


@transaction.atomic
def complaint_form_print(
    *, actor, complaint_id: Any, form: str, reason: str = ""
) -> tuple[bytes, PrintedDocument]:
    """Print one of the four forms of a complaint the actor sees (404 otherwise or for an
    unknown form); the first print is the original, later ones 副本 n with a reason."""
    if form not in FORMS:
        raise NotFound(_("不支持的单证"), code="complaint_form_not_found")
    complaint = complaint_get(user=actor, complaint_id=complaint_id)
    Complaint.objects.select_for_update().filter(pk=complaint.pk).values_list("pk", flat=True).first()
    issuer = complaint.received_org_unit if form in ("register", "verify") else complaint.org_unit
    reason = _clean_reason(reason)
    document = printed_document_start(
        actor=actor,
        kind=f"complaint_{form}",
        subject=f"complaint:{complaint.pk}:{form}",
        customer_id=None,
        org_unit=issuer,
        reason=reason,
    )
    document.customer_id = complaint.customer_id
    content = {
        **print_metadata(document, actor),
        "org_unit": issuer.name,
        **complaint_form_content(complaint=complaint, form=form),
    }
    pdf = printed_document_finish(
        actor=actor,
        document=document,
        content=content,
        render=lambda data: render_complaint_form(form, data),
        audit_obj=complaint,
        audit_data={"form": form},
    )
    return pdf, document


def _analysis_subject(month: Month, unit, scope: str) -> str:
    """Prints of one month and one scope are numbered together (a scope under several units
    adds a short hash of their names to the issuing unit's code)."""
    subject = f"{ANALYSIS_KIND}:{month.label}:{unit.code}"
    if scope != unit.name:
        subject += ":" + hashlib.sha256(scope.encode()).hexdigest()[:8]
    return subject[:64]


@transaction.atomic
def complaint_analysis_print(*, actor, month: Month, reason: str = "") -> tuple[bytes, PrintedDocument]:
    """The month's analysis table as a signed PDF issued by the reader's broadest org unit."""
    report = complaint_analysis(user=actor, month=month)  # 403 for non-readers
    unit, scope = analysis_scope(actor)
    reason = _clean_reason(reason)
    document = printed_document_start(
        actor=actor,
        kind=ANALYSIS_KIND,
        subject=_analysis_subject(month, unit, scope),
        customer_id=None,
        org_unit=unit,
        reason=reason,
    )
    content = {
        **print_metadata(document, actor),
        "org_unit": unit.name,
        **analysis_pdf_content(report, scope=scope),
    }
    pdf = printed_document_finish(
        actor=actor,
        document=document,
        content=content,
        render=render_analysis_table,
        audit_obj=unit,
        audit_data={"month": month.label},
    )
    return pdf, document


def complaint_analysis_archive_print(
    *, unit, month: Month, report: dict[str, Any]
) -> tuple[bytes, PrintedDocument]:
    """The monthly archive's signed PDF of `unit`'s analysis table, printed by the system (no
    user). Call inside the archiving transaction."""
    return printed_document_system_print(
        kind=ANALYSIS_KIND,
        subject=f"{ANALYSIS_KIND}:archive:{month.label}:{unit.code}",
        org_unit=unit,
        content=analysis_pdf_content(report, scope=unit.name),
        render=render_analysis_table,
        audit_data={"month": month.label, "archive": True},
    )

"""Complaint services: accept, attachments, notices, the clock's actions, withdrawal, closing
and the upper-level review request. The process operations (handlers.py) call `handling.py`."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, Forbidden, ValidationFailed
from backend.complaints import clock
from backend.complaints.intake import (
    clean_moment,
    complainants_on_subject,
    duplicates_of,
    intake_clean,
    subject_key,
)
from backend.complaints.models import (
    OPEN_STATUSES,
    Channel,
    ClockEventKind,
    ClockMode,
    Complaint,
    ComplaintAttachment,
    ComplaintClockEvent,
    ComplaintExtension,
    ComplaintMerge,
    ComplaintNotice,
    ComplaintReview,
    ComplaintStatus,
    NoticeChannel,
    NoticeKind,
    RequestStatus,
    Satisfaction,
)
from backend.complaints.selectors import complaint_get
from backend.organisation.models import OrgLevel, OrgUnit, Role, SalesAgent
from backend.organisation.selectors import user_role_assignments
from forms.validation import control_character_fields
from processes import runtime
from processes.services import process_instance_start
from tasks.flow import instance_end
from tasks.models import HumanTask, Notification, NotificationKind, TaskStatus
from tasks.notifications import notifications_create

COMPLAINT_PROCESS = "complaint_handling"
EXTENSION_PROCESS = "complaint_extension"
REVIEW_PROCESS = "complaint_review"
COMPLAINT_CASE = "complaints.complaint"
EXTENSION_CASE = "complaints.complaintextension"
REVIEW_CASE = "complaints.complaintreview"
HANDLER_ROLES = (Role.COMPLAINT_HANDLER, Role.CUSTOMER_SERVICE)
# Who takes a complaint in: the handlers, and the hotline agents who hear most of them first
# (the case then belongs to the agent's unit and its handlers work it).
INTAKE_ROLES = (*HANDLER_ROLES, Role.HOTLINE_AGENT)
CLOCK_TIMER = "clock_wait"


# ---- who ----------------------------------------------------------------------------------


def handler_org_unit(actor, roles=HANDLER_ROLES) -> OrgUnit | None:
    """The deepest org unit where the actor handles complaints (or, with INTAKE_ROLES, takes them in)."""
    units = [ra.org_unit for ra in user_role_assignments(actor) if ra.role in roles]
    return max(units, key=lambda u: u.path.count("/")) if units else None


def require_handler(actor, complaint: Complaint) -> None:
    """Clock actions, notices and withdrawals: a handler at the responsible unit or above."""
    if getattr(actor, "is_superuser", False):
        return
    for ra in user_role_assignments(actor):
        if ra.role in HANDLER_ROLES and complaint.org_unit.path.startswith(ra.org_unit.path):
            return
    raise Forbidden(_("只有责任机构或其上级的投诉处理岗可以执行此操作"), code="not_complaint_handler")


def interest_reason(*, user, complaint: Complaint) -> str | None:
    """回避: the employee complained about, the agent complained about, or the complainant's own
    agent has an interest in the case."""
    if user is None:
        return None
    if complaint.subject_employee_id and complaint.subject_employee_id == user.pk:
        return _("被投诉的员工本人")

    agent_id = SalesAgent.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
    if agent_id is not None:
        if complaint.subject_agent_id == agent_id:
            return _("被投诉的业务员本人")
        if complaint.complainant_agent_id == agent_id:
            return _("投诉人的代理业务员")
    return None


# ---- the clock ----------------------------------------------------------------------------------


def _clock_event(c: Complaint, kind: str, *, actor, reason: str = "", due_before=None, data: dict | None = None, at: datetime | None = None) -> None:
    ComplaintClockEvent.objects.create(
        complaint=c, kind=kind, at=at or clock.now(), actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason[:1000], due_before=due_before, due_after=c.due_at, data=data or {},
    )


def clock_refresh(c: Complaint) -> None:
    """Recompute the cached due time (lists and the inbox sort by it)."""
    c.due_at = clock.decision_due(c) or (c.due_at if c.status in (ComplaintStatus.CLOSED, ComplaintStatus.WITHDRAWN) else None)


def clock_moved(c: Complaint, *, actor) -> None:
    """After a clock change: the engine's clock timer waits for the new next point, and the
    case's open task rows show the new deadline. The caller holds the complaint row lock."""

    if c.process_instance_id:
        instance = runtime.instance_lock(c.process_instance_id)
        if instance is not None and instance.status == "running":
            runtime.instance_restart_timers(instance=instance, actor=actor, specs={CLOCK_TIMER}, now=clock.now())
        HumanTask.objects.filter(instance_id=c.process_instance_id, status=TaskStatus.READY).exclude(lane__in=["upper_complaint_handler", "head_office_cs"]).update(due_at=c.due_at)


def complaint_lock(pk: int) -> Complaint:
    """Lock a complaint the way engine steps do: its process instance first, then the row (an
    engine step holds the instance when its operations lock the complaint), so a clock action
    and a timer firing on the same case cannot deadlock."""
    instance_id = Complaint.objects.filter(pk=pk).values_list("process_instance_id", flat=True).first()
    if instance_id:
        runtime.instance_lock(instance_id)
    return Complaint.objects.select_for_update().select_related("org_unit", "received_org_unit").get(pk=pk)


def _locked(actor, complaint_id: Any) -> Complaint:
    c = complaint_get(user=actor, complaint_id=complaint_id)
    return complaint_lock(c.pk)


def _require_open(c: Complaint) -> None:
    if c.status not in OPEN_STATUSES:
        raise Conflict(_("投诉已办结或已撤诉"), code="complaint_closed")


def _reason(value: Any, field: str = "reason", *, min_length: int = 2, max_length: int = 1000) -> str:
    text = "" if value is None else str(value).strip()
    if control_character_fields(text):
        raise ValidationFailed.field(field, _("不能包含控制字符"))
    if len(text) < min_length:
        raise ValidationFailed.field(field, _("请填写原因(至少 %(n)s 个字)") % {"n": min_length})
    if len(text) > max_length:
        raise ValidationFailed.field(field, _("不能超过 %(n)s 个字符") % {"n": max_length})
    return text


# ---- 受理 -----------------------------------------------------------------------------------------


def complaint_accept(*, actor, data: Any) -> tuple[Complaint, bool]:
    """Record a complaint and start its process. Returns (complaint, merged).

    The same complainant on the same subject within the window is offered for merging: 409
    `possible_duplicate` with the candidates, unless `merge_into` (one of them) or
    `not_duplicate: true` is given."""
    org_unit = handler_org_unit(actor, INTAKE_ROLES)
    if org_unit is None:
        raise Forbidden(_("只有投诉处理岗、客服管理部或热线坐席可以受理投诉"), code="not_complaint_handler")
    v = intake_clean(data, user=actor)
    if v["errors"]:
        raise ValidationFailed("", field_errors=v["errors"])
    with transaction.atomic(), audit_batch():
        dups = duplicates_of(phone=v["complainant_phone"], id_number=v["complainant_id_number"], subject=v["subject"], received_at=v["received_at"])
        if v["merge_into"] is not None:
            target = next((d for d in dups if d.pk == v["merge_into"]), None)
            if target is None:
                raise ValidationFailed.field("merge_into", _("只能合并到同一投诉人、同一事项的投诉"), code="not_a_duplicate")
            target = Complaint.objects.select_for_update().get(pk=target.pk)
            ComplaintMerge.objects.create(
                complaint=target, complainant_name=v["complainant_name"], complainant_phone=v["complainant_phone"], channel=v["channel"],
                description=v["description"], received_at=v["received_at"], merged_by=actor,
            )
            audit_event_record(actor=actor, action="complaint.merged", obj=target, org_unit=target.org_unit, data={"channel": v["channel"]})
            _major_check(actor, target)
            return target, True
        if dups and not v["not_duplicate"]:
            raise Conflict(
                _("该投诉人近期已就同一事项投诉,可合并到已有投诉"),
                code="possible_duplicate",
                extra={"duplicates": [{"id": d.pk, "number": d.number, "subject": d.subject, "status": d.status, "received_at": d.received_at.isoformat()} for d in dups]},
            )
        cfg = clock.clock_settings()
        received = v["received_at"]
        c = Complaint(
            number=f"TMP-{hashlib.sha256(repr((actor.pk, received, v['subject'], timezone.now())).encode()).hexdigest()[:24]}",
            org_unit=org_unit, received_org_unit=org_unit, channel=v["channel"], category=v["category"], subject=v["subject"],
            subject_key=subject_key(v["subject"]), description=v["description"], complainant_name=v["complainant_name"],
            complainant_phone=v["complainant_phone"], complainant_id_type=v["complainant_id_type"], complainant_id_number=v["complainant_id_number"],
            identity_verified=v["identity_verified"], complainant_count=v["complainant_count"], customer=v["customer"], policy=v["policy"],
            product=v["product"], subject_employee=v["subject_employee"], subject_agent=v["subject_agent"], complainant_agent=v["complainant_agent"],
            received_at=received, clock_mode=cfg["CLOCK_MODE"] if cfg["CLOCK_MODE"] in ClockMode.values else ClockMode.NATURAL,
            clock_start=received, limit_days=cfg["BASE_DAYS"], created_by=actor,
        )
        if c.channel == Channel.REGULATOR:
            c.regulator_ack_due_at = clock.regulator_ack_due(received)
        clock_refresh(c)
        c.save()
        c.number = f"TS{timezone.localtime(received).strftime('%Y%m%d')}{c.pk:06d}"
        c.save(update_fields=["number"])
        _clock_event(c, ClockEventKind.STARTED, actor=actor, at=received, data={"limit_days": c.limit_days, "mode": c.clock_mode})
        audit_event_record(actor=actor, action="complaint.accepted", obj=c, org_unit=org_unit, data={"number": c.number, "channel": c.channel, "category": c.category})
        # The acceptor verifies it themselves when they handle complaints there and have no interest.
        handler_id = actor.pk if any(ra.role == Role.COMPLAINT_HANDLER and ra.org_unit_id == org_unit.pk for ra in user_role_assignments(actor)) else None
        if handler_id and interest_reason(user=actor, complaint=c):
            handler_id = None
        instance = process_instance_start(
            actor=actor, key=COMPLAINT_PROCESS, org_unit=org_unit,
            data={"case_id": c.pk, "handler_id": handler_id, "task_due_at": c.due_at.isoformat() if c.due_at else None},
            subject_type=COMPLAINT_CASE, subject_id=c.pk,
        )
        c.process_instance = instance
        c.save(update_fields=["process_instance"])
        _major_check(actor, c)
    return Complaint.objects.select_related("org_unit", "received_org_unit").get(pk=c.pk), False


def _major_check(actor, c: Complaint) -> None:
    """群体投诉: this many complainants on one subject make every complaint on it major, and
    head office is alerted at once (once per complaint)."""
    people, ids = complainants_on_subject(c.subject_key, c.received_at)
    if people < clock.clock_settings()["MAJOR_COMPLAINANTS"]:
        return
    now = clock.now()
    fresh = list(Complaint.objects.select_for_update().filter(pk__in=ids, major_alerted_at__isnull=True))
    if not fresh:
        return
    Complaint.objects.filter(pk__in=[x.pk for x in fresh]).update(major=True, major_alerted_at=now)

    head = OrgUnit.objects.filter(level=OrgLevel.HEAD_OFFICE).first()
    users = get_user_model().objects.filter(role_assignments__org_unit=head, role_assignments__role__in=HANDLER_ROLES, is_active=True).distinct() if head else []
    message = _("群体投诉:%(subject)s(%(n)s 人)") % {"subject": c.subject[:100], "n": people}
    notifications_create([Notification(user=u, kind=NotificationKind.ESCALATION, message=message[:300], created_at=now) for u in users])
    for x in fresh:
        audit_event_record(actor=actor, action="complaint.major", obj=x, org_unit=x.org_unit, data={"complainants": people})


# ---- attachments and notices -------------------------------------------------------------------

ATTACHMENT_TYPES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"ID3": ("audio/mpeg", "mp3"),
    b"\xff\xfb": ("audio/mpeg", "mp3"),
    b"\xff\xf3": ("audio/mpeg", "mp3"),
    b"RIFF": ("audio/wav", "wav"),
}
ATTACHMENT_KINDS = ("recording", "letter", "other")


def complaint_attachment_add(*, actor, complaint_id: Any, upload, kind: Any) -> ComplaintAttachment:
    """录音、信函: checked by content (PDF, JPEG, PNG, MP3, WAV), size-capped, hashed."""
    c = complaint_get(user=actor, complaint_id=complaint_id)
    require_handler(actor, c)
    if kind not in ATTACHMENT_KINDS:
        raise ValidationFailed.field("kind", _("附件类别无效,可选: %(c)s") % {"c": ", ".join(ATTACHMENT_KINDS)})
    if upload is None:
        raise ValidationFailed.field("file", _("请选择文件"))
    limit = clock.clock_settings()["ATTACHMENT_MAX_BYTES"]
    if upload.size > limit:
        raise ValidationFailed.field("file", _("文件过大(上限 %(n)s MB)") % {"n": limit // (1024 * 1024)})
    upload.seek(0)
    head = upload.read(16)
    kind_info = next((v for magic, v in ATTACHMENT_TYPES.items() if head.startswith(magic)), None)
    if kind_info is None or not upload.size:
        raise ValidationFailed.field("file", _("只接受 PDF、JPEG、PNG、MP3 或 WAV 文件"))
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = "".join(ch for ch in str(getattr(upload, "name", "") or "file") if ch.isprintable())[:200] or "file"
    with transaction.atomic(), audit_batch():
        c = Complaint.objects.select_for_update().get(pk=c.pk)
        att = ComplaintAttachment(
            complaint=c, kind=kind, filename=name, content_type=kind_info[0], size=upload.size, sha256=digest.hexdigest(), uploaded_by=actor
        )
        att.file.save(f"{digest.hexdigest()[:32]}.{kind_info[1]}", upload, save=False)
        att.save()
        audit_event_record(actor=actor, action="complaint.attachment_added", obj=c, org_unit=c.org_unit, data={"attachment": att.pk, "kind": kind, "sha256": att.sha256})
    return att


def notice_clean(data: Any, *, decided_at: datetime | None = None, prefix: str = "") -> dict[str, Any]:
    """A notice's channel, time and proof; errors keyed `<prefix>channel` etc."""
    errors: dict[str, list[str]] = {}
    data = data if isinstance(data, dict) else {}
    channel = str(data.get(f"{prefix}channel") or "").strip()
    if channel not in NoticeChannel.values:
        errors[f"{prefix}channel"] = [_("告知方式无效,可选: %(c)s") % {"c": ", ".join(NoticeChannel.values)}]
    sent_at = clean_moment(data, f"{prefix}sent_at", errors, default=None, not_before=decided_at)
    proof = "" if data.get(f"{prefix}proof") is None else str(data.get(f"{prefix}proof")).strip()
    if control_character_fields(proof):
        errors[f"{prefix}proof"] = [_("不能包含控制字符")]
    elif len(proof) < 2:
        errors[f"{prefix}proof"] = [_("请填写送达凭证(挂号信单号、短信回执、通话记录等)")]
    elif len(proof) > 500:
        errors[f"{prefix}proof"] = [_("不能超过 %(n)s 个字符") % {"n": 500}]
    return {"channel": channel, "sent_at": sent_at, "proof": proof, "errors": errors}


def complaint_notice_add(*, actor, complaint_id: Any, data: Any) -> ComplaintNotice:
    """A notice to the complainant with its proof (an extension notice above all)."""
    c = complaint_get(user=actor, complaint_id=complaint_id)
    require_handler(actor, c)
    data = data if isinstance(data, dict) else {}
    kind = str(data.get("kind") or "").strip()
    errors: dict[str, list[str]] = {}
    if kind not in NoticeKind.values:
        errors["kind"] = [_("告知类别无效,可选: %(c)s") % {"c": ", ".join(NoticeKind.values)}]
    n = notice_clean(data, decided_at=c.received_at)
    errors.update(n["errors"])
    if errors:
        raise ValidationFailed("", field_errors=errors)
    with transaction.atomic(), audit_batch():
        c = Complaint.objects.select_for_update().get(pk=c.pk)
        notice = ComplaintNotice.objects.create(complaint=c, kind=kind, channel=n["channel"], sent_at=n["sent_at"], proof=n["proof"], recorded_by=actor)
        audit_event_record(actor=actor, action="complaint.notice_recorded", obj=c, org_unit=c.org_unit, data={"notice": notice.pk, "kind": kind, "channel": n["channel"]})
    return notice


# ---- clock actions --------------------------------------------------------------------------------


def complaint_extend(*, actor, complaint_id: Any, reason: Any) -> Complaint:
    """A complex case goes from 15 to 30 days, with a reason."""
    text = _reason(reason)
    with transaction.atomic(), audit_batch():
        c = _locked(actor, complaint_id)
        require_handler(actor, c)
        _require_open(c)
        cfg = clock.clock_settings()
        if c.limit_days != cfg["BASE_DAYS"]:
            raise Conflict(_("处理时限已延长过"), code="already_extended")
        before = c.due_at
        c.limit_days, c.extension_reason = cfg["COMPLEX_DAYS"], text
        clock_refresh(c)
        c.save(update_fields=["limit_days", "extension_reason", "due_at", "updated_at"])
        _clock_event(c, ClockEventKind.EXTENDED, actor=actor, reason=text, due_before=before)
        audit_event_record(actor=actor, action="complaint.extended", obj=c, org_unit=c.org_unit, data={"limit_days": c.limit_days, "reason": text})
        clock_moved(c, actor=actor)
    return c


def complaint_extension_request(*, actor, complaint_id: Any, reason: Any) -> ComplaintExtension:
    """A further 30 days: a task for the upper-level org to approve."""
    text = _reason(reason)
    with transaction.atomic(), audit_batch():
        c = _locked(actor, complaint_id)
        require_handler(actor, c)
        _require_open(c)
        cfg = clock.clock_settings()
        if c.limit_days != cfg["COMPLEX_DAYS"]:
            raise Conflict(_("须先延长至 %(n)s 日,才能申请再延长") % {"n": cfg["COMPLEX_DAYS"]}, code="not_extended_yet")
        if ComplaintExtension.objects.filter(complaint=c, status=RequestStatus.PENDING).exists():
            raise Conflict(_("已有待审批的延期申请"), code="extension_pending")
        ext = ComplaintExtension.objects.create(complaint=c, reason=text, org_unit=c.org_unit, requested_by=actor, requested_at=clock.now())
        instance = process_instance_start(
            actor=actor, key=EXTENSION_PROCESS, org_unit=c.org_unit, data={"case_id": ext.pk, "complaint_id": c.pk},
            subject_type=EXTENSION_CASE, subject_id=ext.pk,
        )
        ext.process_instance = instance
        ext.save(update_fields=["process_instance"])
        _clock_event(c, ClockEventKind.EXTENSION_REQUESTED, actor=actor, reason=text, due_before=c.due_at)
        audit_event_record(actor=actor, action="complaint.extension_requested", obj=c, org_unit=c.org_unit, data={"extension": ext.pk, "reason": text})
    return ext


def complaint_pause(*, actor, complaint_id: Any, reason: Any) -> Complaint:
    """Outside appraisal or mediation: the clock stops until resumed."""
    text = _reason(reason)
    with transaction.atomic(), audit_batch():
        c = _locked(actor, complaint_id)
        require_handler(actor, c)
        _require_open(c)
        if c.paused_since is not None:
            raise Conflict(_("时限已在暂停中"), code="already_paused")
        before = c.due_at
        c.paused_since, c.pause_reason = clock.now(), text
        clock_refresh(c)
        c.save(update_fields=["paused_since", "pause_reason", "due_at", "updated_at"])
        _clock_event(c, ClockEventKind.PAUSED, actor=actor, reason=text, due_before=before)
        audit_event_record(actor=actor, action="complaint.clock_paused", obj=c, org_unit=c.org_unit, data={"reason": text})
        clock_moved(c, actor=actor)
    return c


def complaint_resume(*, actor, complaint_id: Any, reason: Any = "") -> Complaint:
    with transaction.atomic(), audit_batch():
        c = _locked(actor, complaint_id)
        require_handler(actor, c)
        _require_open(c)
        if c.paused_since is None:
            raise Conflict(_("时限未暂停"), code="not_paused")
        now = clock.now()
        paused = max(int((now - c.paused_since).total_seconds()), 0)
        c.paused_seconds += paused
        c.paused_since, c.pause_reason = None, ""
        clock_refresh(c)
        c.save(update_fields=["paused_since", "pause_reason", "paused_seconds", "due_at", "updated_at"])
        _clock_event(c, ClockEventKind.RESUMED, actor=actor, reason=str(reason or "")[:1000], data={"paused_seconds": paused})
        audit_event_record(actor=actor, action="complaint.clock_resumed", obj=c, org_unit=c.org_unit, data={"paused_seconds": paused})
        clock_moved(c, actor=actor)
    return c


def complaint_new_facts(*, actor, complaint_id: Any, data: Any) -> Complaint:
    """New facts or reasons restart the clock from their receipt."""
    data = data if isinstance(data, dict) else {}
    text = _reason(data.get("description"), "description", min_length=4, max_length=5000)
    with transaction.atomic(), audit_batch():
        c = _locked(actor, complaint_id)
        require_handler(actor, c)
        _require_open(c)
        errors: dict[str, list[str]] = {}
        received = clean_moment(data, "received_at", errors, default=clock.now(), not_before=c.clock_start)
        if errors:
            raise ValidationFailed("", field_errors=errors)
        before = c.due_at
        c.clock_start = received
        c.limit_days = clock.clock_settings()["BASE_DAYS"]
        c.extension_reason = ""
        c.paused_since, c.pause_reason, c.paused_seconds = None, "", 0
        if c.status == ComplaintStatus.DECIDED:
            c.status = ComplaintStatus.HANDLING
        clock_refresh(c)
        c.save(update_fields=["clock_start", "limit_days", "extension_reason", "paused_since", "pause_reason", "paused_seconds", "status", "due_at", "updated_at"])
        _clock_event(c, ClockEventKind.RESTARTED, actor=actor, reason=text, due_before=before, data={"received_at": received.isoformat()})
        audit_event_record(actor=actor, action="complaint.clock_restarted", obj=c, org_unit=c.org_unit, data={"received_at": received.isoformat()})
        clock_moved(c, actor=actor)
    return c


def complaint_withdraw(*, actor, complaint_id: Any, data: Any) -> Complaint:
    """撤诉: the case ends the day the withdrawal arrives; open tasks are cancelled."""
    data = data if isinstance(data, dict) else {}
    text = _reason(data.get("reason"))
    with transaction.atomic(), audit_batch():
        c = _locked(actor, complaint_id)
        require_handler(actor, c)
        _require_open(c)
        errors: dict[str, list[str]] = {}
        received = clean_moment(data, "received_at", errors, default=clock.now(), not_before=c.received_at)
        if errors:
            raise ValidationFailed("", field_errors=errors)
        c.status = ComplaintStatus.WITHDRAWN
        c.withdrawn_at = c.closed_at = received
        c.withdrawal_reason = text
        c.paused_since = None
        c.save(update_fields=["status", "withdrawn_at", "closed_at", "withdrawal_reason", "paused_since", "updated_at"])
        _clock_event(c, ClockEventKind.WITHDRAWN, actor=actor, reason=text, due_before=c.due_at, at=received)
        audit_event_record(actor=actor, action="complaint.withdrawn", obj=c, org_unit=c.org_unit, data={"received_at": received.isoformat(), "reason": text})
        if c.process_instance_id:
            instance = runtime.instance_lock(c.process_instance_id)
            if instance is not None and instance.status == "running":
                instance_end(actor=actor, instance=instance, reason=text, outcome="withdrawn")
        for ext in ComplaintExtension.objects.filter(complaint=c, status=RequestStatus.PENDING).select_related("process_instance"):
            ext.status, ext.comment = RequestStatus.REFUSED, _("投诉已撤诉")
            ext.save(update_fields=["status", "comment"])
            if ext.process_instance_id:
                instance = runtime.instance_lock(ext.process_instance_id)
                if instance is not None and instance.status == "running":
                    instance_end(actor=actor, instance=instance, reason=text, outcome="withdrawn")
    return c


# ---- closing -------------------------------------------------------------------------------------


def complaint_close(*, actor, complaint: Complaint, notice: dict, satisfaction: str) -> Complaint:
    """办结: only with a decision and a decision notice with its proof. The caller holds the row
    lock (the feedback step)."""

    c = complaint
    if not c.decided_at or not c.decision.strip():
        raise ValidationFailed.field("decision", _("尚未作出处理决定,不能办结"), code="no_decision")
    n = notice_clean(notice, decided_at=c.decided_at, prefix="notice_")
    if n["errors"]:
        raise ValidationFailed("", field_errors=n["errors"], code="no_notice_proof")
    if satisfaction not in Satisfaction.values:
        raise ValidationFailed.field("satisfaction", _("满意度无效,可选: %(c)s") % {"c": ", ".join(Satisfaction.values)})
    ComplaintNotice.objects.create(complaint=c, kind=NoticeKind.DECISION, channel=n["channel"], sent_at=n["sent_at"], proof=n["proof"], recorded_by=actor)
    due = clock.decision_due(c)
    c.status = ComplaintStatus.CLOSED
    c.closed_at = clock.now()
    c.satisfaction = satisfaction
    c.on_time = bool(due is not None and c.decided_at <= due and n["sent_at"] <= due)
    c.due_at = due or c.due_at
    c.save(update_fields=["status", "closed_at", "satisfaction", "on_time", "due_at", "updated_at"])
    _clock_event(c, ClockEventKind.STOPPED, actor=actor, due_before=due, data={"on_time": c.on_time})
    audit_event_record(actor=actor, action="complaint.closed", obj=c, org_unit=c.org_unit, data={"on_time": c.on_time, "satisfaction": satisfaction})
    return c


# ---- 核查 ------------------------------------------------------------------------------------------


def complaint_review_request(*, actor, complaint_id: Any, data: Any) -> ComplaintReview:
    """The complainant asks the upper-level org to review the decision within the window."""
    data = data if isinstance(data, dict) else {}
    text = _reason(data.get("reason"))
    with transaction.atomic(), audit_batch():
        c = _locked(actor, complaint_id)
        require_handler(actor, c)
        if c.status != ComplaintStatus.CLOSED or not c.decided_at:
            raise Conflict(_("只有已作出处理决定并办结的投诉可以申请核查"), code="not_decided")
        errors: dict[str, list[str]] = {}
        received = clean_moment(data, "received_at", errors, default=clock.now(), not_before=c.decided_at)
        if errors:
            raise ValidationFailed("", field_errors=errors)
        cfg = clock.clock_settings()
        if received > clock.end_of_day(timezone.localtime(c.decided_at).date() + timedelta(days=cfg["REVIEW_REQUEST_DAYS"])):
            raise ValidationFailed.field("received_at", _("已超过处理决定后 %(n)s 日的核查申请期限") % {"n": cfg["REVIEW_REQUEST_DAYS"]}, code="review_window_passed")
        if ComplaintReview.objects.filter(complaint=c, status=RequestStatus.PENDING).exists():
            raise Conflict(_("已有进行中的核查"), code="review_pending")
        upper = c.org_unit.parent or c.org_unit
        review = ComplaintReview.objects.create(
            complaint=c, reason=text, org_unit=upper, received_at=received, requested_by=actor,
            due_at=clock.deadline_after(received, cfg["REVIEW_DECISION_DAYS"], ClockMode.NATURAL),
        )
        instance = process_instance_start(
            actor=actor, key=REVIEW_PROCESS, org_unit=upper,
            data={"case_id": review.pk, "complaint_id": c.pk, "task_due_at": review.due_at.isoformat()},
            subject_type=REVIEW_CASE, subject_id=review.pk,
        )
        review.process_instance = instance
        review.save(update_fields=["process_instance"])
        audit_event_record(actor=actor, action="complaint.review_requested", obj=c, org_unit=c.org_unit, data={"review": review.pk, "to": upper.code})
    return review

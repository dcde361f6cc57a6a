"""The complaint process's steps: what each BPMN service task and form validator does.

核实 → 登记 → 移交 (any number of times, the lanes follow the case) → 协调 (opinions from
other org units, in parallel) → 处理 → 反馈 and 办结; beside them the clock watcher (a timer
that waits for the next reminder or breach point) and the upper-level approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import ValidationFailed
from backend.complaints import clock
from backend.complaints.models import (
    Category,
    ClockEventKind,
    Complaint,
    ComplaintExtension,
    ComplaintHandover,
    ComplaintOpinion,
    ComplaintReview,
    ComplaintStatus,
    Remedy,
    RequestStatus,
)
from backend.complaints.services import (
    EXTENSION_CASE,
    REVIEW_CASE,
    _clock_event,
    clock_moved,
    clock_refresh,
    complaint_close,
    complaint_lock,
    interest_reason,
    notice_clean,
)
from backend.organisation.models import OrgLevel, OrgUnit, Role
from backend.organisation.selectors import user_has_role
from tasks.models import HumanTask, Notification, NotificationKind, TaskStatus
from tasks.notifications import notifications_create

REMEDY_FIELDS = {f"remedy_{r}": r for r in Remedy.values}


def _complaint(case_id: Any) -> Complaint:
    return Complaint.objects.select_for_update().select_related("org_unit").get(pk=int(case_id))


def _due(c: Complaint) -> dict:
    return {"task_due_at": c.due_at.isoformat() if c.due_at else None}


def _set_status(c: Complaint, status: str, *fields: str) -> None:
    c.status = status
    c.save(update_fields=["status", "updated_at", *fields])


# ---- steps ---------------------------------------------------------------------------------------


def verified(*, actor, case_id, data: dict) -> dict:
    c = _complaint(case_id)
    c.verified_facts = str(data.get("verified_facts") or "")[:5000]
    c.identity_verified = bool(data.get("identity_verified")) or c.identity_verified
    _set_status(c, ComplaintStatus.VERIFIED, "verified_facts", "identity_verified")
    audit_event_record(actor=actor, action="complaint.verified", obj=c, org_unit=c.org_unit, data={"identity_verified": c.identity_verified})
    return _due(c)


def registered(*, actor, case_id, data: dict, at: datetime) -> dict:
    c = _complaint(case_id)
    if data.get("category") in Category.values:
        c.category = data["category"]
    if isinstance(data.get("product"), str) and data["product"].strip():
        c.product = data["product"].strip()[:100]
    c.registered_at = at
    _set_status(c, ComplaintStatus.REGISTERED, "category", "product", "registered_at")
    audit_event_record(actor=actor, action="complaint.registered", obj=c, org_unit=c.org_unit, data={"category": c.category})
    return _due(c)


def handover_clean(data: dict, context: Any) -> dict:
    """The 移交 form: hand over to another org unit (optionally naming a handler there, who
    must hold the handler role there and have no interest), or handle here (optionally asking
    other org units for opinions)."""
    task = getattr(context, "task", None)
    complaint = Complaint.objects.select_related("org_unit").filter(pk=getattr(task, "case_id", None)).first()
    errors: dict[str, list[str]] = {}
    decision = data.get("decision")
    cleaned = dict(data)
    if decision == "hand_over":
        code = str(data.get("target_org_unit") or "").strip()
        target = OrgUnit.objects.filter(code=code).first() if code else None
        if target is None:
            errors["target_org_unit"] = [_("请填写接收机构的机构代码")]
        elif complaint is not None and target.pk == complaint.org_unit_id:
            errors["target_org_unit"] = [_("案件已在该机构")]
        if len(str(data.get("reason") or "").strip()) < 2:
            errors["reason"] = [_("请填写移交原因")]
        username = str(data.get("handler") or "").strip()
        cleaned["handler_id"] = None
        if username and target is not None:
            user = get_user_model().objects.filter(username=username, is_active=True).first()
            if user is None or not user_has_role(user, Role.COMPLAINT_HANDLER, target):
                errors["handler"] = [_("%(u)s 不是%(unit)s的投诉处理岗") % {"u": username[:150], "unit": target.name}]
            elif complaint is not None and (why := interest_reason(user=user, complaint=complaint)):
                errors["handler"] = [_("%(u)s 须回避:%(why)s") % {"u": username[:150], "why": why}]
            else:
                cleaned["handler_id"] = user.pk
        cleaned["target_org_unit_id"] = target.pk if target is not None else None
    elif decision == "handle_here":
        codes = [x for x in str(data.get("opinion_units") or "").replace(",", ",").replace(" ", ",").split(",") if x]
        units = list(OrgUnit.objects.filter(code__in=codes))
        missing = sorted(set(codes) - {u.code for u in units})
        if missing:
            errors["opinion_units"] = [_("机构代码不存在: %(c)s") % {"c": ", ".join(m[:32] for m in missing)}]
        if len(codes) > 10:
            errors["opinion_units"] = [_("最多征求 10 个机构的意见")]
        cleaned["opinion_requests"] = [{"org_unit_id": u.pk, "code": u.code, "question": str(data.get("opinion_question") or "")[:1000]} for u in units]
    if errors:
        raise ValidationFailed("", field_errors=errors)
    return cleaned


def handed_over(*, actor, instance, case_id, data: dict, at: datetime) -> dict:
    """移交: the case and its process move to the target org unit; the next tasks go there."""
    c = _complaint(case_id)
    target = OrgUnit.objects.get(pk=int(data["target_org_unit_id"]))
    handler_id = data.get("handler_id") if isinstance(data.get("handler_id"), int) else None
    ComplaintHandover.objects.create(
        complaint=c, from_org_unit=c.org_unit, to_org_unit=target, handler_id=handler_id,
        reason=str(data.get("reason") or "")[:1000], by=actor if getattr(actor, "is_authenticated", False) else None, at=at,
    )
    source = c.org_unit
    c.org_unit = target
    c.save(update_fields=["org_unit", "updated_at"])
    instance.org_unit = target
    type(instance).objects.filter(pk=instance.pk).update(org_unit=target)
    audit_event_record(actor=actor, action="complaint.handed_over", obj=c, org_unit=target, data={"from": source.code, "to": target.code, "handler_id": handler_id})
    # 跨省: a hand-over between provinces (or to / from head office) is supervised by head
    # office customer service (客服管理部), next to the receiving unit's work.
    cross = source.ancestor_at(OrgLevel.PROVINCE) != target.ancestor_at(OrgLevel.PROVINCE)
    return {"handler_id": handler_id, "decision": None, "cross_province": cross, "handover_route": {"from": source.code, "to": target.code}, **_due(c)}


def cross_province_supervised(*, actor, case_id, data: dict) -> dict:
    """客服管理部 supervised a cross-province hand-over: its instruction joins the case trail."""
    c = _complaint(case_id)
    comment = str(data.get("ho_comment") or "")[:2000]
    route = data.get("handover_route") if isinstance(data.get("handover_route"), dict) else {}
    audit_event_record(
        actor=actor,
        action="complaint.cross_province_supervised",
        obj=c,
        org_unit=c.org_unit,
        data={"comment": comment, "from": str(route.get("from") or ""), "to": str(route.get("to") or "")},
    )
    return {"cross_province": False}


def coordination_started(*, actor, case_id, data: dict) -> dict:
    c = _complaint(case_id)
    _set_status(c, ComplaintStatus.HANDLING)
    requests = data.get("opinion_requests") or []
    audit_event_record(actor=actor, action="complaint.coordination_started", obj=c, org_unit=c.org_unit, data={"units": [r.get("code") for r in requests]})
    return {"has_opinions": bool(requests), **_due(c)}


def opinions_recorded(*, actor, instance, case_id, data: dict, at: datetime) -> dict:
    c = _complaint(case_id)
    requests = data.get("opinion_requests") or []
    rows = list(HumanTask.objects.filter(instance_id=instance.pk, step="give_opinion", status=TaskStatus.COMPLETED).order_by("-completed_at", "-id"))
    already = ComplaintOpinion.objects.filter(complaint=c).count()
    created = []
    for req in requests:
        row = next((r for r in rows if r.org_unit_id == req.get("org_unit_id")), None)
        if row is not None:
            rows.remove(row)
        opinion = str((row.result or {}).get("opinion") if row is not None else "") or ""
        created.append(ComplaintOpinion(
            complaint=c, org_unit_id=req.get("org_unit_id"), question=str(req.get("question") or "")[:1000], opinion=opinion[:5000],
            by=row.completed_by if row is not None else None, at=row.completed_at if row is not None and row.completed_at else at,
        ))
    ComplaintOpinion.objects.bulk_create(created)
    audit_event_record(actor=actor, action="complaint.opinions_recorded", obj=c, org_unit=c.org_unit, data={"count": len(created), "before": already})
    return _due(c)


def handle_clean(data: dict, context: Any) -> dict:
    cleaned = dict(data)
    remedies = [code for name, code in REMEDY_FIELDS.items() if data.get(name) is True]
    errors: dict[str, list[str]] = {}
    for name, label in (("facts", _("查明事实")), ("basis", _("处理依据")), ("reasons", _("处理理由")), ("decision_text", _("处理决定"))):
        if len(str(data.get(name) or "").strip()) < 2:
            errors[name] = [_("请填写%(label)s") % {"label": label}]
    if not remedies:
        errors["remedy_review"] = [_("请至少告知一种救济途径(核查、调解、仲裁、诉讼)")]
    if errors:
        raise ValidationFailed("", field_errors=errors)
    cleaned["remedies"] = remedies
    return cleaned


def decided(*, actor, case_id, data: dict, at: datetime) -> dict:
    c = _complaint(case_id)
    c.facts = str(data.get("facts") or "")[:5000]
    c.basis = str(data.get("basis") or "")[:5000]
    c.reasons = str(data.get("reasons") or "")[:5000]
    c.decision = str(data.get("decision_text") or "")[:5000]
    c.remedies = [r for r in data.get("remedies") or [] if r in Remedy.values]
    c.decided_at = at
    c.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    _set_status(c, ComplaintStatus.DECIDED, "facts", "basis", "reasons", "decision", "remedies", "decided_at", "decided_by")
    audit_event_record(actor=actor, action="complaint.decided", obj=c, org_unit=c.org_unit, data={"remedies": c.remedies})
    return _due(c)


def feedback_clean(data: dict, context: Any) -> dict:
    """Closing needs a decision and proof of the notice: checked before the step runs."""

    task = getattr(context, "task", None)
    c = Complaint.objects.filter(pk=getattr(task, "case_id", None)).first()
    if c is not None and not (c.decided_at and c.decision.strip()):
        raise ValidationFailed.field("notice_channel", _("尚未作出处理决定,不能办结"), code="no_decision")
    n = notice_clean(data, decided_at=c.decided_at if c is not None else None, prefix="notice_")
    if n["errors"]:
        raise ValidationFailed("", field_errors=n["errors"])
    return dict(data)


def closed(*, actor, case_id, data: dict) -> dict:
    c = _complaint(case_id)
    complaint_close(
        actor=actor, complaint=c,
        notice={k: data.get(k) for k in ("notice_channel", "notice_sent_at", "notice_proof")},
        satisfaction=str(data.get("satisfaction") or ""),
    )
    return {}


# ---- the clock watcher -------------------------------------------------------------------------


def clock_wait_seconds(case_id: Any, *, now: datetime) -> str:
    """The engine helper `complaint_clock_wait(case_id)`: how long the clock timer waits."""
    c = Complaint.objects.filter(pk=int(case_id)).first()
    seconds = int(clock.FAR_FUTURE.total_seconds()) if c is None else clock.seconds_until_next_point(c, now)
    return f"PT{seconds}S"


def clock_tick(*, instance, case_id, at: datetime) -> dict:
    """The clock timer fired: send the reminders due by `at` and escalate a breach once."""

    c = _complaint(case_id)
    escalate = False
    marks = dict(c.clock_marks or {})
    for point in clock.clock_points(c):
        if point.at > at:
            break
        marks[point.mark] = at.isoformat()
        if point.kind == "remind":
            _clock_event(c, ClockEventKind.REMINDED, actor=None, at=at, data={"deadline": point.deadline.name, "due_at": point.deadline.due_at.isoformat()})
            users = get_user_model().objects.filter(role_assignments__org_unit=c.org_unit, role_assignments__role=Role.COMPLAINT_HANDLER, is_active=True).distinct()
            message = _("投诉 %(n)s 的%(d)s将于 %(t)s 到期") % {"n": c.number, "d": point.deadline.label, "t": timezone.localtime(point.deadline.due_at).strftime("%Y-%m-%d %H:%M")}
            notifications_create([Notification(user=u, kind=NotificationKind.REMINDER, message=message[:300], created_at=at) for u in users])
            audit_event_record(actor=None, action="complaint.clock_reminded", obj=c, org_unit=c.org_unit, process_instance_id=instance.pk, data={"deadline": point.deadline.name})
        else:
            escalate = True
            if point.deadline.name == "decision" and c.breached_at is None:
                c.breached_at = at
            _clock_event(c, ClockEventKind.BREACHED, actor=None, at=at, data={"deadline": point.deadline.name, "due_at": point.deadline.due_at.isoformat()})
            audit_event_record(actor=None, action="complaint.clock_breached", obj=c, org_unit=c.org_unit, process_instance_id=instance.pk, data={"deadline": point.deadline.name, "to": (c.org_unit.parent or c.org_unit).code})
    c.clock_marks = marks
    c.save(update_fields=["clock_marks", "breached_at", "updated_at"])
    return {"escalate": escalate, "breached_deadline": escalate}


# ---- upper-level approvals ------------------------------------------------------------------------


def extension_decided(*, actor, case_id, data: dict, granted: bool) -> dict:
    complaint_id = ComplaintExtension.objects.values_list("complaint_id", flat=True).get(pk=int(case_id))
    c = complaint_lock(complaint_id)  # the complaint's instance, then its row: the order steps use
    ext = ComplaintExtension.objects.select_for_update().get(pk=int(case_id))
    if ext.status != RequestStatus.PENDING:
        return {}
    ext.status = RequestStatus.GRANTED if granted else RequestStatus.REFUSED
    ext.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    ext.decided_at = clock.now()
    ext.comment = str(data.get("comment") or "")[:1000]
    ext.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    before = c.due_at
    if granted and c.status in (ComplaintStatus.ACCEPTED, ComplaintStatus.VERIFIED, ComplaintStatus.REGISTERED, ComplaintStatus.HANDLING, ComplaintStatus.DECIDED):
        c.limit_days = clock.clock_settings()["MAX_DAYS"]
        clock_refresh(c)
        c.save(update_fields=["limit_days", "due_at", "updated_at"])
        _clock_event(c, ClockEventKind.EXTENSION_GRANTED, actor=actor, reason=ext.comment, due_before=before, data={"extension": ext.pk})
        audit_event_record(actor=actor, action="complaint.extension_granted", obj=c, org_unit=c.org_unit, data={"extension": ext.pk})
        clock_moved(c, actor=actor)
    else:
        _clock_event(c, ClockEventKind.EXTENSION_REFUSED, actor=actor, reason=ext.comment, due_before=before, data={"extension": ext.pk})
        audit_event_record(actor=actor, action="complaint.extension_refused", obj=c, org_unit=c.org_unit, data={"extension": ext.pk})
    return {}


def review_decided(*, actor, case_id, data: dict, at: datetime) -> dict:
    review = ComplaintReview.objects.select_for_update().get(pk=int(case_id))
    if review.status != RequestStatus.PENDING:
        return {}
    review.status = RequestStatus.GRANTED
    review.decision = str(data.get("review_decision") or "")[:16]
    review.comment = str(data.get("comment") or "")[:5000]
    review.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    review.decided_at = at
    review.save(update_fields=["status", "decision", "comment", "decided_by", "decided_at"])
    c = Complaint.objects.get(pk=review.complaint_id)
    audit_event_record(actor=actor, action="complaint.reviewed", obj=c, org_unit=review.org_unit, data={"review": review.pk, "decision": review.decision, "on_time": at <= review.due_at})
    return {}


def review_wait_seconds(case_id: Any, *, now: datetime) -> str:
    review = ComplaintReview.objects.filter(pk=int(case_id)).first()
    if review is None:
        return f"PT{int(clock.FAR_FUTURE.total_seconds())}S"
    return f"PT{max(int((review.due_at - now).total_seconds()), 1)}S"


def interest_for_task(*, user, case_id: Any, case_type: str) -> str | None:
    if case_type == EXTENSION_CASE:
        complaint_id = ComplaintExtension.objects.filter(pk=case_id).values_list("complaint_id", flat=True).first()
    elif case_type == REVIEW_CASE:
        complaint_id = ComplaintReview.objects.filter(pk=case_id).values_list("complaint_id", flat=True).first()
    else:
        complaint_id = case_id
    c = Complaint.objects.filter(pk=complaint_id).first()
    return interest_reason(user=user, complaint=c) if c is not None else None


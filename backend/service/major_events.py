"""客户重大事件 (seed 001 §二): a customer manager reports a major event of one of his customers
(death, serious illness, a large claim, bankruptcy, a lawsuit, press exposure…) as a case that
reaches the branch's unit head (机构负责人) and the customer-service centre (客户服务中心) at once;
each acknowledges it with an instruction or a follow-up plan within a working day (deadline
`major_event`, reminded and escalated like every review). The case closes when both have.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.cases import case_cancel
from backend.common.exceptions import Conflict, Forbidden, ValidationFailed
from backend.customers.selectors import customer_get_visible
from backend.organisation.models import Role
from backend.organisation.selectors import user_role_assignments
from backend.service.models import MajorEvent, MajorEventKind, MajorEventStatus
from forms.validation import control_character_fields
from processes.services import process_instance_start

MAJOR_EVENT_PROCESS = "customer_major_event"
MAJOR_EVENT_CASE = "service.majorevent"
DESCRIPTION_MAX = 2000
ANSWER_MAX = 1000
# An event reported later than this after it happened is a typing slip, not news.
OCCURRED_MAX_DAYS_BACK = 366
REPORTER_ROLES = frozenset({Role.CUSTOMER_MANAGER})
MAJOR_EVENT_FIELDS = ("kind", "occurred_on", "description")


def user_may_report_major_event(user, customer) -> bool:
    """A customer manager whose unit is the customer's or one of its ancestors."""
    path = customer.org_unit.path
    return any(ra.role in REPORTER_ROLES and path.startswith(ra.org_unit.path) for ra in user_role_assignments(user))


def major_event_clean(data: Any, *, today: date | None = None) -> dict[str, Any]:
    """kind, occurred_on, description, checked field by field (ValidationFailed with them all)."""
    today = today or timezone.localdate()
    get = data.get if hasattr(data, "get") else (lambda _name, _default=None: None)
    errors: dict[str, list[str]] = {}
    kind = get("kind")
    if kind not in MajorEventKind.values:
        errors["kind"] = [_("请选择事件类型：%(choices)s") % {"choices": "、".join(str(k.label) for k in MajorEventKind)}]
    raw_day = get("occurred_on")
    occurred = None
    if isinstance(raw_day, str) and len(raw_day) <= 10:
        try:
            occurred = parse_date(raw_day.strip())
        except ValueError:
            occurred = None
    if occurred is None:
        errors["occurred_on"] = [_("请填写发生日期（YYYY-MM-DD）")]
    elif occurred > today:
        errors["occurred_on"] = [_("发生日期不能晚于今天")]
    elif occurred < today - timedelta(days=OCCURRED_MAX_DAYS_BACK):
        errors["occurred_on"] = [_("发生日期不能早于一年前，更早的情况请登记联系记录")]
    description = get("description")
    description = description.strip() if isinstance(description, str) else ""
    if not description:
        errors["description"] = [_("请填写事件经过")]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("事件经过不能超过 %(n)s 个字符") % {"n": DESCRIPTION_MAX}]
    elif control_character_fields(description):
        errors["description"] = [_("不能包含控制字符")]
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_major_event")
    return {"kind": kind, "occurred_on": occurred, "description": description}


def major_event_report(*, actor, customer_id: Any, data: Any) -> MajorEvent:
    """The manager reports; the case belongs to the customer's unit; the process starts."""
    if customer_id in (None, ""):
        raise ValidationFailed.field("customer_id", _("请选择客户"), code="customer_required")
    customer = customer_get_visible(user=actor, customer_id=customer_id)  # out of scope: 404
    if not user_may_report_major_event(actor, customer):
        raise Forbidden(_("只有该客户所在机构的客户经理可以报告重大事件"), code="major_event_not_allowed")
    clean = major_event_clean(data)
    with transaction.atomic(), audit_batch():
        case = MajorEvent.objects.create(customer=customer, reported_by=actor, org_unit=customer.org_unit, **clean)
        audit_event_record(
            actor=actor,
            action="major_event.reported",
            obj=customer,
            org_unit=customer.org_unit,
            # What happened, not the account of it: the description may hold personal details.
            data={"major_event": case.pk, "kind": case.kind, "occurred_on": case.occurred_on.isoformat()},
        )
        instance = process_instance_start(
            actor=actor,
            key=MAJOR_EVENT_PROCESS,
            org_unit=customer.org_unit,
            data={"case_id": case.pk, "kind": case.kind},
            subject_type=MAJOR_EVENT_CASE,
            subject_id=case.pk,
        )
        case.process_instance = instance
        case.save(update_fields=["process_instance"])
    return MajorEvent.objects.select_related("customer", "reported_by", "org_unit").get(pk=case.pk)


# ---- operations of the customer_major_event diagram ---------------------------------------------


def _locked(case_id: Any) -> MajorEvent:
    return MajorEvent.objects.select_for_update(of=("self",)).select_related("org_unit").get(pk=int(case_id))


def _answer(value: Any, label: str, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationFailed.field(field, _("请填写%(label)s") % {"label": label}, code="answer_required")
    if len(text) > ANSWER_MAX:
        raise ValidationFailed.field(field, _("%(label)s不能超过 %(n)s 个字符") % {"label": label, "n": ANSWER_MAX})
    return text


def _acknowledge(*, actor, case_id: Any, who: str, text: str) -> dict:
    case = _locked(case_id)
    if case.status != MajorEventStatus.OPEN:
        raise Conflict(_("该重大事件已办结"), code="major_event_closed")
    if actor is not None and actor.pk == case.reported_by_id:
        raise Forbidden(_("报告人不能阅知本人报告的重大事件"), code="self_acknowledgement")
    now = timezone.now()
    if who == "head":
        case.head_instruction, case.head_by, case.head_at = text, actor, now
        fields = ["head_instruction", "head_by", "head_at"]
    else:
        case.centre_plan, case.centre_by, case.centre_at = text, actor, now
        fields = ["centre_plan", "centre_by", "centre_at"]
    case.save(update_fields=fields)
    audit_event_record(
        actor=actor, action=f"major_event.{who}_acknowledged", obj=case, org_unit=case.org_unit, data={"customer": case.customer_id}
    )
    return {"acknowledged": who}


def major_event_head_acknowledge(*, actor, case_id: Any, instruction: Any) -> dict:
    return _acknowledge(actor=actor, case_id=case_id, who="head", text=_answer(instruction, _("负责人批示"), "instruction"))


def major_event_centre_acknowledge(*, actor, case_id: Any, plan: Any) -> dict:
    return _acknowledge(actor=actor, case_id=case_id, who="centre", text=_answer(plan, _("跟进安排"), "plan"))


def major_event_close(*, actor, case_id: Any) -> dict:
    case = _locked(case_id)
    if case.status != MajorEventStatus.OPEN:
        raise Conflict(_("该重大事件已办结"), code="major_event_closed")
    case.status, case.closed_at = MajorEventStatus.CLOSED, timezone.now()
    case.save(update_fields=["status", "closed_at"])
    audit_event_record(actor=actor, action="major_event.closed", obj=case, org_unit=case.org_unit, data={"customer": case.customer_id})
    return {"status": str(case.status)}


def major_event_cancel(*, actor, case_id: Any, reason: str, withdrawn: bool) -> None:
    case = _locked(case_id)
    case_cancel(case, status=MajorEventStatus.CANCELLED, reason=reason)
    audit_event_record(
        actor=actor, action="major_event.cancelled", obj=case, org_unit=case.org_unit, data={"reason": reason, "withdrawn": withdrawn}
    )

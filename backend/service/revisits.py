"""回访与提醒 (seed 001 §三 "续保提醒服务", §四 "大客户定期回访制度 … 优质个人客户定期电话回访制度";
issue 20 item 5).

A daily plan job (`service.revisits_plan`) opens one `Revisit` per customer, kind and period:

- 大客户季度拜访: every key customer (segment `key`) once a quarter, visited by his manager;
- 优质客户年度电话回访: every good individual customer once a year, called by his manager, or by
  the hotline (customer service at head office, 客服热线) when he has none;
- 投诉办结满意度回访: every complaint closed in the last `COMPLAINT_DAYS`, once, called by the
  hotline — never by someone who handled the complaint (four eyes through `data_work`);
- 续保提醒: every policy in force that ends within `RENEWAL_DAYS`, by the policyholder's manager
  or the hotline;
- 久未核实客户资料更新: every active managed customer not verified for `STALE_DAYS`, once a
  year, by his manager, at most `STALE_PER_BRANCH` per branch and run, the oldest first (a
  customer without a manager is drawn by the officers' monthly verification sample instead).

The plan is idempotent: a unique (customer, kind, period) — and one revisit per complaint — so a
second run opens nothing. Each revisit runs the `customer_revisit` diagram: a gateway on who
makes the contact, that person's step with a deadline (reminded, escalated), and a service task
recording the outcome; the outcome lands in the customer's contact log (联系记录) and so on his
timeline.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, Forbidden, ValidationFailed
from backend.common.workdays import add_working_days
from backend.complaints.models import Complaint, ComplaintStatus, Satisfaction
from backend.customers.models import ContactKind, Customer, CustomerContact, CustomerStatus, CustomerType
from backend.organisation.models import Role
from backend.organisation.selectors import user_role_assignments
from backend.policies.models import Policy, policies_in_force, policy_end
from backend.service.models import (
    CustomerManager,
    ManagedCustomer,
    Revisit,
    RevisitChannel,
    RevisitKind,
    RevisitLane,
    RevisitStatus,
)
from forms.validation import control_character_fields
from processes.runtime import deadline_value, parse_duration
from processes.services import process_instance_start
from tasks.models import HumanTask

REVISIT_PROCESS = "customer_revisit"
REVISIT_CASE = "service.revisit"
SUMMARY_MAX = 2000
NEXT_STEP_MAX_DAYS = 365
COMPLAINT_CASE = "complaints.complaint"
_WORKING_DAYS = re.compile(r"^P(\d+)WD$")

# The deadline of each kind (a name in CUSTFLOW["DEADLINES"] and its default).
DEADLINES = {
    RevisitKind.KEY_QUARTERLY_VISIT: ("revisit_visit", "P10WD"),
    RevisitKind.STALE_RECORD: ("revisit_visit", "P10WD"),
    RevisitKind.GOOD_YEARLY_CALL: ("revisit_call", "P3WD"),
    RevisitKind.COMPLAINT_SATISFACTION: ("revisit_call", "P3WD"),
    RevisitKind.RENEWAL_REMINDER: ("renewal_reminder", "P5WD"),
}
# The diagram's step for a kind and a lane (the gateway `route` reads `step`).
STEPS = {
    (RevisitKind.KEY_QUARTERLY_VISIT, RevisitLane.MANAGER): "visit",
    (RevisitKind.STALE_RECORD, RevisitLane.MANAGER): "visit",
    (RevisitKind.GOOD_YEARLY_CALL, RevisitLane.MANAGER): "call",
    (RevisitKind.GOOD_YEARLY_CALL, RevisitLane.HOTLINE): "hotline_call",
    (RevisitKind.COMPLAINT_SATISFACTION, RevisitLane.HOTLINE): "hotline_call",
    (RevisitKind.RENEWAL_REMINDER, RevisitLane.MANAGER): "renewal",
    (RevisitKind.RENEWAL_REMINDER, RevisitLane.HOTLINE): "hotline_renewal",
}


def _cfg() -> dict[str, int]:
    defaults = {"RENEWAL_DAYS": 30, "STALE_DAYS": 365, "STALE_PER_BRANCH": 500, "COMPLAINT_DAYS": 30}
    return {**defaults, **settings.CUSTFLOW.get("REVISITS", {})}


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def revisit_due_at(kind: str, start: datetime) -> datetime:
    """When a revisit opened at `start` is due: its kind's deadline (working days count the
    holiday calendar), the same the step's deadline timer counts."""
    name, default = DEADLINES[RevisitKind(kind)]
    value = deadline_value(name, default)
    match = _WORKING_DAYS.match(value)
    if match:
        return add_working_days(start, int(match.group(1)))
    return start + parse_duration(value)


def _managers_of(customer_ids) -> dict[int, CustomerManager]:
    """The serving manager of each customer, when he is an active user."""
    rows = ManagedCustomer.objects.filter(customer_id__in=list(customer_ids), manager__user__is_active=True).select_related(
        "manager__user"
    )
    return {row.customer_id: row.manager for row in rows}


def revisit_open(
    *,
    kind: str,
    period: str,
    org_unit,
    customer: Customer | None = None,
    manager: CustomerManager | None = None,
    complaint: Complaint | None = None,
    policy: Policy | None = None,
) -> Revisit:
    """Open one revisit and start its process (in the system's name: nobody submitted it)."""
    kind = RevisitKind(kind).value
    lane = (RevisitLane.MANAGER if manager is not None else RevisitLane.HOTLINE).value
    step = STEPS.get((RevisitKind(kind), RevisitLane(lane)))
    if step is None:
        raise ValueError(f"{kind} has no {lane} step")
    now = timezone.now()
    with transaction.atomic(), audit_batch():
        case = Revisit.objects.create(
            customer=customer, kind=kind, period=period, complaint=complaint, policy=policy, lane=lane,
            manager=manager, due_at=revisit_due_at(kind, now), org_unit=org_unit,
        )
        audit_event_record(
            actor=None,
            action="revisit.opened",
            obj=case,
            org_unit=org_unit,
            data={"kind": kind, "period": period, "lane": lane, "manager": manager.pk if manager else None, "due_at": case.due_at.isoformat()},
        )
        instance = process_instance_start(
            actor=None,
            key=REVISIT_PROCESS,
            org_unit=org_unit,
            data={
                "case_id": case.pk,
                "kind": kind,
                "step": step,
                "manager_id": manager.user_id if manager else None,
                "customer_id": customer.pk if customer else None,
            },
            subject_type=REVISIT_CASE,
            subject_id=case.pk,
        )
        case.process_instance = instance
        case.save(update_fields=["process_instance"])
    return case


def _open_quietly(**kwargs) -> bool:
    try:
        revisit_open(**kwargs)
    except IntegrityError:
        return False  # another run opened it first
    return True


def _not_planned(kind: str, period: str):
    return ~Exists(Revisit.objects.filter(customer=OuterRef("pk"), kind=kind, period=period))


# ---- the plan ----------------------------------------------------------------------------------


def _plan_key_visits(today: date) -> int:
    period = quarter_of(today)
    customers = list(
        Customer.objects.filter(status=CustomerStatus.ACTIVE, segment__key=True)
        .filter(_not_planned(RevisitKind.KEY_QUARTERLY_VISIT, period))
        .select_related("org_unit")
        .order_by("pk")
    )
    managers = _managers_of(c.pk for c in customers)
    opened = 0
    for customer in customers:
        manager = managers.get(customer.pk)
        if manager is None:
            continue  # a visit needs a manager: assign one first (客户分配)
        opened += _open_quietly(kind=RevisitKind.KEY_QUARTERLY_VISIT, period=period, org_unit=customer.org_unit, customer=customer, manager=manager)
    return opened


def _plan_good_calls(today: date) -> int:
    period = str(today.year)
    customers = list(
        Customer.objects.filter(status=CustomerStatus.ACTIVE, customer_type=CustomerType.INDIVIDUAL, segment__good=True)
        .filter(_not_planned(RevisitKind.GOOD_YEARLY_CALL, period))
        .select_related("org_unit")
        .order_by("pk")
    )
    managers = _managers_of(c.pk for c in customers)
    return sum(
        _open_quietly(kind=RevisitKind.GOOD_YEARLY_CALL, period=period, org_unit=c.org_unit, customer=c, manager=managers.get(c.pk))
        for c in customers
    )


def _plan_complaint_calls(now: datetime) -> int:
    since = now - timedelta(days=_cfg()["COMPLAINT_DAYS"])
    complaints = (
        Complaint.objects.filter(status=ComplaintStatus.CLOSED, closed_at__gte=since)
        .filter(~Exists(Revisit.objects.filter(complaint=OuterRef("pk"))))
        .select_related("org_unit", "customer")
        .order_by("closed_at", "pk")
    )
    return sum(
        _open_quietly(
            kind=RevisitKind.COMPLAINT_SATISFACTION, period=f"complaint:{c.pk}", org_unit=c.org_unit, customer=c.customer, complaint=c
        )
        for c in complaints
    )


def _plan_renewals(today: date) -> int:
    days = _cfg()["RENEWAL_DAYS"]
    horizon = today + timedelta(days=days)
    in_force = policies_in_force(Policy.objects.filter(policyholder__status=CustomerStatus.ACTIVE), today)
    due: list[tuple[Policy, date]] = []
    # end_date is the effective date moved on by the term: per term, the effective dates whose end
    # falls in the window (a few days' margin for month ends), then the exact end in Python.
    for months in in_force.values_list("term_months", flat=True).distinct():
        low = policy_end(today, -months) - timedelta(days=4)
        high = policy_end(horizon, -months) + timedelta(days=4)
        for policy in in_force.filter(term_months=months, effective_date__range=(low, high)).select_related("policyholder__org_unit"):
            end = policy.end_date
            if today < end <= horizon:
                due.append((policy, end))
    periods = {(p.policyholder_id, f"{p.pk}:{end.isoformat()}") for p, end in due}
    planned = set(
        Revisit.objects.filter(kind=RevisitKind.RENEWAL_REMINDER, customer_id__in={c for c, _ in periods}).values_list("customer_id", "period")
    )
    managers = _managers_of(p.policyholder_id for p, _ in due)
    opened = 0
    for policy, end in sorted(due, key=lambda item: (item[1], item[0].pk)):
        period = f"{policy.pk}:{end.isoformat()}"
        if (policy.policyholder_id, period) in planned:
            continue
        holder = policy.policyholder
        opened += _open_quietly(
            kind=RevisitKind.RENEWAL_REMINDER, period=period, org_unit=holder.org_unit, customer=holder, policy=policy,
            manager=managers.get(holder.pk),
        )
    return opened


def _plan_stale(now: datetime) -> int:
    cfg = _cfg()
    cutoff = now - timedelta(days=cfg["STALE_DAYS"])
    period = str(timezone.localtime(now).year)
    stale = (
        Customer.objects.filter(status=CustomerStatus.ACTIVE, managed_by__manager__user__is_active=True)
        .filter(Q(last_verified_at__lt=cutoff) | Q(last_verified_at__isnull=True, activated_at__lt=cutoff))
        .filter(_not_planned(RevisitKind.STALE_RECORD, period))
    )
    opened = 0
    for unit_id in stale.values_list("org_unit_id", flat=True).distinct().order_by("org_unit_id"):
        # The oldest verified first; at most STALE_PER_BRANCH per branch and run.
        batch = list(
            stale.filter(org_unit_id=unit_id).select_related("org_unit").order_by("last_verified_at", "activated_at", "pk")[: cfg["STALE_PER_BRANCH"]]
        )
        managers = _managers_of(c.pk for c in batch)
        for customer in batch:
            opened += _open_quietly(
                kind=RevisitKind.STALE_RECORD, period=period, org_unit=customer.org_unit, customer=customer, manager=managers[customer.pk]
            )
    return opened


def revisits_plan(*, today: date | None = None) -> dict[str, int]:
    """Open every revisit the plan owes today. Returns how many of each kind were opened; a second
    run the same day opens nothing."""
    now = timezone.now()
    today = today or timezone.localdate()
    return {
        RevisitKind.KEY_QUARTERLY_VISIT.value: _plan_key_visits(today),
        RevisitKind.GOOD_YEARLY_CALL.value: _plan_good_calls(today),
        RevisitKind.COMPLAINT_SATISFACTION.value: _plan_complaint_calls(now),
        RevisitKind.RENEWAL_REMINDER.value: _plan_renewals(today),
        RevisitKind.STALE_RECORD.value: _plan_stale(now),
    }


# ---- the outcome -------------------------------------------------------------------------------


def revisit_outcome_clean(data: Any, *, kind: str, now: datetime | None = None) -> dict[str, Any]:
    """The outcome's values, or a ValidationFailed naming every bad field at once."""
    now = now or timezone.now()
    data = data if isinstance(data, dict) else {}
    errors: dict[str, list[str]] = {}
    for name in control_character_fields(data):
        errors[name] = [_("不能包含控制字符")]
    contacted = data.get("contacted")
    if "contacted" not in errors and contacted not in ("yes", "no"):
        errors["contacted"] = [_("请选择是否联系上客户")]
    channel = data.get("channel")
    if "channel" not in errors and channel not in RevisitChannel.values:
        errors["channel"] = [_("请选择联系方式")]
    summary = data.get("summary")
    text = summary.strip() if isinstance(summary, str) else ""
    if "summary" not in errors:
        if not text:
            errors["summary"] = [_("请填写回访情况")]
        elif len(text) > SUMMARY_MAX:
            errors["summary"] = [_("回访情况不能超过 %(n)s 个字") % {"n": SUMMARY_MAX}]
    reached = contacted == "yes"
    satisfaction = data.get("satisfaction") or ""
    if "satisfaction" not in errors:
        if satisfaction and satisfaction not in Satisfaction.values:
            errors["satisfaction"] = [_("未知的满意度")]
        elif kind == RevisitKind.COMPLAINT_SATISFACTION and reached and not satisfaction:
            errors["satisfaction"] = [_("投诉回访请填写客户满意度")]
    confirmed = data.get("data_confirmed") or ""
    if "data_confirmed" not in errors:
        if confirmed and confirmed not in ("yes", "no"):
            errors["data_confirmed"] = [_("请选择客户资料是否仍然准确")]
        elif kind == RevisitKind.STALE_RECORD and reached and not confirmed:
            errors["data_confirmed"] = [_("资料更新回访请确认客户资料是否仍然准确")]
    next_step_at = None
    raw = data.get("next_step_on") or ""
    if "next_step_on" not in errors and raw:
        day = None
        if isinstance(raw, str) and len(raw) <= 10:
            try:
                day = parse_date(raw.strip())
            except ValueError:  # well formed, but no such day (2026-02-30)
                day = None
        today = timezone.localtime(now).date()
        if day is None:
            errors["next_step_on"] = [_("下次跟进日期格式应为 YYYY-MM-DD")]
        elif day <= today:
            errors["next_step_on"] = [_("下次跟进日期必须晚于今天")]
        elif day > today + timedelta(days=NEXT_STEP_MAX_DAYS):
            errors["next_step_on"] = [_("下次跟进日期不能晚于一年以后")]
        else:
            next_step_at = timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=9)))
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_revisit")
    return {
        "contacted": reached,
        "channel": channel,
        "summary": text,
        "satisfaction": satisfaction if reached else "",
        "data_confirmed": (confirmed == "yes") if reached and confirmed else None,
        "next_step_at": next_step_at,
    }


def revisit_outcome_validate(data: dict, context: Any) -> dict:
    """The form's domain validator (`service.revisit_outcome`): the same rules as the service
    task, before the step completes, so a bad outcome leaves the step open and writes nothing."""
    task = getattr(context, "task", None)
    kind = Revisit.objects.filter(pk=getattr(task, "case_id", None)).values_list("kind", flat=True).first() or ""
    revisit_outcome_clean(data, kind=kind)
    return data


def complaint_workers(complaint_id: int) -> set[int]:
    """Who handled the complaint: its decider and whoever completed one of its steps."""
    workers = set(
        HumanTask.objects.filter(case_type=COMPLAINT_CASE, case_id=complaint_id, completed_by__isnull=False).values_list("completed_by_id", flat=True)
    )
    decided_by = Complaint.objects.filter(pk=complaint_id).values_list("decided_by_id", flat=True).first()
    return workers | ({decided_by} if decided_by else set())


def revisits_worked_on(*, user):
    """`data_work` of the type: satisfaction calls on complaints the user handled — he never
    makes that call himself (the hotline lane is a four-eyes lane)."""
    handled = HumanTask.objects.filter(case_type=COMPLAINT_CASE, completed_by=user).values_list("case_id", flat=True)
    return (
        Revisit.objects.filter(kind=RevisitKind.COMPLAINT_SATISFACTION)
        .filter(Q(complaint__decided_by=user) | Q(complaint_id__in=handled))
        .values_list("pk", flat=True)
    )


def _check_actor(actor, case: Revisit) -> None:
    if actor is None:
        raise Forbidden(_("回访由客户经理或客服热线办理"), code="not_the_revisitor")
    if case.lane == RevisitLane.MANAGER:
        if case.manager is None or actor.pk != case.manager.user_id:
            raise Forbidden(_("该回访由客户本人的客户经理办理"), code="not_the_manager")
        return
    if not any(ra.role == Role.CUSTOMER_SERVICE for ra in user_role_assignments(actor)):
        raise Forbidden(_("该回访由客服热线办理"), code="not_customer_service")
    if case.complaint_id and actor.pk in complaint_workers(case.complaint_id):
        raise Forbidden(_("处理过该投诉的人员不能做满意度回访"), code="own_complaint")


def _contact_record(*, actor, case: Revisit, values: dict, now: datetime) -> CustomerContact:
    """The outcome in the customer's contact log (the file's dynamic part, on his timeline)."""
    customer = case.customer
    kind_label = str(RevisitKind(case.kind).label)
    outcome = _("已联系上") if values["contacted"] else _("未联系上")
    if values["satisfaction"]:
        outcome += _("；满意度：%(s)s") % {"s": Satisfaction(values["satisfaction"]).label}
    if values["data_confirmed"] is not None:
        outcome += _("；资料经客户确认无误") if values["data_confirmed"] else _("；资料有变化，需办理信息修改")
    channel = values["channel"] if values["channel"] in ("phone", "hotline", "visit", "branch", "wechat") else "other"
    contact = CustomerContact.objects.create(
        customer=customer,
        kind=ContactKind.VISIT if values["channel"] == RevisitChannel.VISIT else ContactKind.CALL,
        channel=channel,
        summary=f"【{kind_label}】{values['summary']}"[:SUMMARY_MAX],
        outcome=outcome[:500],
        next_step_at=values["next_step_at"],
        recorded_by=actor,
        org_unit=customer.org_unit,
    )
    audit_event_record(
        actor=actor,
        action="customer.contact_recorded",
        obj=customer,
        org_unit=customer.org_unit,
        data={"contact_id": contact.pk, "kind": contact.kind, "channel": contact.channel, "revisit": case.pk},
    )
    if case.kind == RevisitKind.STALE_RECORD and values["data_confirmed"]:
        customer.last_verified_at = now
        customer.save(update_fields=["last_verified_at"])
        audit_event_record(actor=actor, action="customer.verified", obj=customer, org_unit=customer.org_unit, data={"revisit": case.pk})
    return contact


def revisit_complete(*, actor, case_id: Any, data: dict) -> dict:
    """The service task after the contact: the outcome on the revisit and in the customer's
    contact log; late when after `due_at`."""
    case = Revisit.objects.select_for_update(of=("self",)).select_related("org_unit", "manager", "customer__org_unit").get(pk=int(case_id))
    if case.status != RevisitStatus.OPEN:
        raise Conflict(_("该回访已办结"), code="revisit_closed")
    _check_actor(actor, case)
    values = revisit_outcome_clean(data, kind=case.kind)
    now = timezone.now()
    if case.customer_id:
        case.contact = _contact_record(actor=actor, case=case, values=values, now=now)
    case.contacted, case.channel, case.summary = values["contacted"], values["channel"], values["summary"]
    case.satisfaction, case.data_confirmed, case.next_step_at = values["satisfaction"], values["data_confirmed"], values["next_step_at"]
    case.status, case.completed_at, case.completed_by, case.late, case.closed_at = RevisitStatus.DONE, now, actor, now > case.due_at, now
    case.save(
        update_fields=[
            "contact", "contacted", "channel", "summary", "satisfaction", "data_confirmed", "next_step_at",
            "status", "completed_at", "completed_by", "late", "closed_at",
        ]
    )
    audit_event_record(
        actor=actor,
        action="revisit.completed",
        obj=case,
        org_unit=case.org_unit,
        data={"kind": case.kind, "contacted": case.contacted, "channel": case.channel, "late": case.late},
    )
    return {"contacted": case.contacted, "late": case.late}

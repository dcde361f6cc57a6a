"""客户分配与移交 (seed 001 §二: 一户一经理, one-stop service by one manager): a customer has at
most one customer manager. Assigning one, or transferring the customer to another manager, is a
request with its reason (process `customer_assignment`), approved by the head (机构负责人) of the
receiving manager's unit; the approval makes it so, and the request keeps who asked, why and who
approved.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, Forbidden, ValidationFailed
from backend.customers.selectors import customer_get_visible
from backend.organisation.models import Role
from backend.organisation.selectors import user_role_assignments
from backend.service.models import AssignmentStatus, CustomerAssignment, CustomerManager, ManagedCustomer
from forms.validation import control_character_fields
from processes.services import process_instance_start

ASSIGNMENT_PROCESS = "customer_assignment"
ASSIGNMENT_CASE = "service.customerassignment"
ASSIGNMENT_FIELDS = ("customer_id", "manager", "reason")
REASON_MAX = 500
# Who may ask: a customer manager (for himself or a colleague) and the branch's officers.
REQUESTER_ROLES = frozenset({Role.CUSTOMER_MANAGER, Role.OFFICER})


def user_may_request_assignment(user, customer) -> bool:
    path = customer.org_unit.path
    return any(ra.role in REQUESTER_ROLES and path.startswith(ra.org_unit.path) for ra in user_role_assignments(user))


def customer_manager_current(customer) -> CustomerManager | None:
    managed = ManagedCustomer.objects.select_related("manager__user", "manager__org_unit").filter(customer=customer).first()
    return managed.manager if managed else None


def _manager_clean(username: Any, customer, errors: dict[str, list[str]]) -> CustomerManager | None:
    name = username.strip() if isinstance(username, str) else ""
    if not name:
        errors["manager"] = [_("请填写客户经理（用户名）")]
        return None
    manager = (
        CustomerManager.objects.select_related("user", "org_unit").filter(user__username=name[:150], user__is_active=True).first()
        if len(name) <= 150
        else None
    )
    if manager is None or not any(ra.role == Role.CUSTOMER_MANAGER for ra in user_role_assignments(manager.user)):
        errors["manager"] = [_("%(name)s 不是客户经理") % {"name": name[:40]}]
        return None
    if not customer.org_unit.path.startswith(manager.org_unit.path):
        errors["manager"] = [
            _("客户经理 %(name)s 所在的%(unit)s不负责该客户所在机构") % {"name": manager.user.get_full_name() or name, "unit": manager.org_unit.name}
        ]
        return None
    return manager


def customer_assignment_request(*, actor, data: Any) -> CustomerAssignment:
    """Ask for a customer to be served by a manager (or moved to another); starts the approval."""
    get = data.get if hasattr(data, "get") else (lambda _name, _default=None: None)
    customer_id = get("customer_id")
    if customer_id in (None, ""):
        raise ValidationFailed.field("customer_id", _("请选择客户"), code="customer_required")
    customer = customer_get_visible(user=actor, customer_id=customer_id)  # out of scope: 404
    if not user_may_request_assignment(actor, customer):
        raise Forbidden(_("只有该客户所在机构的客户经理或客户信息管理岗可以申请分配客户"), code="assignment_not_allowed")
    errors: dict[str, list[str]] = {}
    manager = _manager_clean(get("manager"), customer, errors)
    reason = get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        errors["reason"] = [_("请填写分配或移交的理由")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("理由不能超过 %(n)s 个字符") % {"n": REASON_MAX}]
    elif control_character_fields(reason):
        errors["reason"] = [_("不能包含控制字符")]
    current = customer_manager_current(customer)
    if manager is not None and current is not None and current.pk == manager.pk:
        errors["manager"] = [_("该客户已由 %(name)s 负责") % {"name": manager.user.get_full_name() or manager.user.username}]
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_assignment")
    try:
        with transaction.atomic(), audit_batch():
            if CustomerAssignment.objects.select_for_update().filter(customer=customer, status=AssignmentStatus.PENDING).exists():
                raise Conflict(_("该客户已有一笔审批中的分配申请"), code="assignment_pending")
            case = CustomerAssignment.objects.create(
                customer=customer,
                manager=manager,
                previous_manager=current,
                reason=reason,
                requested_by=actor,
                org_unit=manager.org_unit,
            )
            audit_event_record(
                actor=actor,
                action="customer_assignment.requested",
                obj=customer,
                org_unit=customer.org_unit,
                data={"assignment": case.pk, "manager": manager.pk, "previous_manager": current.pk if current else None},
            )
            instance = process_instance_start(
                actor=actor,
                key=ASSIGNMENT_PROCESS,
                org_unit=manager.org_unit,
                data={"case_id": case.pk, "transfer": current is not None},
                subject_type=ASSIGNMENT_CASE,
                subject_id=case.pk,
            )
            case.process_instance = instance
            case.save(update_fields=["process_instance"])
    except IntegrityError:
        raise Conflict(_("该客户已有一笔审批中的分配申请"), code="assignment_pending") from None
    return CustomerAssignment.objects.select_related("customer", "manager__user", "previous_manager__user", "org_unit").get(pk=case.pk)


# ---- operations of the customer_assignment diagram ---------------------------------------------


def _locked(case_id: Any) -> CustomerAssignment:
    return CustomerAssignment.objects.select_for_update(of=("self",)).select_related("org_unit", "manager").get(pk=int(case_id))


def _check_decider(actor, case: CustomerAssignment) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Forbidden(_("客户分配须由机构负责人审批"), code="not_unit_head")
    if actor.pk in (case.requested_by_id, case.manager.user_id):
        raise Forbidden(_("不能审批本人提出或涉及本人的客户分配"), code="self_approval")
    if not any(ra.role == Role.UNIT_HEAD and case.org_unit.path.startswith(ra.org_unit.path) for ra in user_role_assignments(actor)):
        raise Forbidden(_("客户分配须由接收客户经理所在机构的负责人审批"), code="not_unit_head")


def customer_assignment_approve(*, actor, case_id: Any, comment: str = "") -> dict:
    case = _locked(case_id)
    if case.status != AssignmentStatus.PENDING:
        raise Conflict(_("该分配申请已办结"), code="assignment_closed")
    _check_decider(actor, case)
    now = timezone.now()
    ManagedCustomer.objects.update_or_create(
        customer_id=case.customer_id, defaults={"manager": case.manager, "since": now, "assignment": case}
    )
    case.status, case.decided_by, case.decided_at, case.decision_comment, case.closed_at = (
        AssignmentStatus.APPROVED, actor, now, comment, now,
    )
    case.save(update_fields=["status", "decided_by", "decided_at", "decision_comment", "closed_at"])
    audit_event_record(
        actor=actor,
        action="customer_assignment.approved",
        obj=case,
        org_unit=case.org_unit,
        data={"customer": case.customer_id, "manager": case.manager_id, "previous_manager": case.previous_manager_id},
    )
    return {"status": str(case.status)}


def customer_assignment_reject(*, actor, case_id: Any, comment: str) -> dict:
    case = _locked(case_id)
    if case.status != AssignmentStatus.PENDING:
        raise Conflict(_("该分配申请已办结"), code="assignment_closed")
    _check_decider(actor, case)
    now = timezone.now()
    case.status, case.decided_by, case.decided_at, case.decision_comment, case.closed_at = (
        AssignmentStatus.REJECTED, actor, now, comment, now,
    )
    case.save(update_fields=["status", "decided_by", "decided_at", "decision_comment", "closed_at"])
    audit_event_record(actor=actor, action="customer_assignment.rejected", obj=case, org_unit=case.org_unit, data={"reason": comment})
    return {"status": str(case.status)}


def customer_assignment_cancel(*, actor, case_id: Any, reason: str, withdrawn: bool) -> None:
    case = _locked(case_id)
    case.status, case.decision_comment, case.closed_at = AssignmentStatus.CANCELLED, reason, timezone.now()
    case.save(update_fields=["status", "decision_comment", "closed_at"])
    audit_event_record(
        actor=actor, action="customer_assignment.cancelled", obj=case, org_unit=case.org_unit, data={"reason": reason, "withdrawn": withdrawn}
    )

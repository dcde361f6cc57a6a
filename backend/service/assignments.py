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
from backend.common.cases import case_cancel, case_decide
from backend.common.exceptions import Conflict, Forbidden, ValidationFailed
from backend.customers.selectors import customer_get_visible
from backend.organisation.models import Role
from backend.organisation.selectors import user_role_assignments
from backend.service.models import (
    AssignmentStatus,
    BulkTransfer,
    CustomerAssignment,
    CustomerManager,
    ManagedCustomer,
)
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
    case_decide(case, status=AssignmentStatus.APPROVED, actor=actor, comment=comment)
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
    case_decide(case, status=AssignmentStatus.REJECTED, actor=actor, comment=comment)
    audit_event_record(actor=actor, action="customer_assignment.rejected", obj=case, org_unit=case.org_unit, data={"reason": comment})
    return {"status": str(case.status)}


def customer_assignment_cancel(*, actor, case_id: Any, reason: str, withdrawn: bool) -> None:
    case = _locked(case_id)
    case_cancel(case, status=AssignmentStatus.CANCELLED, reason=reason)
    audit_event_record(
        actor=actor, action="customer_assignment.cancelled", obj=case, org_unit=case.org_unit, data={"reason": reason, "withdrawn": withdrawn}
    )


# ---- 客户经理离岗移交: all of a departing manager's customers at once ----------------------------

BULK_TRANSFER_PROCESS = "customer_bulk_transfer"
BULK_TRANSFER_CASE = "service.bulktransfer"
BULK_TRANSFER_FIELDS = ("manager", "to_manager", "reason")
# The branch's officers ask (a unit head approves: were he to ask, nobody at his unit could decide).
BULK_REQUESTER_ROLES = frozenset({Role.OFFICER})


def _manager_named(username: Any, field: str, errors: dict[str, list[str]]) -> CustomerManager | None:
    name = username.strip() if isinstance(username, str) else ""
    manager = (
        CustomerManager.objects.select_related("user", "org_unit").filter(user__username=name).first()
        if name and len(name) <= 150
        else None
    )
    if manager is None:
        errors[field] = [_("请选择客户经理") if not name else _("%(name)s 不是客户经理") % {"name": name[:40]}]
    return manager


def user_may_request_bulk_transfer(user) -> bool:
    return any(ra.role in BULK_REQUESTER_ROLES for ra in user_role_assignments(user))


def bulk_transfer_request(*, actor, data: Any) -> BulkTransfer:
    """An officer or the unit head of the departing manager's unit asks to move all his customers."""
    get = data.get if hasattr(data, "get") else (lambda _name, _default=None: None)
    errors: dict[str, list[str]] = {}
    source = _manager_named(get("manager"), "manager", errors)
    target = _manager_named(get("to_manager"), "to_manager", errors)
    roles = user_role_assignments(actor)
    if source is not None and not any(source.org_unit.path.startswith(ra.org_unit.path) for ra in roles):
        # Another branch's manager reads as unknown to this user (no oracle across branches).
        errors["manager"] = [_("%(name)s 不是客户经理") % {"name": str(get("manager"))[:40]}]
        source = None
    if source is not None and not any(
        ra.role in BULK_REQUESTER_ROLES and source.org_unit.path.startswith(ra.org_unit.path) for ra in roles
    ):
        raise Forbidden(_("只有客户经理所在机构的客户信息管理岗可以申请离岗移交"), code="bulk_transfer_not_allowed")
    customers = list(ManagedCustomer.objects.filter(manager=source).select_related("customer__org_unit")) if source else []
    if source is not None and not customers:
        errors["manager"] = [_("该客户经理名下没有客户")]
    if source is not None and target is not None:
        if source.pk == target.pk:
            errors["to_manager"] = [_("接收客户经理不能是离岗的客户经理本人")]
        elif not all(m.customer.org_unit.path.startswith(target.org_unit.path) for m in customers):
            errors["to_manager"] = [_("%(unit)s的客户经理不负责其中部分客户所在机构") % {"unit": target.org_unit.name}]
        elif not target.user.is_active:
            errors["to_manager"] = [_("接收客户经理已停用")]
    reason = get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        errors["reason"] = [_("请填写分配或移交的理由")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("理由不能超过 %(n)s 个字符") % {"n": REASON_MAX}]
    elif control_character_fields(reason):
        errors["reason"] = [_("不能包含控制字符")]
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_bulk_transfer")
    try:
        with transaction.atomic(), audit_batch():
            case = BulkTransfer.objects.create(
                from_manager=source,
                to_manager=target,
                reason=reason,
                requested_by=actor,
                org_unit=source.org_unit,
                customer_count=len(customers),
            )
            audit_event_record(
                actor=actor,
                action="bulk_transfer.requested",
                obj=case,
                org_unit=source.org_unit,
                data={"from_manager": source.pk, "to_manager": target.pk, "customers": len(customers)},
            )
            instance = process_instance_start(
                actor=actor,
                key=BULK_TRANSFER_PROCESS,
                org_unit=source.org_unit,
                data={"case_id": case.pk, "customers": len(customers)},
                subject_type=BULK_TRANSFER_CASE,
                subject_id=case.pk,
            )
            case.process_instance = instance
            case.save(update_fields=["process_instance"])
    except IntegrityError:
        raise Conflict(_("该客户经理已有一笔审批中的离岗移交"), code="bulk_transfer_pending") from None
    return BulkTransfer.objects.select_related("from_manager__user", "to_manager__user", "org_unit").get(pk=case.pk)


def _bulk_locked(case_id: Any) -> BulkTransfer:
    return BulkTransfer.objects.select_for_update(of=("self",)).select_related("org_unit", "from_manager", "to_manager").get(pk=int(case_id))


def _check_bulk_decider(actor, case: BulkTransfer) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Forbidden(_("客户分配须由机构负责人审批"), code="not_unit_head")
    if actor.pk in (case.requested_by_id, case.from_manager.user_id, case.to_manager.user_id):
        raise Forbidden(_("不能审批本人提出或涉及本人的客户分配"), code="self_approval")
    if not any(ra.role == Role.UNIT_HEAD and case.org_unit.path.startswith(ra.org_unit.path) for ra in user_role_assignments(actor)):
        raise Forbidden(_("离岗移交须由离岗客户经理所在机构的负责人审批"), code="not_unit_head")


def bulk_transfer_approve(*, actor, case_id: Any, comment: str = "") -> dict:
    """Every customer the departing manager serves now (not only those counted at the request)."""
    case = _bulk_locked(case_id)
    if case.status != AssignmentStatus.PENDING:
        raise Conflict(_("该分配申请已办结"), code="assignment_closed")
    _check_bulk_decider(actor, case)
    now = timezone.now()
    moved = ManagedCustomer.objects.filter(manager_id=case.from_manager_id).update(manager_id=case.to_manager_id, since=now)
    case.moved_count = moved
    case_decide(case, status=AssignmentStatus.APPROVED, actor=actor, comment=comment, extra_fields=("moved_count",))
    audit_event_record(
        actor=actor,
        action="bulk_transfer.approved",
        obj=case,
        org_unit=case.org_unit,
        data={"from_manager": case.from_manager_id, "to_manager": case.to_manager_id, "moved": moved},
    )
    return {"status": str(case.status), "moved": moved}


def bulk_transfer_reject(*, actor, case_id: Any, comment: str) -> dict:
    case = _bulk_locked(case_id)
    if case.status != AssignmentStatus.PENDING:
        raise Conflict(_("该分配申请已办结"), code="assignment_closed")
    _check_bulk_decider(actor, case)
    case_decide(case, status=AssignmentStatus.REJECTED, actor=actor, comment=comment)
    audit_event_record(actor=actor, action="bulk_transfer.rejected", obj=case, org_unit=case.org_unit, data={"reason": comment})
    return {"status": str(case.status)}


def bulk_transfer_cancel(*, actor, case_id: Any, reason: str, withdrawn: bool) -> None:
    case = _bulk_locked(case_id)
    case_cancel(case, status=AssignmentStatus.CANCELLED, reason=reason)
    audit_event_record(
        actor=actor, action="bulk_transfer.cancelled", obj=case, org_unit=case.org_unit, data={"reason": reason, "withdrawn": withdrawn}
    )

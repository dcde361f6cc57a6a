"""黑名单: entries are added and removed only through a reviewed change (four eyes).

Openings, amendments and endorsements look entries up with `checks.blacklist_hits`; a hit
routes the case to a special review at province level with the hit shown.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, Forbidden, InvalidValue, NotFound, ValidationFailed
from backend.customers.events import customer_status_changed
from backend.customers.models import (
    AmendmentStatus,
    BlacklistAction,
    BlacklistChange,
    BlacklistEntry,
    BlacklistStatus,
    Customer,
    IdType,
)
from backend.customers.validators import validate_id_number
from backend.organisation.models import Role
from backend.organisation.selectors import scope_filter, user_role_assignments
from forms.validation import control_character_fields
from processes.services import process_instance_start

BLACKLIST_PROCESS = "blacklist_change"
BLACKLIST_CASE = "customers.blacklistchange"
REQUESTER_ROLES = (Role.OFFICER, Role.COMPLIANCE)
READER_ROLES = (Role.OFFICER, Role.COMPLIANCE, Role.REVIEWER)


def _requester_org_unit(actor):
    units = [ra.org_unit for ra in user_role_assignments(actor) if ra.role in REQUESTER_ROLES]
    return min(units, key=lambda u: u.path.count("/")) if units else None


def _text(
    data: dict, name: str, *, label: str, max_length: int, errors: dict[str, list[str]], required: bool = True
) -> str:
    value = str(data.get(name) or "").strip()
    if control_character_fields(value):
        errors[name] = [_("不能包含控制字符")]
    elif required and not value:
        errors[name] = [_("请填写%(label)s") % {"label": label}]
    elif len(value) > max_length:
        errors[name] = [_("%(label)s不能超过 %(n)s 个字符") % {"label": label, "n": max_length}]
    return value


def _start(actor, change: BlacklistChange) -> None:
    instance = process_instance_start(
        actor=actor,
        key=BLACKLIST_PROCESS,
        org_unit=change.org_unit,
        data={"case_id": change.pk, "action": str(change.action)},
        subject_type=BLACKLIST_CASE,
        subject_id=change.pk,
    )
    change.process_instance = instance
    change.save(update_fields=["process_instance"])


def blacklist_add_request(
    *, actor, id_type: str, id_number: str, name: str = "", reason: str, source: str
) -> BlacklistChange:
    """Propose a new entry; it takes effect when a second person approves it."""
    org_unit = _requester_org_unit(actor)
    if org_unit is None:
        raise Forbidden(_("只有客户信息管理岗或合规岗可以提交黑名单变更"), code="not_entitled")
    data = {"id_type": id_type, "id_number": id_number, "name": name, "reason": reason, "source": source}
    errors: dict[str, list[str]] = {}
    name = _text(data, "name", label=_("名称"), max_length=100, errors=errors, required=False)
    reason = _text(data, "reason", label=_("原因"), max_length=1000, errors=errors)
    source = _text(data, "source", label=_("来源"), max_length=100, errors=errors)
    id_type = str(id_type or "").strip()
    number = ""
    if id_type not in IdType.values:
        errors["id_type"] = [_("证件类型无效,可选: %(choices)s") % {"choices": ", ".join(IdType.values)}]
    elif control_character_fields(id_number):
        errors["id_number"] = [_("不能包含控制字符")]
    else:
        try:
            number = validate_id_number(id_type, str(id_number or "")).normalized
        except InvalidValue as exc:
            errors["id_number"] = [exc.message]
    if errors:
        raise ValidationFailed("", field_errors=errors)
    try:
        with transaction.atomic(), audit_batch():
            entry = BlacklistEntry.objects.create(
                id_type=id_type,
                id_number=number,
                name=name,
                reason=reason,
                source=source,
                org_unit=org_unit,
                created_by=actor,
            )
            change = BlacklistChange.objects.create(
                entry=entry, action=BlacklistAction.ADD, reason=reason, org_unit=org_unit, requested_by=actor
            )
            audit_event_record(
                actor=actor,
                action="blacklist.add_requested",
                obj=entry,
                org_unit=org_unit,
                data={"change": change.pk, "source": source},
            )
            _start(actor, change)
    except IntegrityError:
        raise ValidationFailed.field(
            "id_number", _("该证件已在黑名单中或正在审核加入"), code="already_blacklisted"
        ) from None
    return BlacklistChange.objects.select_related("entry").get(pk=change.pk)


def blacklist_entries(*, user, status: str = "") -> QuerySet[BlacklistEntry]:
    """Entries in the user's scope, newest first; `status` (one of BlacklistStatus) filters."""
    if not any(ra.role in READER_ROLES for ra in user_role_assignments(user)) and not user.is_superuser:
        raise Forbidden(_("无权查看黑名单"), code="not_entitled")
    qs = scope_filter(BlacklistEntry.objects.select_related("org_unit", "created_by"), user).order_by("-id")
    if status:
        if status not in BlacklistStatus.values:
            raise ValidationFailed.field("status", _("未知的状态"), code="invalid_status")
        qs = qs.filter(status=status)
    return qs


def blacklist_entry_get(*, user, entry_id: Any) -> BlacklistEntry:
    try:
        pk = int(entry_id)
    except (TypeError, ValueError):
        raise NotFound(_("黑名单记录不存在"), code="blacklist_entry_not_found") from None
    entry = blacklist_entries(user=user).filter(pk=pk).first()
    if entry is None:
        raise NotFound(_("黑名单记录不存在"), code="blacklist_entry_not_found")
    return entry


def blacklist_remove_request(*, actor, entry_id: Any, reason: str) -> BlacklistChange:
    org_unit = _requester_org_unit(actor)
    if org_unit is None:
        raise Forbidden(_("只有客户信息管理岗或合规岗可以提交黑名单变更"), code="not_entitled")
    entry = blacklist_entry_get(user=actor, entry_id=entry_id)
    errors: dict[str, list[str]] = {}
    reason = _text({"reason": reason}, "reason", label=_("原因"), max_length=1000, errors=errors)
    if errors:
        raise ValidationFailed("", field_errors=errors)
    with transaction.atomic(), audit_batch():
        entry = BlacklistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != BlacklistStatus.ACTIVE:
            raise Conflict(_("只有生效中的黑名单记录可以移除"), code="blacklist_entry_not_active")
        if entry.changes.filter(status=AmendmentStatus.PENDING).exists():
            raise Conflict(_("该记录已有一笔审核中的变更"), code="blacklist_change_pending")
        change = BlacklistChange.objects.create(
            entry=entry,
            action=BlacklistAction.REMOVE,
            reason=reason,
            org_unit=entry.org_unit,
            requested_by=actor,
        )
        audit_event_record(
            actor=actor,
            action="blacklist.remove_requested",
            obj=entry,
            org_unit=entry.org_unit,
            data={"change": change.pk, "reason": reason},
        )
        _start(actor, change)
    return BlacklistChange.objects.select_related("entry").get(pk=change.pk)


def blacklist_change_get(*, user, change_id: Any) -> BlacklistChange:
    try:
        pk = int(change_id)
    except (TypeError, ValueError):
        raise NotFound(_("黑名单变更不存在"), code="blacklist_change_not_found") from None
    change = (
        scope_filter(BlacklistChange.objects.select_related("entry", "org_unit", "requested_by"), user)
        .filter(pk=pk)
        .first()
    )
    if change is None:
        raise NotFound(_("黑名单变更不存在"), code="blacklist_change_not_found")
    return change


# ---- operations of the blacklist_change diagram ----------------------------------------------


def _change_locked(case_id: Any) -> BlacklistChange:
    return (
        BlacklistChange.objects.select_for_update(of=("self",))
        .select_related("entry", "org_unit")
        .get(pk=int(case_id))
    )


def _decider(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def blacklist_change_apply(*, actor, case_id: Any, comment: str = "") -> dict:
    change = _change_locked(case_id)
    entry = BlacklistEntry.objects.select_for_update().get(pk=change.entry_id)
    now = timezone.now()
    if change.action == BlacklistAction.ADD:
        entry.status, entry.activated_at = BlacklistStatus.ACTIVE, now
        entry.save(update_fields=["status", "activated_at"])
    else:
        entry.status, entry.removed_at = BlacklistStatus.REMOVED, now
        entry.save(update_fields=["status", "removed_at"])
    change.status, change.decided_by, change.decision_comment, change.closed_at = (
        AmendmentStatus.APPLIED,
        _decider(actor),
        comment,
        now,
    )
    change.save(update_fields=["status", "decided_by", "decision_comment", "closed_at"])
    audit_event_record(
        actor=actor,
        action=f"blacklist.{change.action}_applied",
        obj=entry,
        org_unit=change.org_unit,
        data={"change": change.pk},
    )
    # The business gate (can_do_business) of customers holding this document changed.

    for holder in Customer.objects.filter(id_type=entry.id_type, id_number=entry.id_number):
        customer_status_changed(customer=holder, old_status=f"blacklist_{change.action}", new_status=holder.status, actor=actor)
    return {"entry_status": str(entry.status)}


def blacklist_change_reject(*, actor, case_id: Any, comment: str) -> dict:
    change = _change_locked(case_id)
    now = timezone.now()
    if change.action == BlacklistAction.ADD:
        BlacklistEntry.objects.filter(pk=change.entry_id).update(status=BlacklistStatus.REJECTED)
    change.status, change.decided_by, change.decision_comment, change.closed_at = (
        AmendmentStatus.REJECTED,
        _decider(actor),
        comment,
        now,
    )
    change.save(update_fields=["status", "decided_by", "decision_comment", "closed_at"])
    audit_event_record(
        actor=actor,
        action=f"blacklist.{change.action}_rejected",
        obj=change.entry,
        org_unit=change.org_unit,
        data={"change": change.pk, "reason": comment},
    )
    return {"change_status": str(change.status)}


def blacklist_change_cancel(*, actor, case_id: Any, reason: str, withdrawn: bool) -> None:
    change = _change_locked(case_id)
    if change.action == BlacklistAction.ADD:
        BlacklistEntry.objects.filter(pk=change.entry_id, status=BlacklistStatus.PENDING).update(status=BlacklistStatus.REJECTED)
    change.status, change.decision_comment, change.closed_at = AmendmentStatus.CANCELLED, reason, timezone.now()
    change.save(update_fields=["status", "decision_comment", "closed_at"])
    audit_event_record(actor=actor, action=f"blacklist.{change.action}_cancelled", obj=change.entry, org_unit=change.org_unit, data={"change": change.pk, "reason": reason})

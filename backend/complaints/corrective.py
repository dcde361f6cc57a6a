"""溯源整改: tag a complaint's root cause, open corrective actions for it, close them.

Who: a complaint handler, customer-service or compliance role holder whose org unit's subtree
holds the complaint (the unit responsible now or the one that accepted it). Every write locks
the complaint row first and writes an audit event on the complaint's stream, so the case trail
and the printed forms show it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from functools import reduce
from operator import or_
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from backend.complaints.models import ActionStatus, Complaint, CorrectiveAction, RootCause
from backend.complaints.selectors import complaint_get, complaints_visible
from backend.organisation.models import OrgUnit, Role
from backend.organisation.selectors import user_can_see_org_unit, user_role_assignments, user_scope_paths

CORRECTIVE_ROLES = (Role.COMPLAINT_HANDLER, Role.CUSTOMER_SERVICE, Role.COMPLIANCE)
NOTE_MAX = 1000


class CorrectiveErrorCode(StrEnum):
    NOT_ALLOWED = "corrective_not_allowed"
    INVALID = "corrective_invalid"
    ACTION_NOT_FOUND = "corrective_action_not_found"
    ALREADY_CLOSED = "corrective_action_closed"


def corrective_may_act(user, complaint: Complaint) -> bool:
    """A corrective role at an org unit whose subtree holds the complaint."""
    if getattr(user, "is_superuser", False):
        return True
    paths = (complaint.org_unit.path, complaint.received_org_unit.path)
    return any(
        ra.role in CORRECTIVE_ROLES and any(p.startswith(ra.org_unit.path) for p in paths)
        for ra in user_role_assignments(user)
    )


def _complaint_locked(*, actor, complaint_id: Any) -> Complaint:
    complaint = complaint_get(user=actor, complaint_id=complaint_id)  # out of scope: 404
    if not corrective_may_act(actor, complaint):
        raise Forbidden(_("您没有溯源整改的权限"), code=CorrectiveErrorCode.NOT_ALLOWED)
    Complaint.objects.select_for_update().filter(pk=complaint.pk).values_list("pk", flat=True).first()
    complaint.refresh_from_db()
    return complaint


def _text(value: Any) -> str:
    # NUL cannot be stored in a PostgreSQL text column: it is dropped like surrounding blanks.
    return str(value or "").replace("\x00", "").strip()


@transaction.atomic
def complaint_root_cause_set(*, actor, complaint_id: Any, root_cause: str, note: str = "") -> Complaint:
    """Tag the complaint's root cause (a note is required for 其他)."""
    complaint = _complaint_locked(actor=actor, complaint_id=complaint_id)
    root_cause, note = _text(root_cause), _text(note)
    errors: dict[str, list[str]] = {}
    if root_cause not in RootCause.values:
        errors["root_cause"] = [_("请选择根本原因")]
    if len(note) > NOTE_MAX:
        errors["note"] = [_("原因说明最多 %(n)d 个字") % {"n": NOTE_MAX}]
    elif root_cause == RootCause.OTHER and not note:
        errors["note"] = [_("根本原因为“其他”时须填写原因说明")]
    if errors:
        raise ValidationFailed("", field_errors=errors, code=CorrectiveErrorCode.INVALID)
    before = {"root_cause": complaint.root_cause, "note": complaint.root_cause_note}
    complaint.root_cause = root_cause
    complaint.root_cause_note = note
    complaint.save(update_fields=["root_cause", "root_cause_note", "updated_at"])
    audit_event_record(
        actor=actor,
        action="complaint.root_cause_set",
        obj=complaint,
        org_unit=complaint.org_unit,
        data={"before": before, "root_cause": root_cause, "note": note},
    )
    return complaint


def _due_date(raw: Any, errors: dict[str, list[str]]) -> dt.date | None:
    if isinstance(raw, dt.date):
        value = raw
    else:
        try:
            value = dt.date.fromisoformat(_text(raw))
        except ValueError:
            errors["due_date"] = [_("日期格式应为 YYYY-MM-DD")]
            return None
    if value < timezone.localdate():
        errors["due_date"] = [_("整改期限不能早于今天")]
    return value


def _owner(actor, raw: Any, errors: dict[str, list[str]]) -> OrgUnit | None:
    text = str(raw or "").strip()
    unit = OrgUnit.objects.filter(pk=int(text)).first() if text.isascii() and text.isdigit() and len(text) <= 18 else None
    if unit is None or not user_can_see_org_unit(actor, unit):
        errors["owner_org_unit"] = [_("请选择您管辖范围内的整改责任机构")]
        return None
    return unit


@transaction.atomic
def corrective_action_create(
    *,
    actor,
    complaint_id: Any,
    owner_org_unit_id: Any,
    due_date: Any,
    description: str,
    root_cause: str = "",
) -> CorrectiveAction:
    """Open a corrective action for the complaint's root cause (or the one given)."""
    complaint = _complaint_locked(actor=actor, complaint_id=complaint_id)
    errors: dict[str, list[str]] = {}
    description = _text(description)
    if not description:
        errors["description"] = [_("请填写整改措施")]
    elif len(description) > NOTE_MAX:
        errors["description"] = [_("整改措施最多 %(n)d 个字") % {"n": NOTE_MAX}]
    cause = _text(root_cause) or complaint.root_cause
    if cause not in RootCause.values:
        errors["root_cause"] = [_("请先认定根本原因")]
    owner = _owner(actor, owner_org_unit_id, errors)
    due = _due_date(due_date, errors)
    if errors:
        raise ValidationFailed("", field_errors=errors, code=CorrectiveErrorCode.INVALID)
    action = CorrectiveAction.objects.create(
        complaint=complaint,
        root_cause=cause,
        description=description,
        owner_org_unit=owner,
        due_date=due,
        created_by=actor,
    )
    audit_event_record(
        actor=actor,
        action="complaint.corrective_action_created",
        obj=complaint,
        org_unit=complaint.org_unit,
        data={
            "action": action.pk,
            "root_cause": cause,
            "owner_org_unit": owner.code,
            "due_date": due.isoformat(),
            "description": description,
        },
    )
    return action


def corrective_actions_of(*, user, complaint_id: Any) -> list[CorrectiveAction]:
    complaint = complaint_get(user=user, complaint_id=complaint_id)
    return list(complaint.corrective_actions.select_related("owner_org_unit", "created_by", "closed_by"))


def corrective_owner_units(*, user) -> QuerySet[OrgUnit]:
    """Org units the user may name as an action's owner: their subtrees."""
    paths = user_scope_paths(user)
    if not paths:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(reduce(or_, (Q(path__startswith=p) for p in paths)))


def corrective_action_get(*, user, action_id: Any) -> CorrectiveAction:
    """An action of a complaint the user sees (404 otherwise)."""
    text = str(action_id)
    pk = int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
    action = (
        CorrectiveAction.objects.filter(pk=pk, complaint__in=complaints_visible(user=user).values("pk"))
        .select_related("owner_org_unit", "complaint")
        .first()
        if pk is not None
        else None
    )
    if action is None:
        raise NotFound(_("整改措施不存在"), code=CorrectiveErrorCode.ACTION_NOT_FOUND)
    return action


@transaction.atomic
def corrective_action_close(*, actor, action_id: Any, note: str) -> CorrectiveAction:
    """Close an open action with a note on what was done."""
    found = corrective_action_get(user=actor, action_id=action_id)
    complaint = _complaint_locked(actor=actor, complaint_id=found.complaint_id)
    action = CorrectiveAction.objects.select_for_update().get(pk=found.pk)
    note = _text(note)
    if not note:
        raise ValidationFailed.field("note", _("请填写整改完成情况"), code=CorrectiveErrorCode.INVALID)
    if len(note) > NOTE_MAX:
        raise ValidationFailed.field(
            "note", _("整改完成情况最多 %(n)d 个字") % {"n": NOTE_MAX}, code=CorrectiveErrorCode.INVALID
        )
    if action.status != ActionStatus.OPEN:
        raise Conflict(_("该整改措施已关闭"), code=CorrectiveErrorCode.ALREADY_CLOSED)
    action.status = ActionStatus.CLOSED
    action.closed_by = actor
    action.closed_at = timezone.now()
    action.closing_note = note
    action.save(update_fields=["status", "closed_by", "closed_at", "closing_note"])
    audit_event_record(
        actor=actor,
        action="complaint.corrective_action_closed",
        obj=complaint,
        org_unit=complaint.org_unit,
        data={"action": action.pk, "note": note, "overdue": action.due_date < timezone.localdate()},
    )
    return action

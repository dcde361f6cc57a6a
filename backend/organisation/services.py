from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from backend.accounts.services import user_password_set
from backend.common.audit import audit_event_record
from backend.organisation.models import OrgUnit, RoleAssignment


@transaction.atomic
def org_unit_create(*, code: str, name: str, level: str, parent: OrgUnit | None = None) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, level=level, parent=parent)
    unit.path = (parent.path if parent else "") + code + "/"
    unit.save()
    return unit


@transaction.atomic
def org_unit_ensure(*, code: str, name: str, level: str, parent: OrgUnit | None = None) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        return org_unit_create(code=code, name=name, level=level, parent=parent)
    unit.name, unit.level, unit.parent = name, level, parent
    unit.path = (parent.path if parent else "") + code + "/"
    unit.save(update_fields=["name", "level", "parent", "path"])
    return unit


def _role_event(*, actor, action: str, assignment: RoleAssignment) -> None:
    # One stream per user: the history of what that user was allowed to do, and who allowed it.
    audit_event_record(
        actor=actor,
        action=action,
        obj=assignment.user,
        org_unit=assignment.org_unit,
        data={"user": assignment.user.get_username(), "role": assignment.role, "org_unit": assignment.org_unit.code},
    )


@transaction.atomic
def role_assign(*, user, role: str, org_unit: OrgUnit, actor=None) -> RoleAssignment:
    """Grant `role` at `org_unit` (idempotent); a new grant is audited (`role.granted`).
    `actor` is who granted it (None: the system, e.g. seeding or an API client's creation)."""
    assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, org_unit=org_unit)
    if created:
        _role_event(actor=actor, action="role.granted", assignment=assignment)
    return assignment


@transaction.atomic
def role_revoke(
    *, actor=None, assignment_id: int | None = None, user=None, role: str | None = None, org_unit: OrgUnit | None = None
) -> RoleAssignment | None:
    """Take a grant away (`role.revoked`), named by its id or by (user, role, org unit); None
    when it does not exist (nothing is written then)."""
    found = RoleAssignment.objects.select_for_update().select_related("user", "org_unit")
    if assignment_id is not None:
        found = found.filter(pk=assignment_id)
    else:
        found = found.filter(user=user, role=role, org_unit=org_unit)
    assignment = found.first()
    if assignment is None:
        return None
    _role_event(actor=actor, action="role.revoked", assignment=assignment)
    assignment.delete()
    return assignment


@transaction.atomic
def user_ensure(*, username: str, password: str, full_name: str = "", is_superuser: bool = False, email: str = ""):
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username)
    user.first_name = full_name
    if email:
        user.email = email
    user.is_superuser = is_superuser
    user.is_staff = is_superuser
    user.is_active = True
    user.save()
    if not user.check_password(password):
        # Validated like every password; a changed one kills the user's tokens and sessions.
        user_password_set(actor=None, user=user, password=password)
    return user

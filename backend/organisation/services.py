from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from backend.accounts.services import user_password_set
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


@transaction.atomic
def role_assign(*, user, role: str, org_unit: OrgUnit) -> RoleAssignment:
    assignment, _ = RoleAssignment.objects.get_or_create(user=user, role=role, org_unit=org_unit)
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

"""Who may see what: level-scoped access over the org tree (docs/SECURITY.md, threat model)."""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from backend.common.exceptions import NotFound
from backend.organisation.models import OrgUnit, RoleAssignment


def user_role_assignments(user) -> list[RoleAssignment]:
    cache = getattr(user, "_custflow_roles", None)
    if cache is None:
        cache = list(RoleAssignment.objects.filter(user=user).select_related("org_unit"))
        user._custflow_roles = cache
    return cache


def user_has_role(user, role: str, org_unit: OrgUnit | None = None) -> bool:
    for ra in user_role_assignments(user):
        if ra.role == role and (org_unit is None or ra.org_unit_id == org_unit.pk):
            return True
    return False


def user_roles(user) -> set[str]:
    return {ra.role for ra in user_role_assignments(user)}


def user_scope_paths(user) -> list[str]:
    """The org subtrees a user may see; a superuser sees everything ("")."""
    if getattr(user, "is_superuser", False):
        return [""]
    paths = sorted({ra.org_unit.path for ra in user_role_assignments(user)})
    # Drop paths already covered by an ancestor path.
    return [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]


def scope_q(user, field: str = "org_unit") -> Q:
    paths = user_scope_paths(user)
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__path__startswith": p}) for p in paths))


def scope_filter(qs: QuerySet, user, field: str = "org_unit") -> QuerySet:
    return qs.filter(scope_q(user, field))


def user_can_see_org_unit(user, org_unit: OrgUnit) -> bool:
    return any(org_unit.path.startswith(p) for p in user_scope_paths(user))


def user_home_org_unit(user) -> OrgUnit | None:
    """The most specific org unit the user works at (deepest role assignment)."""
    assignments = user_role_assignments(user)
    if not assignments:
        return None
    return max(assignments, key=lambda ra: ra.org_unit.path.count("/")).org_unit


def user_org_unit_for_role(user, role: str) -> OrgUnit | None:
    units = [ra.org_unit for ra in user_role_assignments(user) if ra.role == role]
    return max(units, key=lambda u: u.path.count("/")) if units else None


# ---- who reads a case (the service desk's and the segments' cases) ------------------------------


def cases_readable(qs: QuerySet, *, user, roles, own: Q) -> QuerySet:
    """The cases `user` may read: his own (`own`), and every case of the org subtrees where he
    holds one of `roles` (superusers: all). One rule for every service-desk case."""
    if user.is_superuser:
        return qs
    visible = own
    for path in {ra.org_unit.path for ra in user_role_assignments(user) if ra.role in roles}:
        visible |= Q(org_unit__path__startswith=path)
    return qs.filter(visible)


def case_get_or_404(qs: QuerySet, pk: Any, message: str, code: str):
    """The readable case with this id, or the 404 a missing one gets (junk ids included)."""
    try:
        case = qs.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        case = None
    if case is None:
        raise NotFound(message, code=code)
    return case

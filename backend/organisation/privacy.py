"""The one privacy policy: per personal field, per user and per case, whether a value is shown
in full, masked, or hidden.

Every screen, API response, export and printed form that carries personal data asks here; no
view, serializer or template decides by itself. The rules (docs/ARCHITECTURE.md, "Access"):

- A personal field is one in `FIELDS`; every other field is shown as is.
- Whose data it is picks the roles that see it in full (`SUBJECTS`): a customer's data is seen in
  full by the customer-information officer (`CUSTFLOW['FULL_VIEW_ROLES']`), a complainant's by
  the complaint handler and the customer-service department. The role must be held at the case's
  unit or above (seed 001 §一: graded access follows the org tree).
- Lists and exports always mask (`purpose="list"`): a full value is read one case at a time, and
  each full view is audited by the caller.
- A user whose roles reach nowhere near the case's unit sees the field hidden (an empty value).
- How much of a masked value stays visible is a setting (`CUSTFLOW['MASKING']`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from backend.common.masking import mask
from backend.organisation.selectors import user_role_assignments

SHOWN, MASKED, HIDDEN = "shown", "masked", "hidden"

# The field registry: personal field -> its masking rule (a key of CUSTFLOW['MASKING']).
FIELDS: dict[str, str] = {
    "id_number": "id_number",
    "phone": "phone",
    "address": "address",
    "email": "email",
    "legal_rep_id_number": "id_number",
    # The file's static part (seed 002): where the customer works, their family, their income.
    "employer": "employer",
    "family_members": "family_members",
    "income_band": "income_band",
    "complainant_phone": "phone",
    "complainant_id_number": "id_number",
}
# A customer's own personal fields (what the reveal action may uncover, what a change masks).
# income_band is personal but not here: a choice, shown by its label (customer_view masks it).
CUSTOMER_FIELDS: tuple[str, ...] = (
    "id_number", "phone", "address", "email", "legal_rep_id_number", "employer", "family_members",
)

# Whose data: the roles that see it in full at the case's unit or above.
SUBJECTS: dict[str, tuple[str, ...] | None] = {
    "customer": None,  # None: CUSTFLOW['FULL_VIEW_ROLES'] (a setting)
    "complainant": ("complaint_handler", "customer_service"),
}


def is_personal(field: str) -> bool:
    return field in FIELDS


def full_view_roles(subject: str = "customer") -> tuple[str, ...]:
    roles = SUBJECTS[subject]
    return tuple(settings.CUSTFLOW["FULL_VIEW_ROLES"]) if roles is None else roles


def sees_full(user, org_unit, *, subject: str = "customer", purpose: str = "view") -> bool:
    """Whether this user sees the subject's personal fields in full on one case at org_unit."""
    if purpose == "list" or user is None or org_unit is None:
        return False
    roles = set(full_view_roles(subject))
    return any(ra.role in roles and org_unit.path.startswith(ra.org_unit.path) for ra in user_role_assignments(user))


def visibility(user, field: str, *, org_unit, subject: str = "customer", purpose: str = "view") -> str:
    """SHOWN, MASKED or HIDDEN for this field of a case at org_unit, as this user reads it."""
    if not is_personal(field):
        return SHOWN
    if sees_full(user, org_unit, subject=subject, purpose=purpose):
        return SHOWN
    reach = [ra.org_unit.path for ra in user_role_assignments(user)] if user is not None else []
    if org_unit is not None and not getattr(user, "is_superuser", False):
        if not any(org_unit.path.startswith(p) or p.startswith(org_unit.path) for p in reach):
            return HIDDEN
    return MASKED


def masked(field: str, value: Any) -> str:
    """The value with the field's masking rule applied (always; for lists and notices)."""
    text = "" if value is None else str(value)
    rule_key = FIELDS.get(field, field)
    rule = settings.CUSTFLOW["MASKING"].get(rule_key)
    if rule is None or not text:
        return text
    if rule_key == "phone" and text.startswith("+86"):
        text = text[3:]  # mainland numbers read in national form: 138****5678
    return mask(text, *rule)


def present(field: str, value: Any, *, full: bool) -> Any:
    """The value as the viewer sees it, once sees_full() has been asked for the case."""
    if full or not is_personal(field):
        return value
    return masked(field, value)


def apply(state: str, field: str, value: Any) -> Any:
    """The value for a visibility() answer."""
    if state == SHOWN:
        return value
    if state == HIDDEN:
        return ""
    return masked(field, value)


class PrivateFieldsMixin:
    """DRF serializer mixin: the personal fields of the representation pass through the policy.

    The serializer's context carries `request` (its user) and, for one case, `org_unit` and
    `subject` (default "customer"); without `org_unit` the representation is a list row and masks.
    """

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        org_unit = self.context.get("org_unit")
        subject = self.context.get("subject", "customer")
        purpose = "view" if org_unit is not None else "list"
        full = sees_full(user, org_unit, subject=subject, purpose=purpose)
        for name in list(data):
            if is_personal(name) and data[name]:
                data[name] = present(name, data[name], full=full)
        return data

"""What reviewers and requesters see of a change request or a blacklist change (reads only)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from backend.common.exceptions import NotFound
from backend.customers.amendments import amendment_is_stale
from backend.customers.blacklist import blacklist_change_get
from backend.customers.models import FIELD_LABELS, CustomerAmendment, IdDocumentRenewal, IdType
from backend.customers.notices import notices_view
from backend.customers.selectors import customer_view
from backend.customers.validators import LONG_TERM
from backend.organisation import privacy
from backend.organisation.selectors import scope_filter

ID_TYPE_FIELDS = {"id_type", "legal_rep_id_type"}


def _shown(name: str, value: str, full: bool) -> str:
    if name == "id_valid_until" and value == LONG_TERM:
        return _("长期")
    if name in ID_TYPE_FIELDS and value in IdType.values:
        return str(IdType(value).label)
    return privacy.present(name, value, full=full)


def changes_view(changes: dict[str, dict[str, str]], *, full: bool) -> list[dict[str, str]]:
    return [
        {
            "field": name,
            "label": str(FIELD_LABELS.get(name, name)),
            "old": _shown(name, change.get("old", ""), full),
            "new": _shown(name, change.get("new", ""), full),
        }
        for name, change in changes.items()
    ]


def amendment_get_visible(*, user, amendment_id: Any) -> CustomerAmendment:
    try:
        pk = int(amendment_id)
    except (TypeError, ValueError):
        raise NotFound(_("修改申请不存在"), code="amendment_not_found") from None
    qs = scope_filter(CustomerAmendment.objects.select_related("customer", "customer__org_unit", "org_unit", "requested_by", "decided_by"), user)
    amendment = qs.filter(pk=pk).first()
    if amendment is None:
        raise NotFound(_("修改申请不存在"), code="amendment_not_found")
    return amendment


def amendment_view(*, user, amendment: CustomerAmendment, with_customer: bool = True) -> dict[str, Any]:
    full = privacy.sees_full(user, amendment.customer.org_unit)
    data = {
        "id": amendment.pk,
        "customer_id": amendment.customer_id,
        "status": amendment.status,
        "status_label": amendment.get_status_display(),
        "scope": amendment.scope,
        "scope_label": amendment.get_scope_display(),
        "review_level": "province" if amendment.scope == "identity" or "blacklist_hit" in (amendment.flags or []) else "city",
        "reason": amendment.reason,
        "changes": changes_view(amendment.changes, full=full),
        "flags": amendment.flags,
        "blacklist_hits": (amendment.checks or {}).get("blacklist", []),
        "notices": notices_view(case_type="customers.customeramendment", case_id=amendment.pk),
        "base_version": amendment.base_version,
        "stale": amendment.status == "pending" and amendment_is_stale(amendment),
        "requested_by": amendment.requested_by.username,
        "decided_by": amendment.decided_by.username if amendment.decided_by_id else None,
        "decision_comment": amendment.decision_comment,
        "process_instance_id": amendment.process_instance_id,
        "created_at": amendment.created_at.isoformat(),
        "closed_at": amendment.closed_at.isoformat() if amendment.closed_at else None,
    }
    if with_customer:
        data["customer"] = customer_view(user=user, customer=amendment.customer, purpose="review")
    return data


def amendment_case_view(*, user, amendment_id: Any) -> dict[str, Any]:
    return amendment_view(user=user, amendment=amendment_get_visible(user=user, amendment_id=amendment_id))


def customer_amendments(*, user, customer) -> list[CustomerAmendment]:
    return list(scope_filter(CustomerAmendment.objects.filter(customer=customer).select_related("requested_by", "decided_by", "customer", "org_unit"), user).order_by("-id"))


def blacklist_change_view(*, user, change) -> dict[str, Any]:
    entry = change.entry
    return {
        "id": change.pk,
        "action": change.action,
        "action_label": change.get_action_display(),
        "status": change.status,
        "status_label": change.get_status_display(),
        "reason": change.reason,
        "requested_by": change.requested_by.username,
        "decided_by": change.decided_by.username if change.decided_by_id else None,
        "decision_comment": change.decision_comment,
        "process_instance_id": change.process_instance_id,
        "entry": blacklist_entry_view(entry),
    }


def blacklist_entry_view(entry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "id_type": entry.id_type,
        "id_type_label": entry.get_id_type_display(),
        "id_number": privacy.masked("id_number", entry.id_number),
        "name": entry.name,
        "reason": entry.reason,
        "source": entry.source,
        "status": entry.status,
        "status_label": entry.get_status_display(),
        "org_unit": entry.org_unit.code,
        "created_at": entry.created_at.isoformat(),
    }


def blacklist_case_view(*, user, change_id: Any) -> dict[str, Any]:
    return blacklist_change_view(user=user, change=blacklist_change_get(user=user, change_id=change_id))


def id_renewal_case_view(*, user, case_id: Any) -> dict[str, Any]:
    """证件到期更新: the customer (masked as for any view) and the document's last day."""
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        raise NotFound(_("业务不存在"), code="case_not_found") from None
    renewal = scope_filter(IdDocumentRenewal.objects.select_related("customer", "customer__org_unit", "org_unit"), user).filter(pk=pk).first()
    if renewal is None:
        raise NotFound(_("业务不存在"), code="case_not_found")
    return {
        "renewal_id": renewal.pk,
        "period": renewal.period,
        "valid_until": renewal.valid_until.isoformat(),
        "expired": renewal.expired,
        "outcome": renewal.get_outcome_display() if renewal.outcome else "",
        "customer": customer_view(user=user, customer=renewal.customer, purpose="renewal"),
    }

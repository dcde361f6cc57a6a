"""客户业务关联查询: everything the back office knows around one customer, on one page.

Status with its history (from the audit trail), completeness, freshness, field history,
open and past cases, other customers sharing the phone, and the policy and complaint
sections (empty until those apps fill them). Personal values follow the masking rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.common.audit import audit_event_record
from backend.common.models import AuditEvent
from backend.customers.amendments import AMENDMENT_CASE
from backend.customers.checks import shared_phone
from backend.customers.models import (
    AccountOpening,
    AmendmentStatus,
    Customer,
    CustomerAmendment,
    CustomerFieldChange,
    CustomerStatus,
    CustomerType,
)
from backend.customers.selectors import customer_view, customers_sharing_phone
from backend.organisation import privacy
from tasks.models import HumanTask, TaskStatus

OPENING_CASE = "customers.accountopening"

# Audit actions on a customer that move its status, and the status they lead to.
STATUS_EVENTS: dict[str, tuple[str, Any]] = {
    "account_opening.submitted": (CustomerStatus.PENDING_REVIEW, _("提交开户申请")),
    "customer.resubmitted": (CustomerStatus.PENDING_REVIEW, _("修改后重新提交")),
    "customer.activated": (CustomerStatus.ACTIVE, _("开户生效")),
    "customer.rejected": (CustomerStatus.REJECTED, _("拒绝开户")),
    "customer.returned": (CustomerStatus.RETURNED, _("退回修改")),
    "customer.frozen": (CustomerStatus.FROZEN, _("冻结")),
    "customer.unfrozen": (CustomerStatus.ACTIVE, _("解除冻结")),
}

# Completeness: the fields each information level asks for.
PRIMARY_FIELDS = ("name", "id_type", "id_number")
ADVANCED_FIELDS = {
    CustomerType.INDIVIDUAL: ("phone", "address", "email"),
    CustomerType.CORPORATE: ("legal_rep_name", "legal_rep_id_number", "address", "contact_person", "phone"),
}

POLICY_ROLES = ("holder", "insured", "beneficiary")

# Sections other apps contribute to the customer page (policies, later complaints): the policy
# app depends on customers, not the other way round, so it registers its selector here.
_POLICY_PROVIDERS: list = []


def linkage_policies_register(fn) -> None:
    """fn(*, user, customer) -> {"holder": [...], "insured": [...], "beneficiary": [...]}."""
    if fn not in _POLICY_PROVIDERS:
        _POLICY_PROVIDERS.append(fn)


_COMPLAINT_PROVIDERS: list = []


def linkage_complaints_register(fn) -> None:
    """fn(*, user, customer) -> [{"id", "number", "subject", "status", "status_label", "received_at"}]."""
    if fn not in _COMPLAINT_PROVIDERS:
        _COMPLAINT_PROVIDERS.append(fn)


def customer_complaint_rows(*, user, customer: Customer) -> list[dict[str, Any]]:
    """The customer's complaints this user may see (from the complaints app's provider)."""
    return [row for provider in _COMPLAINT_PROVIDERS for row in provider(user=user, customer=customer)]


def _policies_by_role(*, user, customer: Customer) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {role: [] for role in POLICY_ROLES}
    for provider in _POLICY_PROVIDERS:
        for role, rows in provider(user=user, customer=customer).items():
            out.setdefault(role, []).extend(rows)
    return out


def field_label(name: str) -> str:
    try:
        return str(Customer._meta.get_field(name).verbose_name)
    except Exception:  # a field no longer on the model (old history rows)
        return name


def _user_display(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


# ---- status ------------------------------------------------------------------------------------


def customer_status_history(*, customer: Customer) -> list[dict[str, Any]]:
    events = (
        AuditEvent.objects.filter(
            object_type="customers.customer", object_id=str(customer.pk), action__in=list(STATUS_EVENTS)
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )
    rows = []
    for e in events:
        status, label = STATUS_EVENTS[e.action]
        rows.append(
            {
                "at": _iso(e.created_at),
                "action": e.action,
                "action_label": str(label),
                "status": str(status),
                "status_label": str(CustomerStatus(status).label),
                "actor": _user_display(e.actor) or str(_("系统")),
                "comment": str(e.data.get("comment") or e.data.get("reason") or ""),
            }
        )
    return rows


# ---- completeness and freshness ------------------------------------------------------------------


def customer_completeness(*, customer: Customer) -> dict[str, Any]:
    fields = [(name, "primary") for name in PRIMARY_FIELDS] + [
        (name, "advanced") for name in ADVANCED_FIELDS[CustomerType(customer.customer_type)]
    ]
    rows = [
        {
            "field": name,
            "label": field_label(name),
            "level": level,
            "filled": bool(str(getattr(customer, name) or "").strip()),
        }
        for name, level in fields
    ]
    filled = sum(1 for r in rows if r["filled"])
    return {
        "fields": rows,
        "filled": filled,
        "total": len(rows),
        "percent": round(100 * filled / len(rows)),
        "missing": [r["label"] for r in rows if not r["filled"]],
    }


def customer_freshness(*, customer: Customer, now=None) -> dict[str, Any]:
    """When the data was last confirmed (an approved amendment, else the opening), and whether
    that is older than CUSTFLOW["FRESHNESS_DAYS"]."""
    days = int(settings.CUSTFLOW["FRESHNESS_DAYS"])
    verified = customer.last_verified_at or customer.activated_at
    # Opening sets last_verified_at = activated_at: that is still "verified at opening".
    later = customer.last_verified_at and customer.last_verified_at != customer.activated_at
    source = "last_verified" if later else ("activated" if customer.activated_at else "")
    now = now or timezone.now()
    return {
        "verified_at": _iso(verified),
        "source": source,
        "age_days": (now - verified).days if verified else None,
        "freshness_days": days,
        "stale": bool(verified and now - verified > timedelta(days=days)),
    }


# ---- field history -------------------------------------------------------------------------------


def customer_field_history(*, customer: Customer) -> QuerySet[CustomerFieldChange]:
    return (
        CustomerFieldChange.objects.filter(customer=customer)
        .select_related("changed_by", "approved_by")
        .order_by("-changed_at", "-id")
    )


def field_history_rows(
    *, user, customer: Customer, changes: Iterable[CustomerFieldChange], audit: bool = True
) -> list[dict[str, Any]]:
    """History rows as this user may see them: personal values masked unless the user sees
    full values, in which case (with `audit`) the full view is audited."""
    full = privacy.sees_full(user, customer.org_unit)
    rows = []
    for c in changes:
        personal = privacy.is_personal(c.field)
        rows.append(
            {
                "id": c.pk,
                "field": c.field,
                "field_label": field_label(c.field),
                "old_value": privacy.present(c.field, c.old_value, full=full),
                "new_value": privacy.present(c.field, c.new_value, full=full),
                "masked": personal and not full,
                "changed_by": c.changed_by.username,
                "changed_by_name": _user_display(c.changed_by),
                "approved_by": c.approved_by.username if c.approved_by_id else None,
                "approved_by_name": _user_display(c.approved_by) if c.approved_by_id else None,
                "changed_at": _iso(c.changed_at),
                "reason": c.reason,
                "case_type": c.case_type,
                "case_id": c.case_id,
            }
        )
    if audit and full and any(privacy.is_personal(r["field"]) for r in rows):
        audit_event_record(
            actor=user,
            action="customer.viewed_full",
            obj=customer,
            org_unit=customer.org_unit,
            data={"purpose": "history"},
        )
    return rows


# ---- cases ---------------------------------------------------------------------------------------


def _open_tasks(case_type: str, case_ids: list[int]) -> dict[int, int]:
    if not case_ids:
        return {}
    tasks = HumanTask.objects.filter(case_type=case_type, case_id__in=case_ids, status=TaskStatus.READY)
    return {case_id: task_id for case_id, task_id in tasks.order_by("id").values_list("case_id", "id")}


def customer_cases(*, customer: Customer) -> dict[str, list[dict[str, Any]]]:
    openings = list(
        AccountOpening.objects.filter(customer=customer).select_related("submitted_by").order_by("-id")
    )
    amendments = list(
        CustomerAmendment.objects.filter(customer=customer).select_related("requested_by").order_by("-id")
    )
    opening_tasks = _open_tasks(OPENING_CASE, [o.pk for o in openings])
    amendment_tasks = _open_tasks(AMENDMENT_CASE, [a.pk for a in amendments])
    rows = [
        {
            "case_type": OPENING_CASE,
            "case_label": str(AccountOpening._meta.verbose_name),
            "id": o.pk,
            "open": o.closed_at is None,
            "status_label": str(_("办理中")) if o.closed_at is None else str(_("已办结")),
            "created_at": _iso(o.created_at),
            "closed_at": _iso(o.closed_at),
            "by": _user_display(o.submitted_by),
            "open_task_id": opening_tasks.get(o.pk),
        }
        for o in openings
    ] + [
        {
            "case_type": AMENDMENT_CASE,
            "case_label": str(CustomerAmendment._meta.verbose_name),
            "id": a.pk,
            "open": a.status == AmendmentStatus.PENDING,
            "status_label": a.get_status_display(),
            "created_at": _iso(a.created_at),
            "closed_at": _iso(a.closed_at),
            "by": _user_display(a.requested_by),
            "open_task_id": amendment_tasks.get(a.pk),
        }
        for a in amendments
    ]
    rows.sort(key=lambda r: r["created_at"] or "", reverse=True)
    return {"open": [r for r in rows if r["open"]], "past": [r for r in rows if not r["open"]]}


# ---- the whole page --------------------------------------------------------------------------------


def customer_linkage(*, user, customer: Customer) -> dict[str, Any]:
    """The customer page and GET /api/customers/<id>/linkage/: one selector for both."""
    shared = shared_phone(customer.phone, exclude_id=customer.pk)
    view = customer_view(user=user, customer=customer)  # audits a full view once
    return {
        "customer": view,
        "status": {
            "status": customer.status,
            "status_label": customer.get_status_display(),
            "history": customer_status_history(customer=customer),
        },
        "completeness": customer_completeness(customer=customer),
        "freshness": customer_freshness(customer=customer),
        "field_history": field_history_rows(
            user=user, customer=customer, changes=customer_field_history(customer=customer), audit=False
        ),
        "cases": customer_cases(customer=customer),
        "shared_phone": {
            **customers_sharing_phone(user=user, customer_ids=shared["customer_ids"]),
            "agent_count": len(shared["agent_codes"]),
        },
        "policies_by_role": _policies_by_role(user=user, customer=customer),
        "complaints": customer_complaint_rows(user=user, customer=customer),
    }

"""Reading segments, alerts and thresholds, for the API and the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from backend.common.cases import case_decision_fields
from backend.common.exceptions import Forbidden, NotFound
from backend.organisation import privacy
from backend.organisation.models import OrgUnit, Role
from backend.organisation.selectors import case_get_or_404, cases_readable, scope_q, user_role_assignments
from backend.segments.models import ChangeStatus, CustomerSegment, SegmentThresholds, ThresholdChange
from backend.segments.rules import ALERT_LABELS, SEGMENT_LABELS, THRESHOLDS
from backend.segments.services import thresholds_effective, user_may_propose_thresholds


def _labelled(items: list[dict], labels: dict) -> list[dict]:
    return [{"code": i["code"], "label": str(labels.get(i["code"], i["code"])), "reasons": list(i.get("reasons") or [])} for i in items]


def customer_segment_view(customer) -> dict[str, Any] | None:
    """`segment` on the customer's detail: None until the rules have judged him."""
    row = CustomerSegment.objects.filter(customer_id=customer.pk).first()
    if row is None:
        return None
    return {
        "segments": _labelled(row.segments, SEGMENT_LABELS),
        "alerts": _labelled(row.alerts, ALERT_LABELS),
        "thresholds_version": row.thresholds_version,
        "computed_at": row.computed_at.isoformat(),
    }


# Who reads a branch's thresholds and their changes: everyone with a role at the branch, above it
# or below it (the rules judge their customers); the proposers and approvers act on them.
def _unit_visible(user, unit: OrgUnit) -> bool:
    return user.is_superuser or any(
        unit.path.startswith(ra.org_unit.path) or ra.org_unit.path.startswith(unit.path) for ra in user_role_assignments(user)
    )


def thresholds_unit_get(*, user, code: Any) -> OrgUnit:
    """The unit named by `code` (default: the user's first unit) if the user may read it: 404 otherwise."""
    text = code.strip() if isinstance(code, str) else ""
    if not text:
        assignments = user_role_assignments(user)
        if assignments:
            return assignments[0].org_unit
        unit = OrgUnit.objects.order_by("path").first() if user.is_superuser else None
    else:
        unit = OrgUnit.objects.filter(code=text[:32]).first()
    if unit is None or not _unit_visible(user, unit):
        raise NotFound(_("机构不存在"), code="org_unit_not_found")
    return unit


def thresholds_view(*, user, unit: OrgUnit) -> dict[str, Any]:
    values, row = thresholds_effective(unit)
    history = SegmentThresholds.objects.filter(org_unit=unit).select_related("approved_by", "change").order_by("-version")[:20]
    pending = ThresholdChange.objects.filter(org_unit=unit, status=ChangeStatus.PENDING).first()
    return {
        "org_unit": unit.code,
        "org_unit_name": unit.name,
        "version": row.version if row and row.org_unit_id == unit.pk else 0,
        "inherited_from": row.org_unit.code if row and row.org_unit_id != unit.pk else None,
        "values": values,
        "fields": [
            {
                "name": t.name,
                "label": str(t.label),
                "unit": str(t.unit),
                "min": str(t.minimum),
                "max": str(t.maximum),
                "default": str(t.default),
                "value": values[t.name],
            }
            for t in THRESHOLDS
        ],
        "history": [
            {
                "version": h.version,
                "values": h.values,
                "effective_from": h.effective_from.isoformat(),
                "approved_by": h.approved_by.username if h.approved_by_id else None,
                "change_id": h.change_id,
                "reason": h.change.reason if h.change_id else "",
            }
            for h in history
        ],
        "pending_change_id": pending.pk if pending else None,
        "may_propose": user_may_propose_thresholds(user, unit),
    }


READER_ROLES = frozenset({Role.OFFICER, Role.CUSTOMER_SERVICE, Role.UNIT_HEAD, Role.COMPLIANCE})


def threshold_changes_visible(*, user) -> QuerySet[ThresholdChange]:
    qs = ThresholdChange.objects.select_related("org_unit", "requested_by", "decided_by")
    return cases_readable(qs, user=user, roles=READER_ROLES, own=Q(requested_by=user))


def threshold_change_get(*, user, change_id: Any) -> ThresholdChange:
    return case_get_or_404(threshold_changes_visible(user=user), change_id, _("阈值调整不存在"), "threshold_change_not_found")


def threshold_change_view(case: ThresholdChange) -> dict[str, Any]:
    return {
        "id": case.pk,
        "org_unit": case.org_unit.code,
        "values": case.values,
        "base_version": case.base_version,
        "reason": case.reason,
        "requested_by": case.requested_by.username,
        **case_decision_fields(case),
    }


def threshold_change_case_view(*, user, case_id: Any) -> dict[str, Any]:
    """The task page's case: each threshold with its current and proposed value."""
    case = threshold_change_get(user=user, change_id=case_id)
    data = threshold_change_view(case)
    current, _row = thresholds_effective(case.org_unit)
    data["title"] = _("分群阈值调整 #%(id)s（%(unit)s）") % {"id": case.pk, "unit": case.org_unit.name}
    rows = [{"label": _("机构"), "value": case.org_unit.name}]
    for t in THRESHOLDS:
        old, new = current.get(t.name), case.values.get(t.name)
        text = t.text(new) if old == new else _("%(old)s → %(new)s") % {"old": t.text(old), "new": t.text(new)}
        rows.append({"label": str(t.label), "value": text})
    rows += [
        {"label": _("理由"), "value": case.reason},
        {"label": _("申请人"), "value": case.requested_by.get_full_name() or case.requested_by.username},
    ]
    data["rows"] = rows
    return data


def segments_page_check(user) -> None:
    """The 客户分群 page is for the branch's officers, customer service, heads and compliance."""
    if not user.is_superuser and not any(ra.role in READER_ROLES for ra in user_role_assignments(user)):
        raise Forbidden(_("只有客户信息管理岗、客服管理部、机构负责人和合规可以查看客户分群"), code="not_allowed")


SEGMENT_FILTERS = {"alerted": Q(alerted=True), "good": Q(good=True), "key": Q(key=True)}


def segment_counts(*, user, unit: OrgUnit) -> dict[str, int]:
    qs = CustomerSegment.objects.filter(org_unit__path__startswith=unit.path).filter(scope_q(user, "customer__org_unit"))
    return {name: qs.filter(q).count() for name, q in SEGMENT_FILTERS.items()}


def segment_customers(*, user, unit: OrgUnit, kind: str, limit: int = 50) -> list[dict[str, Any]]:
    """The judged customers of the unit's subtree (within the user's scope) of one kind: names
    masked as in every list; the customer page (scoped, audited) shows the rest."""
    qs = (
        CustomerSegment.objects.filter(org_unit__path__startswith=unit.path)
        .filter(scope_q(user, "customer__org_unit"))
        .filter(SEGMENT_FILTERS.get(kind, SEGMENT_FILTERS["alerted"]))
        .select_related("customer", "org_unit")
        .order_by("-computed_at", "customer_id")[:limit]
    )
    return [
        {
            "customer_id": row.customer_id,
            "name": privacy.masked("customer_name", row.customer.name),
            "org_unit": row.org_unit.name,
            "segments": _labelled(row.segments, SEGMENT_LABELS),
            "alerts": _labelled(row.alerts, ALERT_LABELS),
            "computed_at": row.computed_at,
        }
        for row in qs
    ]


def threshold_changes_of(*, user, unit: OrgUnit, limit: int = 10) -> list[dict[str, Any]]:
    return [threshold_change_view(c) for c in threshold_changes_visible(user=user).filter(org_unit=unit).order_by("-id")[:limit]]

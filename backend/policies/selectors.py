"""保单 and 批改: reads, scoped to the user's org subtrees (outside → 404), personal fields
masked unless the user's role allows the full value (each full view is audited)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.common.audit import audit_event_record
from backend.common.exceptions import NotFound
from backend.common.models import AuditEvent
from backend.customers.amendments import TYPED_FIELDS
from backend.customers.models import FIELD_LABELS, ChangeScope, Customer, IdType
from backend.customers.notices import notices_view
from backend.customers.selectors import OUTCOME_LABELS
from backend.organisation import privacy
from backend.organisation.selectors import scope_filter
from backend.policies.models import (
    BeneficiaryRelationship,
    Endorsement,
    PaymentMode,
    Policy,
    PolicyBeneficiary,
)

CHOICE_LABELS = {
    "id_type": dict(IdType.choices),
    "legal_rep_id_type": dict(IdType.choices),
    "gender": {"M": gettext_lazy("男"), "F": gettext_lazy("女")},
}
POLICY_FIELD_LABELS = {
    "payment_mode": gettext_lazy("缴费方式"),
    "sum_insured": gettext_lazy("保险金额"),
    "premium": gettext_lazy("保费"),
    "beneficiaries": gettext_lazy("受益人"),
}
PARTY_LABELS = {"policyholder": gettext_lazy("投保人"), "insured": gettext_lazy("被保险人")}


def _pk(raw: Any, message: str, code: str) -> int:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise NotFound(message, code=code) from None
    if not 0 < pk < 2**63:
        raise NotFound(message, code=code)
    return pk


def _masked(name: str, value: Any, full: bool) -> str:
    return privacy.present(name, "" if value is None else str(value), full=full)


def _audit_full_view(user, customers: list[Customer], purpose: str) -> None:
    for customer in customers:
        audit_event_record(
            actor=user,
            action="customer.viewed_full",
            obj=customer,
            org_unit=customer.org_unit,
            data={"purpose": purpose},
        )


# ---- policies --------------------------------------------------------------------------------


def policy_list(*, user, customer_id: Any = None) -> QuerySet[Policy]:
    qs = scope_filter(Policy.objects.select_related("org_unit", "policyholder", "insured"), user).order_by(
        "-id"
    )
    if customer_id not in (None, ""):
        try:
            cid = int(customer_id)
        except (TypeError, ValueError):
            return qs.none()
        if not 0 < cid < 2**63:
            return qs.none()
        qs = qs.filter(
            Q(policyholder_id=cid) | Q(insured_id=cid) | Q(beneficiaries__customer_id=cid)
        ).distinct()
    return qs


def policy_get_visible(*, user, policy_id: Any) -> Policy:
    pk = _pk(policy_id, _("保单不存在"), "policy_not_found")
    policy = (
        scope_filter(Policy.objects.select_related("org_unit", "policyholder", "insured"), user)
        .filter(pk=pk)
        .first()
    )
    if policy is None:
        raise NotFound(_("保单不存在"), code="policy_not_found")
    return policy


def _party(customer: Customer, full: bool) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "name": customer.name,
        "id_type": customer.id_type,
        "id_type_label": customer.get_id_type_display(),
        "id_number": _masked("id_number", customer.id_number, full),
        "phone": _masked("phone", customer.phone, full),
        "status": customer.status,
        "status_label": customer.get_status_display(),
    }


def _beneficiary_row(row: dict[str, Any], full: bool) -> dict[str, Any]:
    return {
        "customer_id": row.get("customer_id"),
        "name": row.get("name") or "",
        "id_type": row.get("id_type") or "",
        "id_type_label": dict(IdType.choices).get(row.get("id_type") or "", row.get("id_type") or ""),
        "id_number": _masked("id_number", row.get("id_number"), full),
        "relationship": row.get("relationship") or "",
        "relationship_label": dict(BeneficiaryRelationship.choices).get(row.get("relationship") or "", ""),
        "share": str(row.get("share") or ""),
    }


def _beneficiary_dict(b: PolicyBeneficiary) -> dict[str, Any]:
    return {
        "customer_id": b.customer_id,
        "name": b.name,
        "id_type": b.id_type,
        "id_number": b.id_number,
        "relationship": b.relationship,
        "share": str(b.share),
    }


def policy_view(*, user, policy: Policy, purpose: str = "view") -> dict[str, Any]:
    """A policy as this user may see it. Lists (`purpose="list"`) are always masked."""
    full = privacy.sees_full(user, policy.org_unit, purpose=purpose)
    data: dict[str, Any] = {
        "id": policy.pk,
        "policy_number": policy.policy_number,
        "product": policy.product,
        "status": policy.status,
        "status_label": policy.get_status_display(),
        "effective_date": policy.effective_date.isoformat(),
        "term_months": policy.term_months,
        "sum_insured": str(policy.sum_insured),
        "premium": str(policy.premium),
        "payment_mode": policy.payment_mode,
        "payment_mode_label": policy.get_payment_mode_display(),
        "org_unit": policy.org_unit.code,
        "org_unit_name": policy.org_unit.name,
        "version": policy.version,
        "created_at": policy.created_at.isoformat(),
        "policyholder": _party(policy.policyholder, full),
        "insured": _party(policy.insured, full),
        "masked": not full,
    }
    if purpose != "list":
        data["beneficiaries"] = [
            _beneficiary_row(_beneficiary_dict(b), full) for b in policy.beneficiaries.order_by("order", "id")
        ]
        if full:
            _audit_full_view(
                user, list({c.pk: c for c in (policy.policyholder, policy.insured)}.values()), purpose
            )
    return data


def customer_policies(*, user, customer: Customer) -> dict[str, list[dict[str, Any]]]:
    """The in-scope policies in which this customer is policyholder, insured or beneficiary."""

    def rows(qs: QuerySet[Policy]) -> list[dict[str, Any]]:
        return [
            {
                "id": p.pk,
                "policy_number": p.policy_number,
                "product": p.product,
                "status": p.status,
                "status_label": p.get_status_display(),
                "effective_date": p.effective_date.isoformat(),
            }
            for p in qs
        ]

    base = scope_filter(Policy.objects.all(), user).order_by("-effective_date", "-id")
    return {
        "holder": rows(base.filter(policyholder=customer)),
        "insured": rows(base.filter(insured=customer)),
        "beneficiary": rows(base.filter(beneficiaries__customer=customer).distinct()),
    }


# ---- endorsements ----------------------------------------------------------------------------


def endorsement_get_visible(*, user, endorsement_id: Any) -> Endorsement:
    pk = _pk(endorsement_id, _("批改申请不存在"), "endorsement_not_found")
    endorsement = (
        scope_filter(
            Endorsement.objects.select_related("policy", "org_unit", "requested_by", "decided_by"), user
        )
        .filter(pk=pk)
        .first()
    )
    if endorsement is None:
        raise NotFound(_("批改申请不存在"), code="endorsement_not_found")
    return endorsement


def endorsement_list_for_policy(*, user, policy: Policy) -> QuerySet[Endorsement]:
    return scope_filter(policy.endorsements.select_related("requested_by"), user).order_by("-id")


def _value_label(name: str, value: str) -> str:
    labels = CHOICE_LABELS.get(name)
    return str(labels.get(value, value)) if labels else value


def endorsement_diff(*, user, endorsement: Endorsement, purpose: str = "review") -> dict[str, Any]:
    """The endorsement's changes, old → new, as this user may see them: the customer parts
    (per party) and the policy part (fields, beneficiaries as whole lists)."""
    policy = endorsement.policy
    roles = {}
    if str(policy.insured_id) in endorsement.customer_changes:
        roles[str(policy.insured_id)] = "insured"
    if str(policy.policyholder_id) in endorsement.customer_changes:
        roles[str(policy.policyholder_id)] = "policyholder"
    customers = {
        str(c.pk): c
        for c in Customer.objects.select_related("org_unit").filter(
            pk__in=[int(k) for k in endorsement.customer_changes]
        )
    }
    seen_full = []
    parts = []
    for customer_id, diff in sorted(
        endorsement.customer_changes.items(), key=lambda kv: roles.get(kv[0]) != "policyholder"
    ):
        customer = customers[customer_id]
        full = privacy.sees_full(user, customer.org_unit)
        if full:
            seen_full.append(customer)
        role = roles.get(customer_id, "")
        parts.append(
            {
                "customer_id": customer.pk,
                "role": role,
                "role_label": str(PARTY_LABELS.get(role, "")),
                "name": customer.name,
                "masked": not full,
                "changes": [
                    {
                        "field": name,
                        "label": str(FIELD_LABELS.get(name, name)),
                        "old": _value_label(name, _masked(name, change["old"], full)),
                        "new": _value_label(name, _masked(name, change["new"], full)),
                    }
                    for name, change in diff.items()
                ],
            }
        )
    policy_full = privacy.sees_full(user, policy.org_unit)
    policy_rows = []
    beneficiaries = None
    for name, change in endorsement.policy_changes.items():
        if name == "beneficiaries":
            beneficiaries = {
                "old": [_beneficiary_row(r, policy_full) for r in change["old"]],
                "new": [_beneficiary_row(r, policy_full) for r in change["new"]],
            }
            continue
        old, new = change["old"], change["new"]
        if name == "payment_mode":
            old, new = (str(dict(PaymentMode.choices).get(v, v)) for v in (old, new))
        policy_rows.append({"field": name, "label": str(POLICY_FIELD_LABELS[name]), "old": old, "new": new})
    if seen_full:
        _audit_full_view(user, seen_full, purpose)
    return {"customers": parts, "policy": policy_rows, "beneficiaries": beneficiaries}


def endorsement_view(*, user, endorsement: Endorsement, purpose: str = "view") -> dict[str, Any]:
    policy = endorsement.policy
    return {
        "id": endorsement.pk,
        "status": endorsement.status,
        "status_label": endorsement.get_status_display(),
        "scope": endorsement.scope,
        "scope_label": str(ChangeScope(endorsement.scope).label),
        "flags": list(endorsement.flags or []),
        "notices": notices_view(case_type="policies.endorsement", case_id=endorsement.pk),
        "reason": endorsement.reason,
        "policy_id": policy.pk,
        "policy_number": policy.policy_number,
        "product": policy.product,
        "org_unit": endorsement.org_unit.code,
        "org_unit_name": endorsement.org_unit.name,
        "requested_by": endorsement.requested_by.username,
        "requested_by_name": endorsement.requested_by.get_full_name() or endorsement.requested_by.username,
        "decided_by": endorsement.decided_by.username if endorsement.decided_by_id else None,
        "decision_comment": endorsement.decision_comment,
        "process_instance_id": endorsement.process_instance_id,
        "created_at": endorsement.created_at.isoformat(),
        "closed_at": endorsement.closed_at.isoformat() if endorsement.closed_at else None,
        "diff": endorsement_diff(user=user, endorsement=endorsement, purpose=purpose),
    }


TRAIL_ACTIONS = {
    "endorsement.requested": gettext_lazy("提交批改申请"),
    "endorsement.checked": gettext_lazy("批改校验"),
    "task.completed": gettext_lazy("完成任务"),
    "task.escalated": gettext_lazy("超时上报"),
    "task.reminded": gettext_lazy("催办提醒"),
    "endorsement.applied": gettext_lazy("批改生效"),
    "endorsement.rejected": gettext_lazy("拒绝批改"),
}


def endorsement_trail(*, endorsement: Endorsement) -> list[dict[str, Any]]:
    q = Q(object_type="policies.endorsement", object_id=str(endorsement.pk))
    if endorsement.process_instance_id:
        q |= Q(
            process_instance_id=endorsement.process_instance_id,
            action__in=["task.completed", "task.escalated", "task.reminded"],
        )
    events = AuditEvent.objects.filter(q).filter(action__in=list(TRAIL_ACTIONS)).select_related("actor")
    trail = []
    for e in events.order_by("created_at", "id"):
        label = str(TRAIL_ACTIONS[e.action])
        if e.action == "task.completed":
            outcome = e.data.get("outcome", "")
            label = f"{label}: {e.data.get('name') or e.data.get('step', '')} {OUTCOME_LABELS.get(outcome, outcome)}".strip()
        trail.append(
            {
                "at": timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M"),
                "actor": (e.actor.get_full_name() or e.actor.username) if e.actor_id else _("系统"),
                "action": label,
                "comment": str(e.data.get("comment") or e.data.get("reason") or ""),
            }
        )
    return trail


def endorsement_case_view(*, user, endorsement_id: Any) -> dict[str, Any]:
    """What a reviewer sees of an endorsement case on the task page: the diff (masked per
    viewer), the flags and checks, and the trail."""
    endorsement = endorsement_get_visible(user=user, endorsement_id=endorsement_id)
    view = endorsement_view(user=user, endorsement=endorsement, purpose="review")
    return {
        **view,
        "endorsement_id": endorsement.pk,
        "checks": endorsement.checks,
        "trail": endorsement_trail(endorsement=endorsement),
        # The task page's generic parts look at case["customer"] (prefill, masking hints).
        "customer": {"id": endorsement.policy.policyholder_id, "masked": True},
    }


def endorsement_form_parties(*, user, policy: Policy) -> list[dict[str, Any]]:
    """The parties an endorsement form may change, with each typed field's current value as
    this user may see it (masked unless their role allows the full value)."""
    parties = [("policyholder", policy.policyholder)]
    if policy.insured_id != policy.policyholder_id:
        parties.append(("insured", policy.insured))
    out = []
    seen_full = []
    for role, customer in parties:
        full = privacy.sees_full(user, customer.org_unit)
        if full:
            seen_full.append(customer)
        values = {name: getattr(customer, name) for name in TYPED_FIELDS[customer.customer_type]}
        out.append(
            {
                "role": role,
                "role_label": str(PARTY_LABELS[role]),
                "customer_id": customer.pk,
                "name": customer.name,
                "status": customer.status,
                "status_label": customer.get_status_display(),
                "masked": not full,
                "fields": [
                    {
                        "name": name,
                        "label": str(FIELD_LABELS.get(name, name)),
                        "current": _value_label(
                            name,
                            _masked(name, value.isoformat() if hasattr(value, "isoformat") else value, full),
                        ),
                    }
                    for name, value in values.items()
                ],
            }
        )
    if seen_full:
        _audit_full_view(user, seen_full, "endorsement_form")
    return out

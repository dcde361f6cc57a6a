"""The operations the endorsement diagram calls. Each is a thin call into services.py."""

from __future__ import annotations

from django.utils.translation import gettext as _

from backend.customers.linkage import linkage_policies_register
from backend.customers.timeline import timeline_events_register
from backend.policies import services
from backend.policies.models import Claim
from backend.policies.selectors import customer_policies
from backend.policies.task_cases import endorsement_case
from processes.registry import OperationContext, operation_register


def endorsement_checks(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.endorsement_run_checks(actor=ctx.actor, case_id=ctx.case_id)


def endorsement_apply(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.endorsement_apply(
        actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or "")
    )


def endorsement_reject(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.endorsement_reject(
        actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or "")
    )


def _endorsement_case(*, user, case_id):
    return endorsement_case(user=user, case_id=case_id)


def _customer_policies(*, user, customer):
    return customer_policies(user=user, customer=customer)


def _claims_timeline(*, user, customer, limit):
    """理赔 in the customer's timeline (客户动态): the claims on his policies as the claims system
    reported them (whoever sees the customer sees them; amounts are not personal data)."""
    return [
        {
            "type": "claim",
            "at": c.created_at.isoformat(),
            "title": _("理赔 %(number)s（保单 %(policy)s）") % {"number": c.claim_number, "policy": c.policy.policy_number},
            "detail": _("出险日期 %(day)s，%(cause)s") % {"day": c.occurred_on.isoformat(), "cause": c.cause or "—"},
            "outcome": _("%(status)s，赔付 %(paid)s 元") % {"status": c.get_status_display(), "paid": c.amount_paid},
            "actor": c.source,
            "id": c.pk,
        }
        for c in Claim.objects.filter(customer=customer).select_related("policy").order_by("-id")[:limit]
    ]


def register() -> None:
    timeline_events_register(_claims_timeline)
    operation_register("policies.endorsement_checks", endorsement_checks, "批改校验(审核级别、黑名单)")
    operation_register("policies.endorsement_apply", endorsement_apply, "批改生效(客户信息与保单一并生效)")
    operation_register("policies.endorsement_reject", endorsement_reject, "拒绝批改")
    linkage_policies_register(_customer_policies)

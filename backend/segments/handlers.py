"""The operations the segment_threshold_change diagram calls: thin calls into services.py."""

from __future__ import annotations

from backend.segments import selectors, services
from processes.registry import OperationContext, operation_register


def threshold_approve(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.threshold_change_approve(actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or ""))


def threshold_reject(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.threshold_change_reject(actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or ""))


def _threshold_case(*, user, case_id):
    return selectors.threshold_change_case_view(user=user, case_id=case_id)


def _threshold_cancelled(*, actor, instance, reason, withdrawn):
    services.threshold_change_cancel(actor=actor, case_id=int(instance.subject_id), reason=reason, withdrawn=withdrawn)


def register() -> None:
    operation_register("segments.threshold_approve", threshold_approve, "分群阈值新版本生效")
    operation_register("segments.threshold_reject", threshold_reject, "拒绝分群阈值调整")

"""The operations the account-opening diagram calls. Each is a thin call into services.py."""

from __future__ import annotations

from backend.customers import services
from forms.registry import form_validator_register
from processes.registry import OperationContext, operation_register


def run_opening_checks(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_run_checks(actor=ctx.actor, case_id=params["case_id"])


def activate_customer(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_activate(actor=ctx.actor, case_id=params["case_id"])


def reject_opening(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_reject(
        actor=ctx.actor, case_id=params["case_id"], reason=str(data.get("comment") or "")
    )


def return_opening(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_return(
        actor=ctx.actor, case_id=params["case_id"], reason=str(data.get("comment") or "")
    )


def resubmit_opening(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_resubmit(actor=ctx.actor, case_id=params["case_id"], corrections=data)


def register() -> None:
    operation_register("customers.run_opening_checks", run_opening_checks, "开户校验 A–D")
    operation_register("customers.activate_customer", activate_customer, "客户开户生效")
    operation_register("customers.reject_opening", reject_opening, "拒绝开户")
    operation_register("customers.return_opening", return_opening, "退回采集人修改")
    operation_register("customers.resubmit_opening", resubmit_opening, "应用修改并重新提交")
    form_validator_register("customers.opening_fix", services.opening_fix_clean)

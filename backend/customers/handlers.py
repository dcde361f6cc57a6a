"""The operations the account-opening diagram calls. Each is a thin call into services.py."""

from __future__ import annotations

from backend.customers import amendments, blacklist, services
from backend.customers.case_views import amendment_case_view, blacklist_case_view, id_renewal_case_view
from backend.customers.expiry import id_renewal_clean
from backend.customers.expiry import id_renewal_record as record
from backend.customers.models import AccountOpening
from backend.customers.selectors import opening_case_view
from processes.registry import OperationContext, operation_register


def run_opening_checks(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_run_checks(actor=ctx.actor, case_id=ctx.case_id)


def activate_customer(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_activate(actor=ctx.actor, case_id=ctx.case_id)


def reject_opening(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_reject(
        actor=ctx.actor, case_id=ctx.case_id, reason=str(data.get("comment") or "")
    )


def return_opening(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_return(
        actor=ctx.actor, case_id=ctx.case_id, reason=str(data.get("comment") or "")
    )


def resubmit_opening(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_resubmit(actor=ctx.actor, case_id=ctx.case_id, corrections=data)


def officer_confirm(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_officer_confirm(actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or ""))


def officer_correct(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.opening_officer_correct(actor=ctx.actor, case_id=ctx.case_id, corrections=data)


def amendment_checks(ctx: OperationContext, params: dict, data: dict) -> dict:
    return amendments.amendment_run_checks(actor=ctx.actor, case_id=ctx.case_id)


def amendment_apply(ctx: OperationContext, params: dict, data: dict) -> dict:
    return amendments.amendment_apply(
        actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or "")
    )


def amendment_reject(ctx: OperationContext, params: dict, data: dict) -> dict:
    return amendments.amendment_reject(
        actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or "")
    )


def blacklist_apply(ctx: OperationContext, params: dict, data: dict) -> dict:
    return blacklist.blacklist_change_apply(
        actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or "")
    )


def blacklist_reject(ctx: OperationContext, params: dict, data: dict) -> dict:
    return blacklist.blacklist_change_reject(
        actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or "")
    )


def id_renewal_record(ctx: OperationContext, params: dict, data: dict) -> dict:
    return record(actor=ctx.actor, case_id=ctx.case_id, data=data)


def _id_renewal_clean(data: dict, context) -> dict:
    return id_renewal_clean(data, context)


def _id_renewal_case(*, user, case_id):
    return id_renewal_case_view(user=user, case_id=case_id)


def _opening_case(*, user, case_id):
    return opening_case_view(user=user, opening_id=case_id)


def _amendment_case(*, user, case_id):
    return amendment_case_view(user=user, amendment_id=case_id)


def _blacklist_case(*, user, case_id):
    return blacklist_case_view(user=user, change_id=case_id)


def _openings_collected_by(*, user):
    return AccountOpening.objects.filter(collector=user).values("pk")


def _case_id(instance) -> int:
    return int(instance.subject_id)


def _opening_returned(*, actor, instance, step, reason):
    services.opening_on_return(actor=actor, case_id=_case_id(instance), step=step, reason=reason)


def _opening_cancelled(*, actor, instance, reason, withdrawn):
    services.opening_cancel(actor=actor, case_id=_case_id(instance), reason=reason, withdrawn=withdrawn)


def _amendment_cancelled(*, actor, instance, reason, withdrawn):
    amendments.amendment_cancel(actor=actor, case_id=_case_id(instance), reason=reason, withdrawn=withdrawn)


def _blacklist_cancelled(*, actor, instance, reason, withdrawn):
    blacklist.blacklist_change_cancel(actor=actor, case_id=_case_id(instance), reason=reason, withdrawn=withdrawn)


def register() -> None:
    operation_register("customers.run_opening_checks", run_opening_checks, "开户校验 A–D")
    operation_register("customers.activate_customer", activate_customer, "客户开户生效")
    operation_register("customers.reject_opening", reject_opening, "拒绝开户")
    operation_register("customers.return_opening", return_opening, "退回采集人修改")
    operation_register("customers.resubmit_opening", resubmit_opening, "应用修改并重新提交")
    operation_register("customers.officer_confirm", officer_confirm, "客户信息管理岗确认开户", params=())
    operation_register("customers.officer_correct", officer_correct, "客户信息管理岗更正后开户", params=())
    operation_register("customers.amendment_checks", amendment_checks, "修改校验:审核层级与黑名单")
    operation_register("customers.amendment_apply", amendment_apply, "客户信息修改生效")
    operation_register("customers.amendment_reject", amendment_reject, "拒绝客户信息修改")
    operation_register("customers.blacklist_apply", blacklist_apply, "黑名单变更生效")
    operation_register("customers.blacklist_reject", blacklist_reject, "拒绝黑名单变更")
    operation_register("customers.id_renewal_record", id_renewal_record, "记录证件到期更新结果")
    # Case views, hooks and form validators are declared with the process types (process_types.py).

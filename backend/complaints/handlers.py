"""The operations and helpers the complaint diagrams use, and the case views their process
types declare (process_types.py). Each is a thin call into handling.py / services.py."""

from __future__ import annotations

from backend.complaints import handling
from backend.complaints.case_views import complaint_case_view, extension_case_view, review_case_view
from backend.complaints.selectors import customer_complaints
from backend.customers.linkage import linkage_complaints_register
from processes.registry import OperationContext, helper_register, operation_register


def _verified(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.verified(actor=ctx.actor, case_id=ctx.case_id, data=data)


def _registered(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.registered(actor=ctx.actor, case_id=ctx.case_id, data=data, at=ctx.now())


def _handed_over(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.handed_over(actor=ctx.actor, instance=ctx.instance, case_id=ctx.case_id, data=data, at=ctx.now())


def _cross_province_supervised(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.cross_province_supervised(actor=ctx.actor, case_id=ctx.case_id, data=data)


def _coordination(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.coordination_started(actor=ctx.actor, case_id=ctx.case_id, data=data)


def _opinions(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.opinions_recorded(actor=ctx.actor, instance=ctx.instance, case_id=ctx.case_id, data=data, at=ctx.now())


def _decided(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.decided(actor=ctx.actor, case_id=ctx.case_id, data=data, at=ctx.now())


def _closed(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.closed(actor=ctx.actor, case_id=ctx.case_id, data=data)


def _tick(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.clock_tick(instance=ctx.instance, case_id=ctx.case_id, at=ctx.now())


def _extension_granted(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.extension_decided(actor=ctx.actor, case_id=ctx.case_id, data=data, granted=True)


def _extension_refused(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.extension_decided(actor=ctx.actor, case_id=ctx.case_id, data=data, granted=False)


def _review_decided(ctx: OperationContext, params: dict, data: dict) -> dict:
    return handling.review_decided(actor=ctx.actor, case_id=ctx.case_id, data=data, at=ctx.now())


def _complaint_case(*, user, case_id):
    return complaint_case_view(user=user, complaint_id=case_id)


def _extension_case(*, user, case_id):
    return extension_case_view(user=user, extension_id=case_id)


def _review_case(*, user, case_id):
    return review_case_view(user=user, review_id=case_id)


def _customer_complaints(*, user, customer):
    return customer_complaints(user=user, customer=customer)


def register() -> None:
    operation_register("complaints.verified", _verified, "投诉核实完成")
    operation_register("complaints.registered", _registered, "投诉登记")
    operation_register("complaints.handed_over", _handed_over, "投诉移交到其他机构")
    operation_register("complaints.cross_province_supervised", _cross_province_supervised, "总公司客服管理部跨省督办")
    operation_register("complaints.coordination_started", _coordination, "开始协调处理")
    operation_register("complaints.opinions_recorded", _opinions, "记录相关机构意见")
    operation_register("complaints.decided", _decided, "作出处理决定")
    operation_register("complaints.closed", _closed, "告知并办结")
    operation_register("complaints.clock_tick", _tick, "投诉时限提醒与超时上报")
    operation_register("complaints.extension_granted", _extension_granted, "批准再延长30日")
    operation_register("complaints.extension_refused", _extension_refused, "不批准再延长")
    operation_register("complaints.review_decided", _review_decided, "核查结论")
    helper_register("complaint_clock_wait", handling.clock_wait_seconds)
    helper_register("complaint_review_wait", handling.review_wait_seconds)
    linkage_complaints_register(_customer_complaints)

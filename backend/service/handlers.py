"""The operations the customer_manager_qualification diagram calls: thin calls into services.py."""

from __future__ import annotations

from django.utils.translation import gettext as _

from backend.customers.timeline import timeline_events_register
from backend.service import (
    assignments,
    major_events,
    recertification,
    revisits,
    selectors,
    services,
    visit_reports,
)
from processes.registry import OperationContext, operation_register


def qualification_approve(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.manager_qualification_approve(
        actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or "")
    )


def qualification_reject(ctx: OperationContext, params: dict, data: dict) -> dict:
    return services.manager_qualification_reject(
        actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or "")
    )


def _qualification_case(*, user, case_id):
    return selectors.manager_qualification_case_view(user=user, case_id=case_id)


def _qualification_cancelled(*, actor, instance, reason, withdrawn):
    services.manager_qualification_cancel(actor=actor, case_id=int(instance.subject_id), reason=reason, withdrawn=withdrawn)


def major_event_head_ack(ctx: OperationContext, params: dict, data: dict) -> dict:
    return major_events.major_event_head_acknowledge(actor=ctx.actor, case_id=ctx.case_id, instruction=data.get("instruction"))


def major_event_centre_ack(ctx: OperationContext, params: dict, data: dict) -> dict:
    return major_events.major_event_centre_acknowledge(actor=ctx.actor, case_id=ctx.case_id, plan=data.get("plan"))


def major_event_close(ctx: OperationContext, params: dict, data: dict) -> dict:
    return major_events.major_event_close(actor=ctx.actor, case_id=ctx.case_id)


def _major_event_case(*, user, case_id):
    return selectors.major_event_case_view(user=user, case_id=case_id)


def _major_event_cancelled(*, actor, instance, reason, withdrawn):
    major_events.major_event_cancel(actor=actor, case_id=int(instance.subject_id), reason=reason, withdrawn=withdrawn)


def recertification_submit(ctx: OperationContext, params: dict, data: dict) -> dict:
    return recertification.recertification_submit(
        actor=ctx.actor, case_id=ctx.case_id, assessment=data.get("assessment"), results=data.get("results")
    )


def recertification_decide(ctx: OperationContext, params: dict, data: dict) -> dict:
    return recertification.recertification_decide(
        actor=ctx.actor, case_id=ctx.case_id, decision=data.get("decision"), new_grade=data.get("new_grade"), comment=data.get("comment")
    )


def _recertification_case(*, user, case_id):
    return selectors.manager_recertification_case_view(user=user, case_id=case_id)


def _recertification_cancelled(*, actor, instance, reason, withdrawn):
    recertification.recertification_cancel(actor=actor, case_id=int(instance.subject_id), reason=reason, withdrawn=withdrawn)


def assignment_approve(ctx: OperationContext, params: dict, data: dict) -> dict:
    return assignments.customer_assignment_approve(actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or ""))


def assignment_reject(ctx: OperationContext, params: dict, data: dict) -> dict:
    return assignments.customer_assignment_reject(actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or ""))


def _assignment_case(*, user, case_id):
    return selectors.customer_assignment_case_view(user=user, case_id=case_id)


def _assignment_cancelled(*, actor, instance, reason, withdrawn):
    assignments.customer_assignment_cancel(actor=actor, case_id=int(instance.subject_id), reason=reason, withdrawn=withdrawn)


def bulk_transfer_approve(ctx: OperationContext, params: dict, data: dict) -> dict:
    return assignments.bulk_transfer_approve(actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or ""))


def bulk_transfer_reject(ctx: OperationContext, params: dict, data: dict) -> dict:
    return assignments.bulk_transfer_reject(actor=ctx.actor, case_id=ctx.case_id, comment=str(data.get("comment") or ""))


def _bulk_transfer_case(*, user, case_id):
    return selectors.bulk_transfer_case_view(user=user, case_id=case_id)


def _bulk_transfer_cancelled(*, actor, instance, reason, withdrawn):
    assignments.bulk_transfer_cancel(actor=actor, case_id=int(instance.subject_id), reason=reason, withdrawn=withdrawn)


def visit_report_submit(ctx: OperationContext, params: dict, data: dict) -> dict:
    return visit_reports.visit_report_submit(actor=ctx.actor, case_id=ctx.case_id, data=data)


def _visit_report_case(*, user, case_id):
    return selectors.visit_report_case_view(user=user, case_id=case_id)


def revisit_complete(ctx: OperationContext, params: dict, data: dict) -> dict:
    return revisits.revisit_complete(actor=ctx.actor, case_id=ctx.case_id, data=data)


def _revisit_case(*, user, case_id):
    return selectors.revisit_case_view(user=user, case_id=case_id)


def _major_event_timeline(*, user, customer, limit):
    """重大事件 in the customer's timeline (客户动态), for those who may read them."""
    events = selectors.major_events_visible(user=user).filter(customer=customer).order_by("-id")[:limit]
    return [
        {
            "type": "event",
            "at": e.created_at.isoformat(),
            "title": _("重大事件：%(kind)s") % {"kind": view["kind_label"]},
            "detail": view["description"],
            "outcome": view["status_label"],
            "actor": view["reported_by_name"],
            "id": e.pk,
        }
        for e in events
        for view in (selectors.major_event_view(e),)
    ]


def register() -> None:
    timeline_events_register(_major_event_timeline)
    operation_register("service.qualification_approve", qualification_approve, "客户经理定级生效")
    operation_register("service.qualification_reject", qualification_reject, "拒绝客户经理资格申请")
    operation_register("service.major_event_head_ack", major_event_head_ack, "记录机构负责人批示")
    operation_register("service.major_event_centre_ack", major_event_centre_ack, "记录客户服务中心跟进安排")
    operation_register("service.major_event_close", major_event_close, "重大事件办结")
    operation_register("service.recertification_submit", recertification_submit, "记录年度考核材料")
    operation_register("service.recertification_decide", recertification_decide, "年度认证结论生效")
    operation_register("service.assignment_approve", assignment_approve, "客户分配生效")
    operation_register("service.assignment_reject", assignment_reject, "拒绝客户分配")
    operation_register("service.bulk_transfer_approve", bulk_transfer_approve, "离岗移交生效")
    operation_register("service.bulk_transfer_reject", bulk_transfer_reject, "拒绝离岗移交")
    operation_register("service.visit_report_submit", visit_report_submit, "记录月度走访分析报告")
    operation_register("service.revisit_complete", revisit_complete, "记录回访结果")

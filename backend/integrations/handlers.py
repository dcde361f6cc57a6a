"""Operations, form validators and case views of the integration diagrams."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from backend.common.exceptions import ValidationFailed
from backend.customers.events import customer_data_listener_register, customer_status_listener_register
from backend.customers.models import HOLDING_STATUSES, Customer
from backend.integrations.callbacks import customer_changed_callbacks, customer_status_callbacks
from backend.integrations.case_views import import_review_case_view, request_case_view, verification_case_view
from backend.integrations.models import IntegrationRequest
from backend.integrations.reviews import import_review_clean
from backend.integrations.reviews import import_review_decide as decide
from backend.integrations.services import integration_request_resolve
from backend.integrations.verification import verification_call_clean, verification_followup_clean
from backend.integrations.verification import verification_record as record
from backend.organisation.selectors import scope_filter
from processes.registry import OperationContext, operation_register


def request_resolve(ctx: OperationContext, params: dict, data: dict) -> dict:
    return integration_request_resolve(
        actor=ctx.actor,
        case_id=ctx.case_id,
        decision=str(data.get("decision") or ""),
        customer_id=data.get("customer_id"),
        comment=str(data.get("comment") or ""),
    )


def import_review_decide(ctx: OperationContext, params: dict, data: dict) -> dict:
    return decide(
        actor=ctx.actor,
        case_id=ctx.case_id,
        decision=str(data.get("decision") or ""),
        comment=str(data.get("comment") or ""),
    )


def verification_record(ctx: OperationContext, params: dict, data: dict) -> dict:
    return record(actor=ctx.actor, case_id=ctx.case_id, data=data)


def opening_review_clean(data: dict, context: Any) -> dict:
    """Validator of form integrations/opening_review: a linked customer must exist in the
    officer's scope and hold the requested document; a rejection needs a reason."""

    comment = str(data.get("comment") or "").strip()
    if data.get("decision") == "reject":
        if not comment:
            raise ValidationFailed.field("comment", _("拒绝时请填写原因"))
        return {**data, "comment": comment, "customer_id": ""}
    raw = str(data.get("customer_id") or "").strip()
    customer = None
    if raw.isdigit():
        customer = scope_filter(
            Customer.objects.filter(pk=int(raw), status__in=HOLDING_STATUSES), context.actor
        ).first()
    if customer is None:
        raise ValidationFailed.field("customer_id", _("请填写本机构已开户的客户号"))
    request = IntegrationRequest.objects.get(pk=context.task.case_id)
    wanted = str(request.payload.get("id_number") or "").strip().upper().replace(" ", "")
    if wanted and wanted != customer.id_number:
        raise ValidationFailed.field("customer_id", _("该客户的证件号码与请求不一致"))
    return {**data, "comment": comment, "customer_id": str(customer.pk)}


def _import_review_clean(data: dict, context: Any) -> dict:
    return import_review_clean(data, context)


def _verification_clean(data: dict, context: Any) -> dict:
    return verification_call_clean(data, context)


def _request_case(*, user, case_id):
    return request_case_view(user=user, case_id=case_id)


def _import_case(*, user, case_id):
    return import_review_case_view(user=user, case_id=case_id)


def _verification_followup_clean(data: dict, context: Any) -> dict:
    return verification_followup_clean(data, context)


def _verification_case(*, user, case_id):
    return verification_case_view(user=user, case_id=case_id)


def _customer_status_changed(*, customer, old_status, new_status, actor):
    customer_status_callbacks(customer=customer)


def _customer_data_changed(*, customer, fields, actor, case_type, case_id):
    customer_changed_callbacks(customer=customer, fields=fields)


def register() -> None:
    operation_register("integrations.request_resolve", request_resolve, "记录自动开户请求的人工处理结果")
    operation_register("integrations.import_review_decide", import_review_decide, "记录导入行的审核结论")
    operation_register("integrations.verification_record", verification_record, "记录抽样核实结果")
    customer_status_listener_register(_customer_status_changed)
    customer_data_listener_register(_customer_data_changed)

"""Automatic query (自动查询 / business gate): may an upstream system do business with this
customer? Only existence, status and the gate are answered, never personal data."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from backend.common.exceptions import InvalidValue, NotFound, ValidationFailed
from backend.customers.checks import blacklist_hits, customer_documents
from backend.customers.lookups import lookup_run
from backend.customers.models import HOLDING_STATUSES, Customer, CustomerStatus, IdType
from backend.customers.validators import validate_id_number
from backend.integrations.clients import api_client_require_scope
from backend.integrations.models import ApiClient, ImportBatch, Scope
from backend.organisation.selectors import scope_filter
from forms.validation import control_character_fields

NOT_FOUND = {"exists": False, "status": None, "can_do_business": False, "customer_id": None}


def _document_from(params: Any) -> tuple[str, str, str]:
    """(field, id_type, normalised id number) from the body; 400 with field messages."""
    if not isinstance(params, dict):
        raise ValidationFailed.field("non_field_errors", _("请求体须为 JSON 对象"))
    values = {k: params.get(k) for k in ("uscc", "id_type", "id_number")}
    if any(v is not None and not isinstance(v, str) for v in values.values()):
        bad = sorted(k for k, v in values.items() if v is not None and not isinstance(v, str))
        raise ValidationFailed("", field_errors={k: [_("须为字符串")] for k in bad})
    nul = sorted(k for k, v in values.items() if v and control_character_fields(v))
    if nul:
        raise ValidationFailed("", field_errors={k: [_("不能包含控制字符")] for k in nul})
    uscc = (values["uscc"] or "").strip()
    if uscc:
        field, id_type, raw = "uscc", IdType.USCC.value, uscc
    else:
        field = "id_number"
        id_type, raw = (values["id_type"] or "").strip(), values["id_number"] or ""
        if not id_type or not raw.strip():
            raise ValidationFailed(
                _("请提供 id_type 与 id_number,或 uscc"),
                field_errors={"id_number": [_("请提供 id_type 与 id_number,或 uscc")]},
            )
        if id_type not in IdType.values:
            raise ValidationFailed.field(
                "id_type", _("证件类型无效,可选: %(choices)s") % {"choices": ", ".join(IdType.values)}
            )
    try:
        return field, id_type, validate_id_number(id_type, raw).normalized
    except InvalidValue as exc:
        raise ValidationFailed.field(field, exc.message) from None


def customer_check_refuse_get(*, client: ApiClient) -> None:
    """The old GET …/check?id_number=…: identifiers never travel in a URL."""
    api_client_require_scope(client, Scope.QUERY)
    message = _("请使用 POST /api/integrations/customers/check,在 JSON 请求体中提供证件信息")
    raise ValidationFailed(message, code="use_post", extra={"method": "POST"})


def customer_check(*, client: ApiClient, params: Any) -> dict[str, Any]:
    """{"exists","status","can_do_business","customer_id"}. A customer outside the client's
    org subtree answers exactly like one that does not exist. Each check is a recorded
    look-up of the client's service user (what it learned: 0 or 1 customer)."""
    api_client_require_scope(client, Scope.QUERY)
    field, id_type, id_number = _document_from(params)

    def search() -> Customer | None:
        return (
            Customer.objects.filter(
                id_type=id_type,
                id_number=id_number,
                status__in=HOLDING_STATUSES,
                org_unit__path__startswith=client.org_unit.path,
            )
            .order_by("id")
            .first()
        )

    customer = lookup_run(
        actor=client.service_user,
        field=field,
        normalized_value=id_number,
        search=search,
        count=lambda found: 0 if found is None else 1,
        org_unit=client.org_unit,
    )
    if customer is None:
        return dict(NOT_FOUND)
    values = {
        f: getattr(customer, f) for f in ("id_type", "id_number", "legal_rep_id_type", "legal_rep_id_number")
    }
    blacklisted = bool(blacklist_hits(customer_documents(values)))
    return {
        "exists": True,
        "status": str(customer.status),
        "can_do_business": customer.status == CustomerStatus.ACTIVE and not blacklisted,
        "customer_id": customer.pk,
    }


# ---- historical imports ----------------------------------------------------------------------


def import_batch_get_visible(*, user, batch_id: Any):
    try:
        pk = int(batch_id)
    except (TypeError, ValueError):
        pk = None
    batch = (
        scope_filter(ImportBatch.objects.select_related("org_unit", "uploaded_by"), user)
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if batch is None:
        raise NotFound(_("导入批次不存在"), code="import_not_found")
    return batch


def import_batch_view(batch) -> dict[str, Any]:
    if batch.status == "done":
        percent = 100
    elif batch.size_bytes:
        percent = min(99, int(batch.bytes_read * 100 / batch.size_bytes))
    else:
        percent = 0
    return {
        "id": batch.pk,
        "filename": batch.filename,
        "status": batch.status,
        "status_label": batch.get_status_display(),
        "processed_rows": batch.processed_rows,
        "percent": percent,
        "counts": batch.counts or {},
        "message": batch.message,
        "org_unit": batch.org_unit.code,
        "created_at": batch.created_at.isoformat(),
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        "result_url": f"/api/integrations/imports/{batch.pk}/result.xlsx" if batch.result_file else None,
        # Rows the customer checks flagged (agent_phone, shared_phone, blacklist_hit), first 200;
        # every row's flags are in the result file.
        "flagged_rows": [
            {"row_number": n, "outcome": outcome, "customer_id": customer_id, "flags": flags}
            for n, outcome, customer_id, flags in batch.rows.exclude(flags=[])
            .order_by("row_number")
            .values_list("row_number", "outcome", "customer_id", "flags")[:200]
        ],
    }


def import_batch_list(*, user, limit: int = 20) -> list:
    return list(scope_filter(ImportBatch.objects.select_related("org_unit"), user).order_by("-id")[:limit])


def import_result_get(*, user, batch_id: Any):
    """The batch whose per-row result file exists (404 until the import has finished)."""

    batch = import_batch_get_visible(user=user, batch_id=batch_id)
    if not batch.result_file:
        raise NotFound(_("结果文件尚未生成"), code="result_not_ready")
    return batch

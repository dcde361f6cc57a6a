"""Automatic opening (自动开户) for upstream systems: idempotent, and a failed check becomes an
officer's task instead of an error lost in a log. The opening rules are the live opening's
(`customers.services.account_opening_submit`); this module only adds the integration around it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, NotFound, Unprocessable, ValidationFailed
from backend.customers.models import Customer
from backend.customers.services import account_opening_submit
from backend.integrations.callbacks import callback_enqueue
from backend.integrations.clients import api_client_require_scope
from backend.integrations.models import ApiClient, IdempotencyRecord, IntegrationRequest, RequestStatus, Scope
from backend.organisation.models import OrgUnit
from processes.services import process_instance_start

REVIEW_PROCESS = "integration_opening_review"
OPENING_FIELDS = (
    "customer_type",
    "name",
    "id_type",
    "id_number",
    "phone",
    "address",
    "email",
    "legal_rep_name",
    "legal_rep_id_type",
    "legal_rep_id_number",
    "contact_person",
    "id_valid_until",
)
STORED_FIELDS = {*OPENING_FIELDS, "scan", "scan_filename", "org_unit"}
MAX_KEY_LENGTH = 255


def request_hash(payload: dict) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    ).hexdigest()


def clean_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.field(
            "Idempotency-Key",
            _("请在请求头 Idempotency-Key 中提供 1–255 个可打印字符"),
            code="idempotency_key_required",
        )
    return key


def _scan_from(payload: dict) -> tuple[Any, str]:
    """The scan arrives base64-encoded in JSON; returns (file or None, error message)."""
    raw = payload.get("scan")
    if not raw:
        return None, ""
    try:
        content = base64.b64decode(str(raw), validate=True)
    except (binascii.Error, ValueError):
        return None, _("扫描件须为 base64 编码")
    name = str(payload.get("scan_filename") or "scan.bin")[:100]
    return SimpleUploadedFile(name, content), ""


def _org_unit_for(client: ApiClient, payload: dict) -> OrgUnit:
    code = str(payload.get("org_unit") or "").strip()
    if not code or code == client.org_unit.code:
        return client.org_unit
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None or not unit.path.startswith(client.org_unit.path):
        raise NotFound(_("机构不存在"), code="org_unit_not_found")
    raise ValidationFailed.field("org_unit", _("接口客户端只能在其绑定的机构开户"))


def refusal_message() -> str:
    """The one wording every refused request shows the client, whatever the reason."""
    return _("未能自动开户,已转人工处理")


def request_view(request: IntegrationRequest) -> dict[str, Any]:
    """What the client sees of its request: no personal data, and no reason beyond which
    fields a person will look at. Every refused request reads the same (`refusal_message`),
    so an id number held by another branch answers exactly like a bad one; the officer's
    task keeps the real reasons (`request.errors`)."""
    customer = request.customer
    return {
        "request_id": request.pk,
        "status": str(request.status),
        "customer_id": customer.pk if customer else None,
        "customer_status": str(customer.status) if customer else None,
        "case_id": request.pk if request.process_instance_id else None,
        "errors": {field: [refusal_message()] for field in (request.errors or {})},
    }


def _request_record(
    *, client, key, payload, org_unit, status, customer=None, errors=None
) -> IntegrationRequest:
    stored = {k: v for k, v in payload.items() if k != "scan"}
    stored["scan_attached"] = bool(payload.get("scan"))
    request = IntegrationRequest.objects.create(
        client=client,
        org_unit=org_unit,
        idempotency_key=key,
        payload=stored,
        errors=errors or {},
        status=status,
        customer=customer,
        closed_at=None if status == RequestStatus.NEEDS_REVIEW else timezone.now(),
    )
    audit_event_record(
        actor=client.service_user,
        action=f"integration_request.{status}",
        obj=request,
        org_unit=org_unit,
        data={
            "client": client.name,
            "customer_id": customer.pk if customer else None,
            "errors": errors or {},
        },
    )
    return request


def _review_start(*, client, request: IntegrationRequest) -> None:
    instance = process_instance_start(
        actor=client.service_user,
        key=REVIEW_PROCESS,
        org_unit=request.org_unit,
        data={"case_id": request.pk},
        subject_type="integrations.integrationrequest",
        subject_id=request.pk,
    )
    request.process_instance = instance
    request.save(update_fields=["process_instance"])


def _open(client: ApiClient, key: str, payload: dict) -> tuple[int, dict]:
    org_unit = _org_unit_for(client, payload)
    fields = {name: str(payload.get(name) or "") for name in OPENING_FIELDS}
    fields["customer_type"] = fields["customer_type"] or "individual"
    scan, scan_error = _scan_from(payload)
    errors: dict[str, list[str]] = {}
    customer = None
    try:
        with transaction.atomic():
            opening = account_opening_submit(
                actor=client.service_user, info_level="primary", scan=scan, automatic=True, **fields
            )
        customer = opening.customer
        status = RequestStatus.OPENED
    except Conflict as exc:
        if exc.code != "duplicate_customer":
            raise
        existing = Customer.objects.select_related("org_unit").get(pk=exc.extra["customer_id"])
        if existing.org_unit.path.startswith(client.org_unit.path):
            customer, status = existing, RequestStatus.EXISTING
        else:
            # Held by another branch: a person sorts it out. The client's answer reads like
            # any other refusal (request_view); only the officer's task says why.
            errors = {"id_number": [_("该证件已在其他机构开户,需人工处理")]}
            status = RequestStatus.NEEDS_REVIEW
    except ValidationFailed as exc:
        errors = dict(exc.field_errors) or {"detail": [exc.message]}
        status = RequestStatus.NEEDS_REVIEW
    if scan_error:
        errors["scan"] = [scan_error]
    request = _request_record(
        client=client,
        key=key,
        payload=payload,
        org_unit=org_unit,
        status=status,
        customer=customer,
        errors=errors,
    )
    if status == RequestStatus.NEEDS_REVIEW:
        _review_start(client=client, request=request)
    body = request_view(request)
    callback_enqueue(client=client, event_type="integration_request.status_changed", payload=body)
    code = {RequestStatus.OPENED: 201, RequestStatus.EXISTING: 200}.get(status, 202)
    return code, body


def customer_open_automatic(
    *, client: ApiClient, idempotency_key: str | None, payload: dict
) -> tuple[int, dict]:
    """POST /api/integrations/customers/: returns (HTTP status, body).

    The same key with the same body returns the stored response (never a second customer);
    the same key with another body is a 422. Concurrent retries wait on the key's row lock."""
    api_client_require_scope(client, Scope.OPEN)
    key = clean_key(idempotency_key)
    if not isinstance(payload, dict):
        raise ValidationFailed.field("non_field_errors", _("请求体须为 JSON 对象"))
    # Only the known fields count (and are stored); a NUL character is malformed input, not a
    # failed check, and PostgreSQL's JSON cannot hold it.
    payload = {k: v for k, v in payload.items() if k in STORED_FIELDS}
    nul = sorted(k for k, v in payload.items() if "\x00" in str(v))
    if nul:
        raise ValidationFailed("", field_errors={k: [_("不能包含控制字符")] for k in nul})
    return idempotent_call(client, key, payload, lambda: _open(client, key, payload))


def idempotent_call(client: ApiClient, key: str, payload: dict, answer) -> tuple[int, dict]:
    """Run `answer()` (returning (HTTP status, body)) once per (client, key): the same key with the
    same body returns the stored response, with another body it is a 422. Concurrent retries wait
    on the key's row lock. A refusal raised by `answer` stores nothing: the retry is judged anew."""
    digest = request_hash(payload)
    try:
        with transaction.atomic():
            record, _created = IdempotencyRecord.objects.get_or_create(
                client=client, key=key, defaults={"request_hash": digest}
            )
    except IntegrityError:  # a concurrent first request inserted it
        record = IdempotencyRecord.objects.get(client=client, key=key)
    with transaction.atomic(), audit_batch():
        record = IdempotencyRecord.objects.select_for_update().get(pk=record.pk)
        if record.request_hash != digest:
            raise Unprocessable(_("该 Idempotency-Key 已用于另一个不同的请求"), code="idempotency_key_reused")
        if record.response_status is not None:
            return record.response_status, record.response_body
        code, body = answer()
        record.response_status, record.response_body = code, body
        record.save(update_fields=["response_status", "response_body"])
    return code, body


def integration_request_get(*, client: ApiClient, request_id: Any) -> dict:
    try:
        pk = int(request_id)
    except (TypeError, ValueError):
        pk = None
    request = (
        IntegrationRequest.objects.select_related("customer").filter(pk=pk, client=client).first()
        if pk
        else None
    )
    if request is None:
        raise NotFound(_("请求不存在"), code="request_not_found")
    return request_view(request)


# ---- the officer's task (diagram integration_opening_review) ---------------------------------


def integration_request_resolve(
    *, actor, case_id: Any, decision: str, customer_id: Any, comment: str
) -> dict:
    """The officer linked the request to a customer (opened by hand, or found) or rejected it;
    the client is told through its callback."""
    request = (
        IntegrationRequest.objects.select_for_update(of=("self",))
        .select_related("client", "org_unit")
        .get(pk=int(case_id))
    )
    if request.status != RequestStatus.NEEDS_REVIEW:
        raise Conflict(_("该请求已处理"), code="already_resolved")
    if decision == "link":
        # The linked customer must belong to the request's own org unit subtree: process data
        # cannot point the request at another branch's customer (control 4).
        customer = Customer.objects.filter(
            pk=int(customer_id), org_unit__path__startswith=request.org_unit.path
        ).first()
        if customer is None:
            raise ValidationFailed.field("customer_id", _("请填写本机构已开户的客户号"))
        request.customer = customer
        request.status = RequestStatus.RESOLVED
    else:
        request.status = RequestStatus.REJECTED
    request.decision_comment = comment
    request.closed_at = timezone.now()
    request.save(update_fields=["customer", "status", "decision_comment", "closed_at"])
    audit_event_record(
        actor=actor,
        action=f"integration_request.{request.status}",
        obj=request,
        org_unit=request.org_unit,
        data={"customer_id": request.customer_id, "comment": comment},
    )
    callback_enqueue(
        client=request.client, event_type="integration_request.status_changed", payload=request_view(request)
    )
    return {"request_status": str(request.status)}

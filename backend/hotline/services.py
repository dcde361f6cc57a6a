"""热线坐席台: logging a call and handing it on. The complaint, the change request and the contact
go through their own services (`complaints.services.complaint_accept`,
`customers.amendments.customer_amendment_request`, `customers.contacts.customer_contact_record`),
so every rule of theirs (scope, checks A–D and the blacklist on a change, duplicates) holds on
this path too; this module adds only the call around them, in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Forbidden, ValidationFailed
from backend.complaints.services import complaint_accept
from backend.customers.amendments import customer_amendment_request
from backend.customers.contacts import customer_contact_record
from backend.customers.prospects import prospect_record
from backend.customers.selectors import customer_get_visible
from backend.customers.validators import InvalidValue, normalize_phone
from backend.hotline.models import CallCategory, ClaimReportStatus, Handoff, HotlineCall
from backend.integrations.callbacks import callback_enqueue
from backend.integrations.models import ApiClient, Scope
from backend.organisation.models import Role
from backend.organisation.selectors import user_role_assignments
from backend.policies.models import Policy
from forms.validation import control_character_fields

AGENT_ROLES = frozenset({Role.HOTLINE_AGENT, Role.CUSTOMER_SERVICE})
SUMMARY_MAX = 2000
OUTCOME_MAX = 500
CALL_FIELDS = ("caller_phone", "customer_id", "category", "summary", "outcome", "handoff")
# The hand-off's own fields (each prefixed, so a message lands next to the right input).
COMPLAINT_FIELDS = {"complaint_subject": "subject", "complaint_category": "category", "complaint_description": "description", "complainant_name": "complainant_name"}
AMENDMENT_FIELDS = {"new_phone": "phone", "new_address": "address", "new_email": "email"}
CLAIM_FIELDS = ("policy_number", "occurred_on")
PROSPECT_FIELDS = {"prospect_name": "name", "prospect_interest": "interest", "caller_phone": "phone"}
# The call as it lands in the customer's contact log.
CONTACT_KIND = {Handoff.NONE: "call", Handoff.COMPLAINT: "complaint", Handoff.AMENDMENT: "call", Handoff.CLAIM_REPORT: "report", Handoff.PROSPECT: "call"}


def agent_org_unit(user):
    """The deepest unit where the user answers the hotline, or None."""
    units = [ra.org_unit for ra in user_role_assignments(user) if ra.role in AGENT_ROLES]
    return max(units, key=lambda u: u.path.count("/")) if units else None


def user_is_agent(user) -> bool:
    return agent_org_unit(user) is not None


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value).strip())


def _clean(data: dict, actor) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    for field in control_character_fields({k: v for k, v in data.items() if isinstance(v, str)}):
        errors[field] = [_("不能包含控制字符")]
    out: dict[str, Any] = {}
    try:
        out["caller_phone"] = normalize_phone(_text(data, "caller_phone")[:40])
    except InvalidValue as exc:
        errors.setdefault("caller_phone", [exc.message])
    out["customer"] = None
    if _text(data, "customer_id"):
        out["customer"] = customer_get_visible(user=actor, customer_id=_text(data, "customer_id"))  # 404 out of scope
    out["category"] = _text(data, "category")
    if out["category"] not in CallCategory.values:
        errors.setdefault("category", [_("请选择咨询类别")])
    out["summary"] = _text(data, "summary")
    if not out["summary"]:
        errors.setdefault("summary", [_("请填写来电内容")])
    elif len(out["summary"]) > SUMMARY_MAX:
        errors.setdefault("summary", [_("来电内容不能超过 %(n)s 个字符") % {"n": SUMMARY_MAX}])
    out["outcome"] = _text(data, "outcome")
    if len(out["outcome"]) > OUTCOME_MAX:
        errors.setdefault("outcome", [_("答复结果不能超过 %(n)s 个字符") % {"n": OUTCOME_MAX}])
    out["handoff"] = _text(data, "handoff") or Handoff.NONE
    if out["handoff"] not in Handoff.values:
        errors.setdefault("handoff", [_("请选择转办方式")])
    elif out["handoff"] in (Handoff.AMENDMENT, Handoff.CLAIM_REPORT) and out["customer"] is None:
        errors.setdefault("handoff", [_("资料变更和理赔报案须先查到来电客户")])
    elif out["handoff"] == Handoff.PROSPECT and out["customer"] is not None:
        errors.setdefault("handoff", [_("来电人已是客户，无需登记准客户")])
    if out["handoff"] == Handoff.CLAIM_REPORT and out["customer"] is not None:
        out["policy"] = _claim_policy(data, out["customer"], actor, errors)
        day = None
        raw = _text(data, "occurred_on")
        try:
            day = parse_date(raw) if len(raw) == 10 else None
        except ValueError:
            day = None
        if day is None:
            errors.setdefault("occurred_on", [_("请填写出险日期（YYYY-MM-DD）")])
        elif day > timezone.localdate():
            errors.setdefault("occurred_on", [_("出险日期不能晚于今天")])
        out["occurred_on"] = day
    return out, errors


def _claim_policy(data: dict, customer, actor, errors: dict) -> Policy | None:
    number = _text(data, "policy_number")[:32]
    policy = (
        Policy.objects.filter(policy_number=number)
        .filter(Q(policyholder=customer) | Q(insured=customer))
        .select_related("org_unit")
        .first()
        if number
        else None
    )
    if policy is None:
        errors.setdefault("policy_number", [_("请填写该客户作为投保人或被保险人的保单号")])
    return policy


def _field_errors(exc: ValidationFailed, mapping: dict[str, str]) -> dict[str, list[str]]:
    """A hand-off service's field errors under the desk form's names."""
    reverse = {inner: outer for outer, inner in mapping.items()}
    out = {reverse.get(k, k): v for k, v in (exc.field_errors or {}).items()}
    if not out:
        out = {"non_field_errors": [exc.message]}
    return out


def _claim_receivers(policy: Policy) -> list[ApiClient]:
    clients = ApiClient.objects.filter(revoked_at__isnull=True).exclude(callback_url="").select_related("org_unit")
    return [c for c in clients if Scope.CLAIMS in (c.scopes or []) and policy.org_unit.path.startswith(c.org_unit.path)]


def hotline_call_log(*, actor, data: Any) -> HotlineCall:
    """Log one call and carry out its hand-off, all in one transaction: a refused hand-off (a
    complaint's or a change's field errors, a duplicate complaint) leaves nothing behind."""
    unit = agent_org_unit(actor)
    if unit is None:
        raise Forbidden(_("只有热线坐席或客服管理部可以登记来电"), code="not_hotline_agent")
    if not isinstance(data, dict):
        raise ValidationFailed.field("non_field_errors", _("请求体须为 JSON 对象"))
    values, errors = _clean(data, actor)
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_call")
    customer = values["customer"]
    with transaction.atomic(), audit_batch():
        call = HotlineCall(
            org_unit=unit,
            agent=actor,
            caller_phone=values["caller_phone"],
            customer=customer,
            category=values["category"],
            summary=values["summary"],
            outcome=values["outcome"],
            handoff=values["handoff"],
        )
        if values["handoff"] == Handoff.COMPLAINT:
            payload = {inner: _text(data, outer) for outer, inner in COMPLAINT_FIELDS.items()}
            payload.update(
                channel="hotline",
                complainant_phone=values["caller_phone"],
                complainant_name=payload["complainant_name"] or (customer.name if customer else ""),
                description=payload["description"] or values["summary"],
                customer_id=customer.pk if customer else None,
                not_duplicate=data.get("not_duplicate") is True,
            )
            try:
                call.complaint, _merged = complaint_accept(actor=actor, data=payload)
            except ValidationFailed as exc:
                raise ValidationFailed(exc.message, field_errors=_field_errors(exc, COMPLAINT_FIELDS), code="invalid_complaint") from None
        elif values["handoff"] == Handoff.AMENDMENT:
            proposed = {inner: _text(data, outer) for outer, inner in AMENDMENT_FIELDS.items() if _text(data, outer)}
            if not proposed:
                raise ValidationFailed.field("new_phone", _("请填写要变更的联系电话、通讯地址或电子邮箱"), code="no_change")
            try:
                call.amendment = customer_amendment_request(actor=actor, customer=customer, proposed=proposed, reason=values["summary"][:500])
            except ValidationFailed as exc:
                raise ValidationFailed(exc.message, field_errors=_field_errors(exc, AMENDMENT_FIELDS), code="invalid_amendment") from None
        elif values["handoff"] == Handoff.CLAIM_REPORT:
            policy = values["policy"]
            call.claim_report = {
                "policy_number": policy.policy_number,
                "occurred_on": values["occurred_on"].isoformat(),
                "description": values["summary"],
            }
            receivers = _claim_receivers(policy)
            for client in receivers:
                callback_enqueue(
                    client=client,
                    event_type="claim_report.handed_off",
                    payload={**call.claim_report, "caller_phone": values["caller_phone"], "reported_at": timezone.now().isoformat()},
                )
            call.claim_report_status = ClaimReportStatus.SENT if receivers else ClaimReportStatus.NO_RECEIVER
        elif values["handoff"] == Handoff.PROSPECT:
            payload = {inner: _text(data, outer) for outer, inner in PROSPECT_FIELDS.items()}
            payload.update(phone=values["caller_phone"], source="hotline_call", notes=values["summary"][:500])
            try:
                call.prospect = prospect_record(actor=actor, data=payload)
            except ValidationFailed as exc:
                raise ValidationFailed(exc.message, field_errors=_field_errors(exc, PROSPECT_FIELDS), code="invalid_prospect") from None
        call.save()
        if customer is not None:
            customer_contact_record(
                actor=actor,
                customer_id=customer.pk,
                data={"kind": CONTACT_KIND[call.handoff], "channel": "hotline", "summary": values["summary"], "outcome": values["outcome"]},
            )
        audit_event_record(
            actor=actor,
            action="hotline_call.logged",
            obj=call,
            org_unit=unit,
            data={"customer": customer.pk if customer else None, "category": call.category, "handoff": call.handoff},
        )
    return call

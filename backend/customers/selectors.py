from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import InvalidValue, NotFound, ValidationFailed
from backend.common.models import AuditEvent
from backend.customers.models import AccountOpening, Customer, CustomerStatus, IdType, ScanDocument
from backend.customers.validators import LONG_TERM, _squash, normalize_phone
from backend.organisation import privacy
from backend.organisation.selectors import scope_filter
from forms.validation import control_character_fields

PERSONAL_FIELDS = privacy.CUSTOMER_FIELDS


@dataclass
class CustomerSearch:
    """客户业务关联查询: exact keys, already normalised as they are stored."""

    name: str = ""
    id_number: str = ""
    uscc: str = ""
    phone: str = ""

    def __bool__(self) -> bool:
        return bool(self.name or self.id_number or self.uscc or self.phone)


def customer_search_clean(params: Any) -> CustomerSearch:
    """Normalise the search keys the way values are stored: id numbers and USCC NFKC,
    whitespace removed, upper-case; phone to E.164 (unparsable → 400 on "phone"); name
    stripped. Control characters are refused per field."""
    raw = {k: params.get(k) for k in ("name", "id_number", "uscc", "phone")}
    raw = {k: v if isinstance(v, str) else "" for k, v in raw.items()}
    errors = {k: [_("不能包含控制字符")] for k, v in raw.items() if control_character_fields(v)}
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_search")
    out = CustomerSearch(
        name=raw["name"].strip(), id_number=_squash(raw["id_number"]), uscc=_squash(raw["uscc"])
    )
    if raw["phone"].strip():
        try:
            out.phone = normalize_phone(raw["phone"])
        except InvalidValue as exc:
            raise ValidationFailed.field("phone", exc.message, code="invalid_phone") from None
    return out


def customer_list(
    *, user, query: str = "", status: str = "", search: CustomerSearch | None = None
) -> QuerySet[Customer]:
    qs = scope_filter(Customer.objects.select_related("org_unit", "collected_by"), user).order_by("-id")
    if status:
        # An unknown status matches nothing, as before; it is never sent to the database
        # (PostgreSQL refuses NUL in text).
        qs = qs.filter(status=status) if status in CustomerStatus.values else qs.none()
    query = (query or "").strip()
    if control_character_fields(query):  # PostgreSQL refuses NUL in text: a 400, not a 500
        raise ValidationFailed.field("q", _("不能包含控制字符"), code="invalid_search")
    if query:
        # Name or customer number only: an identifier is never searched through a URL
        # (POST /api/customers/search/ records each look-up).
        q = Q(name__icontains=query)
        if query.isascii() and query.isdigit() and len(query) <= 18:
            q |= Q(pk=int(query))
        qs = qs.filter(q)
    if search:
        # Each key is an equality on an indexed column: name, id_number, (id_type, id_number), phone.
        if search.name:
            qs = qs.filter(name=search.name)
        if search.id_number:
            qs = qs.filter(id_number=search.id_number)
        if search.uscc:
            qs = qs.filter(id_type=IdType.USCC, id_number=search.uscc)
        if search.phone:
            qs = qs.filter(phone=search.phone)
    return qs


def customer_get_visible(*, user, customer_id: Any) -> Customer:
    try:
        pk = int(customer_id)
    except (TypeError, ValueError):
        raise NotFound("客户不存在", code="customer_not_found")
    customer = (
        scope_filter(Customer.objects.select_related("org_unit", "collected_by"), user).filter(pk=pk).first()
    )
    if customer is None:
        raise NotFound("客户不存在", code="customer_not_found")
    return customer


def opening_get_visible(*, user, opening_id: Any) -> AccountOpening:
    try:
        pk = int(opening_id)
    except (TypeError, ValueError):
        raise NotFound("开户申请不存在", code="opening_not_found")
    opening = (
        scope_filter(AccountOpening.objects.select_related("customer", "org_unit", "collector", "opened_by"), user)
        .filter(pk=pk)
        .first()
    )
    if opening is None:
        raise NotFound("开户申请不存在", code="opening_not_found")
    return opening


def opening_scan(opening: AccountOpening) -> ScanDocument | None:
    """The opening's current scan: the latest uploaded."""
    return opening.scans.order_by("-id").first()


def opening_scan_url(opening: AccountOpening, document: ScanDocument | None = None) -> str | None:
    """Where the scan is fetched (every fetch is recorded), or None when the opening has none."""
    if document is None and not opening.scans.exists():
        return None
    return reverse("api-opening-scan", kwargs={"opening_id": opening.pk})


def id_validity_text(customer: Customer) -> str:
    """证件有效期 as the API gives it: "YYYY-MM-DD", "long_term", or "" when not recorded."""
    if customer.id_valid_long_term:
        return LONG_TERM
    return customer.id_valid_until.isoformat() if customer.id_valid_until else ""


def id_validity_state(customer: Customer, today=None) -> str:
    """"expired", "expiring" (within ID_EXPIRY_NOTICE_DAYS), "valid", "long_term" or "" (not recorded)."""
    if customer.id_valid_long_term:
        return "long_term"
    if not customer.id_valid_until:
        return ""
    today = today or timezone.localdate()
    if customer.id_valid_until < today:
        return "expired"
    if customer.id_valid_until <= today + timedelta(days=settings.CUSTFLOW["ID_EXPIRY_NOTICE_DAYS"]):
        return "expiring"
    return "valid"


def customer_view(*, user, customer: Customer, purpose: str = "view") -> dict[str, Any]:
    """The customer as this user may see it: personal fields masked unless their role allows
    the full value, in which case the full view is audited. Lists are always masked."""
    full = privacy.sees_full(user, customer.org_unit, purpose=purpose)
    data = {
        "id": customer.pk,
        "status": customer.status,
        "status_label": customer.get_status_display(),
        "customer_type": customer.customer_type,
        "name": customer.name,
        "id_type": customer.id_type,
        "id_type_label": customer.get_id_type_display(),
        "info_level": customer.info_level,
        "info_level_label": customer.get_info_level_display(),
        "birth_date": customer.birth_date.isoformat() if customer.birth_date else None,
        "id_valid_until": id_validity_text(customer) or None,
        "id_valid_state": id_validity_state(customer),
        "legal_rep_name": customer.legal_rep_name,
        "legal_rep_id_type_label": customer.get_legal_rep_id_type_display()
        if customer.legal_rep_id_type
        else "",
        "contact_person": customer.contact_person,
        "org_unit": customer.org_unit.code,
        "org_unit_name": customer.org_unit.name,
        "collected_by": customer.collected_by.username if customer.collected_by_id else None,
        "created_at": customer.created_at.isoformat(),
        "activated_at": customer.activated_at.isoformat() if customer.activated_at else None,
        "last_verified_at": customer.last_verified_at.isoformat() if customer.last_verified_at else None,
        "version": customer.version,
        "masked": not full,
        # The file's static part (seed 002); employer and family_members are personal (below).
        "occupation": customer.occupation,
        "preferences": customer.preferences,
        "income_band": privacy.present("income_band", customer.income_band, full=full),
        "income_band_label": privacy.present(
            "income_band", customer.get_income_band_display() if customer.income_band else "", full=full
        ),
    }
    if purpose != "list":
        data.update(customer_opening_people(customer))
    if customer.is_corporate:
        data.update(
            legal_rep_name=customer.legal_rep_name,
            legal_rep_id_type=customer.legal_rep_id_type,
            contact_person=customer.contact_person,
            legal_rep_id_number=privacy.present("legal_rep_id_number", customer.legal_rep_id_number, full=full),
        )
    for name in PERSONAL_FIELDS:
        value = getattr(customer, name) or ""
        data[name] = privacy.present(name, value, full=full)
    if full:
        audit_event_record(
            actor=user,
            action="customer.viewed_full",
            obj=customer,
            org_unit=customer.org_unit,
            data={"purpose": purpose},
        )
    return data


def _person(user) -> dict[str, str] | None:
    return {"username": user.username, "name": user.get_full_name() or user.username} if user else None


def customer_opening_people(customer: Customer) -> dict[str, Any]:
    """Seed 003 §1.1.1: the collector (采集人, recorded for the incentive) apart from the officer
    who opened the customer (客户信息管理岗); `opened_by` is null while the officer has not."""
    opening = customer.openings.select_related("collector", "opened_by").order_by("-id").first()
    collector = (opening.collector if opening else None) or customer.collected_by
    opener = opening.opened_by if opening else None
    return {
        "collector": collector.username if collector else None,
        "collector_name": _person(collector)["name"] if collector else "",
        "opened_by": opener.username if opener else None,
        "opened_by_name": _person(opener)["name"] if opener else "",
        "opened_at": opening.opened_at.isoformat() if opening and opening.opened_at else None,
    }


def customers_sharing_phone(*, user, customer_ids: list[int]) -> dict[str, Any]:
    """Check D's other customers as the reviewer may see them: in-scope ones listed masked,
    the rest only counted."""
    visible = scope_filter(Customer.objects.filter(pk__in=customer_ids).select_related("org_unit"), user)
    rows = [
        {
            "id": c.pk,
            "name": c.name,
            "id_number": privacy.masked("id_number", c.id_number),
            "status": c.get_status_display(),
            "org_unit": c.org_unit.name,
        }
        for c in visible
    ]
    return {"visible": rows, "hidden_count": len(customer_ids) - len(rows)}


TRAIL_ACTIONS = {
    "account_opening.submitted": "提交开户申请",
    "task.completed": "完成任务",
    "task.escalated": "超时上报",
    "task.reminded": "催办提醒",
    "customer.activated": "开户生效",
    "customer.rejected": "拒绝开户",
    "customer.returned": "退回修改",
    "customer.resubmitted": "修改后重新提交",
    "customer_amendment.requested": "提交信息修改申请",
    "customer_amendment.rejected": "拒绝信息修改",
    "customer.amended": "信息修改生效",
    "customer.frozen": "冻结客户",
    "customer.unfrozen": "解冻客户",
}
OUTCOME_LABELS = {"approve": "通过", "reject": "拒绝", "return": "退回修改", "completed": "已完成", "confirm": "确认开户", "correct": "更正后开户"}


def customer_trail(*, customer: Customer) -> list[dict[str, Any]]:
    instance_ids = [i for i in customer.openings.values_list("process_instance_id", flat=True) if i]
    events = (
        AuditEvent.objects.filter(
            Q(object_type="customers.customer", object_id=str(customer.pk))
            | Q(process_instance_id__in=instance_ids, action__in=["task.completed", "task.escalated"])
        )
        .filter(action__in=list(TRAIL_ACTIONS))
        .select_related("actor")
        .order_by("created_at", "id")
    )
    trail = []
    for e in events:
        label = TRAIL_ACTIONS[e.action]
        if e.action == "task.completed":
            step = e.data.get("name") or e.data.get("step", "")
            label = f"{label}: {step} {OUTCOME_LABELS.get(e.data.get('outcome', ''), e.data.get('outcome', ''))}".strip()
        trail.append(
            {
                "at": timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M"),
                "actor": (e.actor.get_full_name() or e.actor.username) if e.actor_id else "系统",
                "action": label,
                "comment": str(e.data.get("comment") or e.data.get("reason") or ""),
            }
        )
    return trail


REVIEW_OUTCOMES = ("approve", "reject", "return")


def opening_reviews(*, opening) -> list[dict[str, Any]]:
    """The review opinions of one opening, oldest first: each review step's decision, who took
    it, their comment and when (the printed form's 审核意见 and its reviewer's signature line)."""
    if not opening.process_instance_id:
        return []
    events = (
        AuditEvent.objects.filter(process_instance_id=opening.process_instance_id, action="task.completed")
        .filter(data__outcome__in=list(REVIEW_OUTCOMES))
        .select_related("actor")
        .order_by("created_at", "id")
    )
    return [
        {
            "step": str(e.data.get("name") or e.data.get("step") or ""),
            "reviewer": (e.actor.get_full_name() or e.actor.username) if e.actor_id else "系统",
            "outcome": OUTCOME_LABELS.get(e.data.get("outcome", ""), ""),
            "comment": str(e.data.get("comment") or ""),
            "at": timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M"),
        }
        for e in events
    ]


def opening_case_view(*, user, opening_id: Any) -> dict[str, Any]:
    """What a reviewer sees of an opening case: the customer (masked), the checks, check D's flag
    with the other customers, and the trail."""
    opening = opening_get_visible(user=user, opening_id=opening_id)
    customer = opening.customer
    scan = opening_scan(opening)
    shared = ((opening.checks or {}).get("D") or {}).get("shared_with") or {
        "customer_ids": [],
        "agent_codes": [],
    }
    return {
        "opening_id": opening.pk,
        "info_level": opening.info_level,
        "submitted_by": opening.submitted_by.username,
        "collector": opening.collector.username if opening.collector_id else None,
        "collector_name": (opening.collector.get_full_name() or opening.collector.username) if opening.collector_id else "",
        "opened_by": opening.opened_by.username if opening.opened_by_id else None,
        "opened_by_name": (opening.opened_by.get_full_name() or opening.opened_by.username) if opening.opened_by_id else "",
        "return_count": opening.return_count,
        "customer": customer_view(user=user, customer=customer, purpose="review"),
        "checks": opening.checks,
        "flags": opening.flags,
        "shared_phone": {
            "customers": customers_sharing_phone(user=user, customer_ids=shared.get("customer_ids", [])),
            "agent_codes": shared.get("agent_codes", []),
        },
        "decision_comment": opening.decision_comment,
        "scan": {"url": opening_scan_url(opening, scan), "content_type": scan.content_type} if scan else None,
        "trail": customer_trail(customer=customer),
    }

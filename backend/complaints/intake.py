"""受理: cleaning an intake, duplicate detection and group (major) complaints."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from backend.common.exceptions import InvalidValue, NotFound
from backend.complaints import clock
from backend.complaints.models import Category, Channel, Complaint, ComplaintMerge
from backend.customers.models import IdType
from backend.customers.selectors import customer_get_visible
from backend.customers.validators import normalize_phone, validate_id_number
from backend.organisation.models import SalesAgent
from backend.organisation.selectors import scope_filter
from backend.policies.models import Policy
from forms.validation import control_character_fields


def subject_key(subject: str) -> str:
    """Subjects compare without case, width or whitespace differences."""
    text = unicodedata.normalize("NFKC", subject or "")
    return "".join(text.split()).lower()[:200]


def _text(data: dict, name: str, label: str, max_length: int, errors: dict, required: bool = True) -> str:
    raw = data.get(name)
    value = "" if raw is None else str(raw).strip()
    if control_character_fields(value):
        errors[name] = [_("不能包含控制字符")]
    elif required and not value:
        errors[name] = [_("请填写%(label)s") % {"label": label}]
    elif len(value) > max_length:
        errors[name] = [_("%(label)s不能超过 %(n)s 个字符") % {"label": label, "n": max_length}]
    return value


def clean_moment(data: dict, name: str, errors: dict, *, default: datetime | None, not_before: datetime | None = None) -> datetime | None:
    """A time the user reports (receipt of a complaint, of new facts, of a withdrawal): ISO 8601,
    not in the future, at most a year back, and not before `not_before`."""
    raw = data.get(name)
    if raw in (None, ""):
        if default is None:
            errors[name] = [_("请填写时间")]
        return default
    value = parse_datetime(str(raw)) if isinstance(raw, str) else raw if isinstance(raw, datetime) else None
    if value is None:
        errors[name] = [_("时间格式无效,请使用 ISO 8601,例如 2026-05-01T09:30:00+08:00")]
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    now = clock.now()
    if value > now + timedelta(minutes=5):
        errors[name] = [_("时间不能晚于现在")]
    elif value < now - timedelta(days=366):
        errors[name] = [_("时间不能早于一年前")]
    elif not_before is not None and value < not_before.replace(second=0, microsecond=0):  # forms give minutes
        errors[name] = [_("时间不能早于 %(t)s") % {"t": timezone.localtime(not_before).strftime("%Y-%m-%d %H:%M")}]
    return value


def _agent(data: dict, name: str, errors: dict) -> SalesAgent | None:
    code = str(data.get(name) or "").strip()
    if not code:
        return None
    agent = SalesAgent.objects.filter(agent_code=code).first()
    if agent is None:
        errors[name] = [_("业务员工号 %(code)s 不存在") % {"code": code[:32]}]
    return agent


def intake_clean(data: Any, *, user) -> dict[str, Any]:
    """Field-level cleaning of an intake; raises nothing, returns values and errors."""

    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        return {"errors": {"non_field_errors": [_("请求体必须是 JSON 对象")]}}
    out: dict[str, Any] = {}
    channel = str(data.get("channel") or "").strip()
    if channel not in Channel.values:
        errors["channel"] = [_("投诉渠道无效,可选: %(c)s") % {"c": ", ".join(Channel.values)}]
    out["channel"] = channel
    category = str(data.get("category") or "").strip()
    if category not in Category.values:
        errors["category"] = [_("投诉类别无效,可选: %(c)s") % {"c": ", ".join(Category.values)}]
    out["category"] = category
    out["subject"] = _text(data, "subject", _("投诉事项"), 200, errors)
    out["description"] = _text(data, "description", _("投诉内容"), 5000, errors)
    out["complainant_name"] = _text(data, "complainant_name", _("投诉人姓名"), 100, errors)
    out["product"] = _text(data, "product", _("险种"), 100, errors, required=False)
    try:
        out["complainant_phone"] = normalize_phone(str(data.get("complainant_phone") or ""))
    except InvalidValue as exc:
        errors["complainant_phone"] = [exc.message]
    id_type = str(data.get("complainant_id_type") or "").strip()
    id_number = str(data.get("complainant_id_number") or "").strip()
    out["complainant_id_type"], out["complainant_id_number"] = "", ""
    if id_type or id_number:
        if id_type not in IdType.values:
            errors["complainant_id_type"] = [_("证件类型无效,可选: %(c)s") % {"c": ", ".join(IdType.values)}]
        elif control_character_fields(id_number):
            errors["complainant_id_number"] = [_("不能包含控制字符")]
        else:
            try:
                out["complainant_id_number"] = validate_id_number(id_type, id_number).normalized
                out["complainant_id_type"] = id_type
            except InvalidValue as exc:
                errors["complainant_id_number"] = [exc.message]
    verified = data.get("identity_verified", False)
    if not isinstance(verified, bool):
        errors["identity_verified"] = [_("请填写 true 或 false")]
    out["identity_verified"] = verified is True
    count = data.get("complainant_count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100000:
        errors["complainant_count"] = [_("投诉人数须为 1 到 100000 之间的整数")]
        count = 1
    out["complainant_count"] = count
    out["received_at"] = clean_moment(data, "received_at", errors, default=clock.now())
    out["customer"] = None
    customer_id = data.get("customer_id")
    if customer_id not in (None, ""):
        try:
            out["customer"] = customer_get_visible(user=user, customer_id=customer_id)
        except NotFound:
            errors["customer_id"] = [_("客户不存在")]
    out["policy"] = None
    policy_number = str(data.get("policy_number") or "").strip()
    if policy_number:
        policy = scope_filter(Policy.objects.all(), user).filter(policy_number=policy_number[:32]).first()
        if policy is None:
            errors["policy_number"] = [_("保单 %(n)s 不存在") % {"n": policy_number[:32]}]
        else:
            out["policy"] = policy
            out["product"] = out["product"] or policy.product
            if out["customer"] is None:
                out["customer"] = policy.policyholder
    username = str(data.get("subject_employee") or "").strip()
    out["subject_employee"] = None
    if username:
        out["subject_employee"] = get_user_model().objects.filter(username=username[:150]).first()
        if out["subject_employee"] is None:
            errors["subject_employee"] = [_("员工 %(u)s 不存在") % {"u": username[:150]}]
    out["subject_agent"] = _agent(data, "subject_agent", errors)
    out["complainant_agent"] = _agent(data, "complainant_agent", errors)
    merge_into = data.get("merge_into")
    out["merge_into"] = None
    if merge_into not in (None, ""):
        try:
            out["merge_into"] = int(merge_into)
        except (TypeError, ValueError):
            errors["merge_into"] = [_("请填写要合并到的投诉编号(id)")]
    not_duplicate = data.get("not_duplicate", False)
    if not isinstance(not_duplicate, bool):
        errors["not_duplicate"] = [_("请填写 true 或 false")]
    out["not_duplicate"] = not_duplicate is True
    out["errors"] = errors
    return out


def duplicates_of(*, phone: str, id_number: str, subject: str, received_at: datetime) -> list[Complaint]:
    """Complaints by the same complainant on the same subject within the window."""
    window = timedelta(days=clock.clock_settings()["DUPLICATE_WINDOW_DAYS"])
    same_person = Q(complainant_phone=phone)
    if id_number:
        same_person |= Q(complainant_id_number=id_number)
    return list(
        Complaint.objects.filter(same_person, subject_key=subject_key(subject), received_at__gte=received_at - window, received_at__lte=received_at + window)
        .select_related("org_unit")
        .order_by("-received_at")[:10]
    )


def complainants_on_subject(key: str, received_at: datetime) -> tuple[int, list[int]]:
    """How many complainants raised this subject within the window (merged intakes count),
    and the complaints concerned."""
    window = timedelta(days=clock.clock_settings()["DUPLICATE_WINDOW_DAYS"])
    qs = Complaint.objects.filter(subject_key=key, received_at__gte=received_at - window)
    ids = list(qs.values_list("id", flat=True))
    people = (qs.aggregate(n=Sum("complainant_count"))["n"] or 0) + ComplaintMerge.objects.filter(complaint_id__in=ids).count()
    return people, ids

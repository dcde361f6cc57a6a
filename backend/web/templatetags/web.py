"""Presentation helpers for the web templates: labels, SLA colours, local times, query strings."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from backend.customers.linkage import field_label
from backend.customers.prospects import PROSPECT_ROLES
from backend.organisation import privacy
from backend.organisation.models import Role
from backend.organisation.selectors import user_home_org_unit, user_role_assignments
from backend.segments.selectors import READER_ROLES as SEGMENT_READER_ROLES
from tasks.notifications import notification_unread_count
from tasks.selectors import sla_state as task_sla_state
from tasks.timing import task_time as task_time_of

register = template.Library()

FLAG_LABELS = {
    "shared_phone": _("电话号码重复"),
    "agent_phone": _("业务员电话"),
    "duplicate_id": _("证件号码重复"),
    "blacklist_hit": _("命中黑名单"),
}
SLA_LABELS = {
    "on_time": _("正常"),
    "due_soon": _("即将到期"),
    "overdue": _("已超时"),
    "breached_done": _("超时完成"),
    "escalated": _("超时上报"),
    "cancelled": _("已取消"),
    "none": _("无时限"),
}
OPENING_ROLES = {Role.COLLECTOR, Role.OFFICER}
COMPLAINT_ROLES = {Role.COMPLAINT_HANDLER, Role.CUSTOMER_SERVICE}


@register.simple_tag
def user_info(user) -> dict:
    """Name, roles and org unit for the top bar, which nav entries apply to the user, and the
    number of unread notifications."""
    if not getattr(user, "is_authenticated", False):
        return {}
    assignments = user_role_assignments(user)
    roles = {ra.role for ra in assignments}
    unit = user_home_org_unit(user)
    return {
        "name": user.get_full_name() or user.username,
        "roles": sorted({str(Role(r).label) if r in Role.values else r for r in roles}),
        "org_unit": unit.name if unit else "",
        "can_open": bool(roles & OPENING_ROLES),
        "handles_prospects": bool(roles & set(PROSPECT_ROLES)),
        "is_process_owner": Role.PROCESS_OWNER in roles or user.is_superuser,
        "can_blacklist": bool(roles & {Role.OFFICER, Role.COMPLIANCE, Role.REVIEWER}) or user.is_superuser,
        "is_compliance": Role.COMPLIANCE in roles,
        "is_customer_manager": Role.CUSTOMER_MANAGER in roles,
        "handles_manager_transfers": bool(roles & {Role.OFFICER, Role.UNIT_HEAD}),
        "answers_hotline": bool(roles & {Role.HOTLINE_AGENT, Role.CUSTOMER_SERVICE}),
        "sees_segments": bool(roles & SEGMENT_READER_ROLES) or user.is_superuser,
        "sees_visit_reports": bool(roles & {Role.CUSTOMER_MANAGER, Role.UNIT_HEAD}),
        "sees_revisits": bool(roles & {Role.CUSTOMER_MANAGER, Role.CUSTOMER_SERVICE, Role.UNIT_HEAD}),
        "can_import": Role.OFFICER in roles,
        "sees_complaints": bool(roles & (COMPLAINT_ROLES | {Role.COMPLIANCE})) or user.is_superuser,
        "can_accept_complaint": bool(roles & COMPLAINT_ROLES),
        "sees_quality": bool(roles & {Role.OFFICER, Role.COMPLIANCE}) or user.is_superuser,
        "sees_collector_stats": bool(roles & set(settings.CUSTFLOW["COLLECTOR_REPORT_ROLES"])) or user.is_superuser,
        "can_report": bool(roles & set(settings.CUSTFLOW["REPORT_ROLES"])) or user.is_superuser,
        "reads_complaint_analysis": bool(roles & (set(settings.CUSTFLOW["REPORT_ROLES"]) | {Role.COMPLAINT_HANDLER}))
        or user.is_superuser,
        "unread": notification_unread_count(user=user),  # the 通知 badge: one COUNT per page
    }


@register.filter
def sla_state(task) -> str:
    return task_sla_state(task)


@register.filter
def task_time(task):
    """The task's deadline, time left or overdue and reminder/escalation history (tasks/timing.py);
    a list page attaches them to its rows beforehand (`task.timing`, one query per page)."""
    timing = getattr(task, "timing", None)
    return timing if timing is not None else task_time_of(task)


@register.filter
def sla_label(state: str) -> str:
    return SLA_LABELS.get(state, state)


@register.filter
def customer_field_label(name: str) -> str:
    return field_label(name)


@register.filter
def masked(value, field: str) -> str:
    """A personal value in a list row, masked by the privacy policy (`{{ v|masked:"phone" }}`)."""
    return privacy.masked(field, value)


@register.filter
def flag_label(flag: str) -> str:
    return FLAG_LABELS.get(flag, flag)


@register.filter
def local_dt(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A datetime (or ISO string from a selector) in the site time zone (Asia/Shanghai)."""
    if not value:
        return ""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            return value
        value = parsed
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_default_timezone())
        return timezone.localtime(value).strftime(fmt)
    return str(value)


@register.simple_tag(takes_context=True)
def query_with(context, **kwargs) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def get_item(mapping, key):
    if not mapping:
        return None
    return mapping.get(key)

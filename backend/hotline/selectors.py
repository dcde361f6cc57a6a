"""What the hotline desk shows: the caller's customer whole (360°) and the calls."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from backend.common.exceptions import Forbidden
from backend.customers.linkage import customer_linkage
from backend.customers.timeline import customer_timeline
from backend.hotline.models import HotlineCall
from backend.hotline.services import user_is_agent
from backend.organisation import privacy
from backend.organisation.selectors import case_get_or_404, scope_q
from backend.segments.selectors import customer_segment_view
from backend.service.selectors import customer_manager_brief

RECENT_CONTACTS = 10


def hotline_desk_check(user) -> None:
    if not user.is_superuser and not user_is_agent(user):
        raise Forbidden(_("只有热线坐席或客服管理部可以使用热线坐席台"), code="not_hotline_agent")


def hotline_customer_view(*, user, customer) -> dict[str, Any]:
    """The 360° view: the file (under the privacy policy), policies, open cases, complaints, the
    latest contacts and changes, the segment and alerts, the customer manager, earlier calls."""
    linkage = customer_linkage(user=user, customer=customer)  # audits a full view once
    return {
        **linkage,
        "timeline": customer_timeline(user=user, customer=customer, limit=RECENT_CONTACTS, audit=False),
        "segment": customer_segment_view(customer),
        "manager": customer_manager_brief(customer),
        "calls": [call_view(c) for c in HotlineCall.objects.filter(customer=customer).select_related("agent").order_by("-id")[:5]],
    }


def hotline_calls_visible(*, user) -> QuerySet[HotlineCall]:
    """Calls taken at units in the user's scope (an agent reads his centre's; customer service above)."""
    return HotlineCall.objects.filter(scope_q(user, "org_unit")).select_related("agent", "customer", "complaint", "org_unit")


def hotline_call_get(*, user, call_id: Any) -> HotlineCall:
    return case_get_or_404(hotline_calls_visible(user=user), call_id, _("来电记录不存在"), "call_not_found")


def call_view(call: HotlineCall) -> dict[str, Any]:
    return {
        "id": call.pk,
        "caller_phone": privacy.masked("phone", call.caller_phone),
        "customer_id": call.customer_id,
        "category": call.category,
        "category_label": str(call.get_category_display()),
        "summary": call.summary,
        "outcome": call.outcome,
        "handoff": call.handoff,
        "handoff_label": str(call.get_handoff_display()),
        "complaint_id": call.complaint_id,
        "amendment_id": call.amendment_id,
        "prospect_id": call.prospect_id,
        "claim_report": call.claim_report or None,
        "claim_report_status": call.claim_report_status,
        "agent": call.agent.username,
        "created_at": call.created_at.isoformat(),
    }

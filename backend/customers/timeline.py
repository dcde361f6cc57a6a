"""客户档案动态: one timeline of what happened around a customer, newest first.

Seed 002 asks for the file's dynamic part (visits, changes of data, of work and of family) and
seed 004 for every contact under the one customer as a connected record. The timeline merges
the contact log, the field history (amendments, endorsements, profile updates), the status
events, the customer's complaints and the events other apps register (major events, claims:
`timeline_events_register`), each through the privacy policy, and keeps the newest
`TIMELINE_LIMIT` entries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from backend.customers.contacts import customer_contact_list, customer_contact_row
from backend.customers.linkage import (
    customer_complaint_rows,
    customer_field_history,
    customer_status_history,
    field_history_rows,
)
from backend.customers.models import Customer

TIMELINE_LIMIT = 100
_EVENT_PROVIDERS: list = []


def timeline_events_register(fn) -> None:
    """Another app's events in the timeline (a customer's major events, his claims):
    fn(*, user, customer, limit) -> [{"type", "at" (ISO), "title", "detail", "outcome", "actor", "id"}],
    only what `user` may see."""
    if fn not in _EVENT_PROVIDERS:
        _EVENT_PROVIDERS.append(fn)


def _at(value: str | None) -> datetime:
    parsed = parse_datetime(value) if value else None
    if parsed is None:
        return datetime.min.replace(tzinfo=timezone.get_current_timezone())
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def customer_timeline(*, user, customer: Customer, limit: int = TIMELINE_LIMIT, audit: bool = True) -> list[dict[str, Any]]:
    """Entries {"type", "at", "title", "detail", "actor", ...}, newest first, at most `limit`.
    Personal values in field changes are masked unless the user sees them in full (then, with
    `audit`, the full view is audited once)."""
    entries: list[dict[str, Any]] = []
    for c in customer_contact_list(customer=customer)[:limit]:
        row = customer_contact_row(c)
        entries.append(
            {
                "type": "contact",
                "at": row["created_at"],
                "title": f"{row['kind_label']}({row['channel_label']})",
                "detail": row["summary"],
                "outcome": row["outcome"],
                "next_step_at": row["next_step_at"],
                "actor": row["recorded_by_name"],
                "id": row["id"],
            }
        )
    changes = list(customer_field_history(customer=customer)[:limit])
    for h in field_history_rows(user=user, customer=customer, changes=changes, audit=audit):
        entries.append(
            {
                "type": "change",
                "at": h["changed_at"],
                "title": _("修改%(field)s") % {"field": h["field_label"]},
                "detail": f"{h['old_value'] or '—'} → {h['new_value'] or '—'}",
                "outcome": h["reason"],
                "masked": h["masked"],
                "actor": h["changed_by_name"],
                "id": h["id"],
            }
        )
    for s in customer_status_history(customer=customer)[-limit:]:
        entries.append(
            {
                "type": "status",
                "at": s["at"],
                "title": s["action_label"],
                "detail": s["status_label"],
                "outcome": s["comment"],
                "actor": s["actor"],
            }
        )
    for c in customer_complaint_rows(user=user, customer=customer)[:limit]:
        entries.append(
            {
                "type": "complaint",
                "at": timezone.localtime(_at(c["received_at"])).isoformat(),
                "title": _("投诉 %(number)s") % {"number": c["number"]},
                "detail": c["subject"],
                "outcome": c["status_label"],
                "actor": "",
                "id": c["id"],
            }
        )
    for provider in _EVENT_PROVIDERS:
        entries.extend(provider(user=user, customer=customer, limit=limit))
    entries.sort(key=lambda e: _at(e["at"]), reverse=True)
    return entries[:limit]

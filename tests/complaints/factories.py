"""Complaints as rows (no process): built with the ORM, bulk_create for the seeded months."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from backend.complaints.models import (
    ActionStatus,
    Category,
    Channel,
    Complaint,
    ComplaintMerge,
    ComplaintStatus,
    CorrectiveAction,
    RootCause,
)
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure

TZ = ZoneInfo("Asia/Shanghai")
PRODUCTS = ["终身寿险", "重大疾病保险", "机动车辆保险", "意外伤害保险", ""]
_seq = itertools.count(1)

# username → (role, org unit code)
COMPLAINT_USERS = {
    "handler.sz": (Role.COMPLAINT_HANDLER, "GD-SZ"),
    "handler.gz": (Role.COMPLAINT_HANDLER, "GD-GZ"),
    "handler.gd": (Role.COMPLAINT_HANDLER, "GD"),
    "handler.hz": (Role.COMPLAINT_HANDLER, "ZJ-HZ"),
    "cs.ho": (Role.CUSTOMER_SERVICE, "HO"),
}


def complaint_users() -> dict:
    """Complaint handlers at 深圳/广州/广东/杭州 and customer service at head office."""
    users = {}
    for username, (role, code) in COMPLAINT_USERS.items():
        user = user_ensure(username=username, password="demo-pass-2026", full_name=f"投诉{username}")
        role_assign(user=user, role=role, org_unit=OrgUnit.objects.get(code=code))
        users[username] = user
    return users


def complaint_build(*, org: OrgUnit, received: OrgUnit | None = None, **values) -> Complaint:
    """An unsaved complaint at `org` (responsible) accepted by `received` (default: the same)."""
    n = next(_seq)
    at = values.pop("received_at", None) or dt.datetime(2026, 10, 10, 10, tzinfo=TZ)
    creator = values.pop("created_by", None) or get_user_model().objects.order_by("id").first()
    data = {
        "number": f"TS-{n:07d}",
        "org_unit": org,
        "received_org_unit": received or org,
        "channel": Channel.HOTLINE,
        "category": Category.SERVICE,
        "subject": f"投诉事项{n}",
        "subject_key": f"subject-{n}",
        "description": "客户反映服务态度差",
        "complainant_name": f"投诉人{n}",
        "complainant_phone": f"1390000{n:04d}",
        "received_at": at,
        "clock_start": at,
        "created_by": creator,
    }
    data.update(values)
    return Complaint(**data)


def complaint_make(*, org: str = "GD-SZ", received: str | None = None, **values) -> Complaint:
    unit = OrgUnit.objects.get(code=org)
    complaint = complaint_build(
        org=unit, received=OrgUnit.objects.get(code=received) if received else None, **values
    )
    complaint.save()
    return complaint


def seed_month(
    *, month: dt.date, count: int, today: dt.date, seed: int = 5, window_days: int = 30
) -> list[Complaint]:
    """`count` complaints received in `month` (plus a fifth as many in the month before and a
    few in the month after) over every org unit, category, channel, product and root cause, in
    every state: open, closed on time / late / unknown, withdrawn, extended to 30 and 60 days,
    breached, major, handed over to another unit; complainants drawn from a small pool so that
    repeats happen, some duplicate intakes merged, corrective actions open / closed / overdue."""
    rng = random.Random(seed)
    units = list(OrgUnit.objects.order_by("path"))
    creator = get_user_model().objects.order_by("id").first()
    start = dt.datetime.combine(month, dt.time.min, tzinfo=TZ)
    next_first = (month + dt.timedelta(days=32)).replace(day=1)
    span = (dt.datetime.combine(next_first, dt.time.min, tzinfo=TZ) - start).total_seconds()
    phones = [f"1380013{i:04d}" for i in range(count // 3)]
    id_numbers = [f"44030519800101{i:04d}" for i in range(count // 6)]
    rows = []
    plan = [
        (start, span, count),
        (start - dt.timedelta(days=30), 30 * 86400, count // 5),
        (start + dt.timedelta(seconds=span), 5 * 86400, 20),
    ]
    for base, seconds, n in plan:
        for _ in range(n):
            at = base + dt.timedelta(seconds=int(rng.uniform(0, seconds - 1)))
            if rng.random() < 0.02:
                at = base  # exactly on the month boundary
            org = rng.choice(units)
            received = org if rng.random() < 0.7 else rng.choice(units)
            roll = rng.random()
            values = {
                "channel": rng.choice(Channel.values),
                "category": rng.choice(Category.values),
                "product": rng.choice(PRODUCTS),
                "root_cause": rng.choice(RootCause.values + ["", ""]),
                "complainant_phone": rng.choice(phones),
                "complainant_id_number": rng.choice(id_numbers + [""] * 4),
                "major": rng.random() < 0.05,
                "limit_days": rng.choice([15, 15, 15, 30, 60]),
                "received_at": at,
                "created_by": creator,
            }
            if roll < 0.45:
                values.update(
                    status=ComplaintStatus.CLOSED,
                    closed_at=at + dt.timedelta(days=5),
                    on_time=rng.choice([True, True, True, False, None]),
                )
            elif roll < 0.55:
                values.update(status=ComplaintStatus.WITHDRAWN, withdrawn_at=at + dt.timedelta(days=1))
            else:
                values["status"] = rng.choice(
                    [
                        ComplaintStatus.ACCEPTED,
                        ComplaintStatus.REGISTERED,
                        ComplaintStatus.HANDLING,
                        ComplaintStatus.DECIDED,
                    ]
                )
            if rng.random() < 0.1:
                values["breached_at"] = at + dt.timedelta(days=16)
            rows.append(complaint_build(org=org, received=received, **values))
    Complaint.objects.bulk_create(rows, batch_size=500)
    saved = list(Complaint.objects.order_by("id"))
    merges, actions = [], []
    for c in saved:
        for _ in range(rng.choice([0, 0, 0, 0, 1, 2])):
            merges.append(
                ComplaintMerge(
                    complaint=c,
                    complainant_name=c.complainant_name,
                    complainant_phone=c.complainant_phone,
                    channel=Channel.HOTLINE,
                    received_at=c.received_at + dt.timedelta(hours=3),
                    merged_by=creator,
                )
            )
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            closed = rng.random() < 0.4
            actions.append(
                CorrectiveAction(
                    complaint=c,
                    root_cause=c.root_cause or RootCause.OTHER,
                    description="完善销售话术",
                    owner_org_unit=c.org_unit,
                    due_date=today + dt.timedelta(days=rng.choice([-10, -1, 0, 5])),
                    status=ActionStatus.CLOSED if closed else ActionStatus.OPEN,
                    created_by=creator,
                    closed_by=creator if closed else None,
                    closing_note="已完成" if closed else "",
                )
            )
    ComplaintMerge.objects.bulk_create(merges, batch_size=500)
    CorrectiveAction.objects.bulk_create(actions, batch_size=500)
    return saved

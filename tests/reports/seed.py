"""Seeded human-task rows for report tests: written with bulk_create, straight to the table."""

from __future__ import annotations

import datetime as dt
import random

from backend.organisation.models import OrgUnit
from processes.models import ProcessInstance, ProcessVersion
from tasks.models import HumanTask

PROCESSES = {
    "individual_account_opening": ("个人客户开户", ["review", "province_review", "fix"]),
    "customer_amendment": ("客户信息修改", ["review", "identity_review"]),
    "endorsement": ("批改", ["review", "province_review", "apply"]),
}
STEP_NAMES = {
    "review": "审核",
    "province_review": "省级审核",
    "fix": "补正",
    "identity_review": "身份审核",
    "apply": "生效",
}


def seed_tasks(*, count: int, now: dt.datetime, users: list, seed: int = 8) -> None:
    """`count` tasks over every org unit, three processes and six months of deadlines around
    `now`, in every SLA state; no deadline falls within [now - 1 h, now + 12 h], so a report
    computed a little later than `now` counts the same."""
    rng = random.Random(seed)
    units = list(OrgUnit.objects.all())
    version = ProcessVersion.objects.order_by("id").first()
    instances = [
        ProcessInstance.objects.create(version=version, org_unit=units[i % len(units)], subject_type="seed")
        for i in range(20)
    ]
    rows = []
    for i in range(count):
        key = rng.choice(list(PROCESSES))
        process_name, steps = PROCESSES[key]
        step = rng.choice(steps)
        offset = rng.uniform(-170, 20) * 86400
        if -3600 <= offset <= 12 * 3600:
            offset += 14 * 3600
        due = now + dt.timedelta(seconds=offset)
        created = due - dt.timedelta(hours=rng.choice([24, 48, 72]))
        roll = rng.random()
        status, completed_at, outcome, completed_by = "ready", None, "", None
        assignee = rng.choice(users + [None, None])
        if due < now and roll < 0.75 or due >= now and roll < 0.3:
            status = "completed"
            completed_at = due + dt.timedelta(hours=rng.uniform(-40, 30))
            completed_at = min(completed_at, now - dt.timedelta(minutes=5))
            completed_at = max(completed_at, created + dt.timedelta(minutes=1))
            completed_by = assignee or rng.choice(users)
            outcome = "approve"
        elif roll < 0.85:
            status, outcome = "cancelled", rng.choice(["escalated", "escalated", "cancelled"])
        rows.append(
            HumanTask(
                instance=instances[i % len(instances)],
                engine_task_id=f"seed-{i}",
                step=step,
                name=STEP_NAMES[step],
                process_key=key,
                process_name=process_name,
                lane="city_reviewer",
                role="reviewer",
                org_unit=rng.choice(units),
                assignee=assignee if status != "completed" else completed_by,
                form_key="review",
                status=status,
                due_at=None if rng.random() < 0.02 else due,
                created_at=created,
                completed_at=completed_at,
                completed_by=completed_by,
                outcome=outcome,
            )
        )
    HumanTask.objects.bulk_create(rows, batch_size=2000)

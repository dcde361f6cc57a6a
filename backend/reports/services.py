"""SLA breach records (written by a periodic, idempotent sweep) and the monthly archive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from backend.common.audit import audit_batch, audit_download_record, audit_event_record
from backend.common.models import AuditEvent
from backend.organisation.models import OrgLevel, OrgUnit
from backend.reports.exports import report_export, report_pdf, report_xlsx
from backend.reports.models import ReportArchive, ReportRecipient, SlaBreach
from backend.reports.selectors import ReportQuery, report_archive_file, sla_report
from tasks.models import HumanTask, Notification, NotificationKind, TaskStatus
from tasks.notifications import notifications_create
from tasks.sla import metric_q

CHAIN_ACTIONS = (
    "task.claimed",
    "task.unclaimed",
    "task.transferred",
    "task.escalated",
    "task.completed",
    "task.cancelled",
)


def _who(user) -> str | None:
    return (user.get_full_name() or user.username) if user is not None else None


def _when(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def breach_chain(task: HumanTask) -> list[dict[str, Any]]:
    """Who had the task, when it moved and to whom: its creation (candidate unit and role,
    assignee), every claim / transfer / escalation / completion event, and after an escalation
    the task the process opened next (at the upper org unit)."""
    chain: list[dict[str, Any]] = [
        {
            "at": _when(task.created_at),
            "event": "created",
            "org_unit": task.org_unit.name,
            "role": task.role,
            "user": _who(task.assignee) if task.assignee_id and not task.claimed_at else None,
        }
    ]
    events = (
        AuditEvent.objects.filter(task_id=task.pk, action__in=CHAIN_ACTIONS)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    escalated_at = None
    for event in events:
        entry = {
            "at": _when(event.created_at),
            "event": event.action.split(".", 1)[1],
            "by": _who(event.actor),
        }
        if event.action == "task.transferred":
            entry.update(
                {
                    "from": event.data.get("from"),
                    "to": event.data.get("to"),
                    "reason": event.data.get("reason", ""),
                }
            )
        if event.action == "task.escalated":
            escalated_at = event.created_at
            entry.update({"from": event.data.get("from_org_unit"), "user": event.data.get("assignee")})
        chain.append(entry)
    if escalated_at is not None:
        successor = (
            HumanTask.objects.filter(instance_id=task.instance_id, created_at__gte=escalated_at)
            .exclude(pk=task.pk)
            .select_related("org_unit", "assignee")
            .order_by("created_at", "id")
            .first()
        )
        if successor is not None:
            chain.append(
                {
                    "at": _when(successor.created_at),
                    "event": "escalated_to",
                    "org_unit": successor.org_unit.name,
                    "role": successor.role,
                    "task_id": successor.pk,
                    "user": _who(successor.assignee),
                }
            )
    return chain


def _resolution(task: HumanTask) -> str:
    if task.status == TaskStatus.COMPLETED:
        return "completed"
    return "escalated" if task.outcome == "escalated" else "cancelled"


def sla_breaches_sweep(*, now: dt.datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Record every task that breached its deadline (once: one SlaBreach per task, created
    with ON CONFLICT DO NOTHING) and close the records of tasks that left the inbox. Safe to
    run by several workers at once and to re-run after a crash."""
    now = now or timezone.now()
    created = resolved = 0
    while True:
        with transaction.atomic():
            tasks = list(
                HumanTask.objects.filter(metric_q("breached", now), sla_breach__isnull=True)
                .select_related("org_unit", "assignee", "completed_by")
                .order_by("id")[:batch]
            )
            if not tasks:
                break
            rows = []
            for task in tasks:
                done = task.status != TaskStatus.READY
                rows.append(
                    SlaBreach(
                        task=task,
                        org_unit=task.org_unit,
                        process_key=task.process_key,
                        step=task.step,
                        assignee_id=task.completed_by_id or task.assignee_id,
                        due_at=task.due_at,
                        detected_at=now,
                        resolved_at=(task.completed_at or now) if done else None,
                        resolution=_resolution(task) if done else "",
                        chain=breach_chain(task),
                    )
                )
            before = SlaBreach.objects.filter(task__in=tasks).count()
            SlaBreach.objects.bulk_create(rows, ignore_conflicts=True)
            new = SlaBreach.objects.filter(task__in=tasks).count() - before
            created += new
            with audit_batch():
                for task in tasks:
                    audit_event_record(
                        actor=None,
                        action="task.sla_breached",
                        obj=task,
                        org_unit=task.org_unit,
                        process_instance_id=task.instance_id,
                        task_id=task.pk,
                        data={"step": task.step, "due_at": _when(task.due_at)},
                    )
            if len(tasks) < batch:
                break
    while True:
        with transaction.atomic():
            breaches = list(
                SlaBreach.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(resolved_at__isnull=True)
                .exclude(task__status=TaskStatus.READY)
                .select_related("task", "task__org_unit", "task__assignee")
                .order_by("id")[:batch]
            )
            for breach in breaches:
                task = breach.task
                breach.resolved_at = task.completed_at or now
                breach.resolution = _resolution(task)
                breach.assignee_id = task.completed_by_id or task.assignee_id or breach.assignee_id
                breach.chain = breach_chain(task)
                breach.save(update_fields=["resolved_at", "resolution", "assignee", "chain"])
            resolved += len(breaches)
        if len(breaches) < batch:
            break
    return {"created": created, "resolved": resolved}


def _previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def archive_units() -> list[OrgUnit]:
    """The units whose monthly reports are archived: head office and every province."""
    return list(OrgUnit.objects.filter(Q(level=OrgLevel.HEAD_OFFICE) | Q(level=OrgLevel.PROVINCE)).order_by("path"))


def report_archive_once(
    *, kind: str, unit: OrgUnit, month: dt.date, now: dt.datetime, build: Callable[[], dict[str, Any]], message: str
) -> ReportArchive | None:
    """Archive one unit's monthly report of `kind` once and notify its decision makers (the
    report recipients of that kind and unit). `build()` returns {"pdf", "xlsx", "figures",
    "document_id"}; it runs inside the transaction that holds the unit's row lock, so two
    workers cannot both archive the month. None when it was archived before."""
    with transaction.atomic():
        OrgUnit.objects.select_for_update().filter(pk=unit.pk).values_list("pk", flat=True).first()
        if ReportArchive.objects.filter(kind=kind, org_unit=unit, month=month).exists():
            return None
        built = build()
        archive = ReportArchive.objects.create(
            kind=kind, org_unit=unit, month=month, created_at=now, pdf=built["pdf"], xlsx=built["xlsx"], figures=built["figures"]
        )
        recipients = report_recipients(kind=kind, org_unit=unit)
        audit_event_record(
            actor=None,
            action="report.archived",
            obj=archive,
            org_unit=unit,
            data={
                "kind": kind,
                "month": month.isoformat(),
                "document": built["document_id"],
                "notified": [u.username for u in recipients],
            },
        )
        notifications_create(
            [Notification(user=u, kind=NotificationKind.REPORT, message=message[:300], created_at=now) for u in recipients]
        )
    return archive


def sla_report_archive(
    *, month: dt.date | None = None, now: dt.datetime | None = None
) -> list[ReportArchive]:
    """Archive the month's SLA report (by org unit × step) of head office and of every
    province as PDF and XLSX. Idempotent: an archive that exists is kept as it is."""

    now = now or timezone.now()
    month = (month or _previous_month(timezone.localdate(now))).replace(day=1)
    end = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    archived = []
    units = OrgUnit.objects.filter(Q(level=OrgLevel.HEAD_OFFICE) | Q(level=OrgLevel.PROVINCE)).order_by(
        "path"
    )
    system = _ArchiveReader()
    for unit in units:
        existing = ReportArchive.objects.filter(kind="sla_monthly", org_unit=unit, month=month).first()
        if existing is not None:
            archived.append(existing)
            continue
        query = ReportQuery(start=month, end=end, group_by=["org_unit", "step"], within=unit)
        report = sla_report(user=system, query=query, now=now)
        title = f"{unit.name} {month:%Y-%m} 时限报表"
        try:
            with transaction.atomic():
                archive = ReportArchive.objects.create(
                    kind="sla_monthly",
                    org_unit=unit,
                    month=month,
                    created_at=now,
                    pdf=report_pdf(report, title=title),
                    xlsx=report_xlsx(report, title=title),
                    figures={"totals": report["totals"], "rows": len(report["rows"])},
                )
                audit_event_record(
                    actor=None,
                    action="report.archived",
                    obj=archive,
                    org_unit=unit,
                    data={"kind": "sla_monthly", "month": month.isoformat()},
                )
        except IntegrityError:  # another worker archived it first
            archive = ReportArchive.objects.get(kind="sla_monthly", org_unit=unit, month=month)
        archived.append(archive)
    return archived


class _ArchiveReader:
    """The monthly job reads as the system: every org unit (each archive narrows with `within`)."""

    is_superuser = True
    pk = None


# ---- exports and downloads (each one audited: export.downloaded) ------------------------------


def sla_report_download(*, actor, query, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of the SLA report export, recorded in the audit trail."""

    content, content_type, filename = report_export(sla_report(user=actor, query=query), fmt)
    audit_download_record(
        actor=actor,
        kind="sla_report",
        filename=filename,
        content=content,
        data={"format": fmt, "query": query.as_params()},
    )
    return content, content_type, filename


def report_archive_download(*, actor, archive_id, fmt: str) -> tuple[bytes, str, str]:
    """One archived report file in the actor's scope, recorded in the audit trail."""

    content, content_type, filename = report_archive_file(user=actor, archive_id=archive_id, fmt=fmt)
    audit_download_record(
        actor=actor,
        kind="report_archive",
        filename=filename,
        content=content,
        object_type=ReportArchive._meta.label_lower,
        object_id=int(archive_id),
        data={"format": fmt},
    )
    return content, content_type, filename


# ---- decision makers who receive archived reports ---------------------------------------------


@transaction.atomic
def report_recipient_add(*, actor, kind: str, org_unit: OrgUnit, user):
    """Name a decision maker of `org_unit` for reports of `kind` (idempotent)."""

    recipient, created = ReportRecipient.objects.get_or_create(kind=kind, org_unit=org_unit, user=user)
    if created:
        audit_event_record(
            actor=actor,
            action="report.recipient_added",
            obj=recipient,
            org_unit=org_unit,
            data={"kind": kind, "user": user.username},
        )
    return recipient


@transaction.atomic
def report_recipient_remove(*, actor, recipient) -> None:
    audit_event_record(
        actor=actor,
        action="report.recipient_removed",
        obj=recipient,
        org_unit=recipient.org_unit,
        data={"kind": recipient.kind, "user": recipient.user.username},
    )
    recipient.delete()


def report_recipients(*, kind: str, org_unit: OrgUnit) -> list:
    """The active users named to receive `org_unit`'s reports of `kind`."""

    return [
        r.user
        for r in ReportRecipient.objects.filter(kind=kind, org_unit=org_unit, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    ]

"""The case base: what every case a process works on has (viewflow's process base model, kept
abstract so each case keeps its own table).

A case model subclasses `CaseBase` and declares only its own fields. A case that lacks one of
the base's columns (a complaint extension has no `closed_at`) removes it by setting it to None,
and one that stores it differently (complaints link their instance with a plain foreign key)
overrides it: the tables stay exactly as they were.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class CaseBase(models.Model):
    # The org unit that owns the case: lanes resolve their candidates from it, scope filters on it.
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    # The process instance working on the case (set right after the case row is created).
    process_instance = models.OneToOneField(
        "processes.ProcessInstance", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The reviewer's opinion on the last decision (approve, reject, return).
    decision_comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # The names of the case's own fields for who submitted it and where it stands (each app
    # named them before the base existed; the columns keep their names).
    SUBMITTER_FIELD = "requested_by"
    STATUS_FIELD = "status"

    class Meta:
        abstract = True

    @property
    def case_type(self) -> str:
        """`<app_label>.<model>`: the process instance's subject type and the tasks' case type."""
        return self._meta.label_lower

    @property
    def submitter(self) -> Any:
        return getattr(self, self.SUBMITTER_FIELD, None) if self.SUBMITTER_FIELD else None

    @property
    def case_status(self) -> str:
        return str(getattr(self, self.STATUS_FIELD, "") or "") if self.STATUS_FIELD else ""


def case_decide(case: CaseBase, *, status: str, actor: Any, comment: str, extra_fields: tuple[str, ...] = ()) -> None:
    """Close `case` with a reviewer's decision: its status, who decided, when, and the opinion
    (cases with `decided_by` / `decided_at`). `extra_fields`: other fields the caller set."""
    now = timezone.now()
    setattr(case, case.STATUS_FIELD, status)
    case.decided_by, case.decided_at, case.decision_comment, case.closed_at = actor, now, comment, now
    case.save(update_fields=[case.STATUS_FIELD, "decided_by", "decided_at", "decision_comment", "closed_at", *extra_fields])


def case_cancel(case: CaseBase, *, status: str, reason: str) -> None:
    """Close `case` as cancelled (撤销/撤回 of its process), the reason kept as its comment."""
    setattr(case, case.STATUS_FIELD, status)
    case.decision_comment, case.closed_at = reason, timezone.now()
    case.save(update_fields=[case.STATUS_FIELD, "decision_comment", "closed_at"])


def case_decision_fields(case: CaseBase) -> dict[str, Any]:
    """What every reviewed case shows of where it stands and who decided (API and pages)."""
    decided_by = getattr(case, "decided_by", None)
    decided_at = getattr(case, "decided_at", None)
    return {
        "status": case.case_status,
        "status_label": str(getattr(case, f"get_{case.STATUS_FIELD}_display")()),
        "decided_by": decided_by.username if decided_by else None,
        "decided_at": decided_at.isoformat() if decided_at else None,
        "decision_comment": case.decision_comment,
        "process_instance_id": case.process_instance_id,
        "created_at": case.created_at.isoformat(),
    }

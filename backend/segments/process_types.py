"""The segments' process type: 分群阈值调整 (a branch's thresholds, reviewed by its head)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from backend.organisation.lanes import LaneRule
from backend.segments import handlers, services
from backend.segments.models import ThresholdChange
from processes.types import ProcessType, process_type_register

BPMN = Path(settings.BASE_DIR) / "bpmn"

THRESHOLD_CHANGE = ProcessType(
    key=services.THRESHOLD_PROCESS,
    label="客户分群阈值调整",
    case_type=services.THRESHOLD_CASE,
    case_model=ThresholdChange,
    diagrams=(BPMN / "segments" / "segment_threshold_change.bpmn",),
    forms=("segments/threshold_review",),
    # The head of the branch (or of a unit above it) approves; four eyes.
    lanes={"unit_head_approval": LaneRule(role=services.APPROVER_ROLE, level=None, approval=True)},
    operations=("segments.threshold_approve", "segments.threshold_reject", "tasks.record_escalation", "tasks.send_reminder"),
    case_view=handlers._threshold_case,
    on_cancel=handlers._threshold_cancelled,
    permissions={"start": tuple(services.PROPOSER_ROLES)},
)
PROCESS_TYPES = (THRESHOLD_CHANGE,)


def register() -> None:
    for process_type in PROCESS_TYPES:
        process_type_register(process_type)

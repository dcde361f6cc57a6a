"""The service desk's process types: 客户经理资格审批 (seed 001 §二). Declared here, run by the
platform (processes/types.py)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from backend.organisation.lanes import LaneRule
from backend.organisation.models import Role
from backend.service import handlers, services
from backend.service.models import ManagerQualification
from processes.types import ProcessType, process_type_register

BPMN = Path(settings.BASE_DIR) / "bpmn"

QUALIFICATION = ProcessType(
    key=services.QUALIFICATION_PROCESS,
    label="客户经理资格审批",
    case_type=services.QUALIFICATION_CASE,
    case_model=ManagerQualification,
    diagrams=(BPMN / "customer_manager" / "customer_manager_qualification.bpmn",),
    forms=("customer_manager/qualification_review",),
    # The applicant's lane (the start event); the approvals use the org chart's city_reviewer and
    # province_reviewer lanes (four eyes), chosen by the gateway on the service's review_level.
    lanes={"customer_manager": LaneRule(role=Role.CUSTOMER_MANAGER, level=None, submitter=True)},
    operations=(
        "service.qualification_approve",
        "service.qualification_reject",
        "tasks.record_escalation",
        "tasks.send_reminder",
    ),
    case_view=handlers._qualification_case,
    on_cancel=handlers._qualification_cancelled,
    permissions={"start": (Role.CUSTOMER_MANAGER,)},
)
PROCESS_TYPES = (QUALIFICATION,)


def register() -> None:
    for process_type in PROCESS_TYPES:
        process_type_register(process_type)

"""The service desk's process types: 客户经理资格审批, 资格年度认证, 客户分配与移交, 离岗移交, 客户重大事件报告
and 月度走访分析报告 (seed 001 §二), 客户回访 (seed 001 §三、§四). Declared here, run by the platform (processes/types.py)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from backend.organisation.lanes import LaneRule
from backend.organisation.models import OrgLevel, Role
from backend.service import (
    assignments,
    handlers,
    major_events,
    recertification,
    revisits,
    services,
    visit_reports,
)
from backend.service.models import (
    BulkTransfer,
    CustomerAssignment,
    MajorEvent,
    ManagerQualification,
    ManagerRecertification,
    Revisit,
    VisitReport,
)
from processes.types import InboxRow, ProcessType, process_type_register

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
MAJOR_EVENT = ProcessType(
    key=major_events.MAJOR_EVENT_PROCESS,
    label="客户重大事件报告",
    case_type=major_events.MAJOR_EVENT_CASE,
    case_model=MajorEvent,
    diagrams=(BPMN / "customer_manager" / "customer_major_event.bpmn",),
    forms=("customer_manager/major_event_head", "customer_manager/major_event_centre"),
    # Both branches at once: the head of the customer's unit, and customer service at head office
    # (客户服务中心, which "guides and manages the customer managers", seed 001 §三).
    # Four eyes on both (approval=True): the reporter never acknowledges his own report.
    lanes={
        "unit_head": LaneRule(role=Role.UNIT_HEAD, level=None, approval=True),
        "service_centre": LaneRule(role=Role.CUSTOMER_SERVICE, level=OrgLevel.HEAD_OFFICE, approval=True),
    },
    operations=(
        "service.major_event_head_ack",
        "service.major_event_centre_ack",
        "service.major_event_close",
        "tasks.record_escalation",
        "tasks.send_reminder",
    ),
    case_view=handlers._major_event_case,
    on_cancel=handlers._major_event_cancelled,
    permissions={"start": tuple(major_events.REPORTER_ROLES)},
    inbox_row=InboxRow(customer_name="customer__name"),
)
RECERTIFICATION = ProcessType(
    key=recertification.RECERTIFICATION_PROCESS,
    label="客户经理资格年度认证",
    case_type=recertification.RECERTIFICATION_CASE,
    case_model=ManagerRecertification,
    diagrams=(BPMN / "customer_manager" / "customer_manager_recertification.bpmn",),
    forms=("customer_manager/recertification_assessment", "customer_manager/recertification_review"),
    # The manager's own step (the case is started in his name), then the grade's level decides
    # (city_reviewer / province_reviewer of the org chart, four eyes).
    lanes={"customer_manager": LaneRule(role=Role.CUSTOMER_MANAGER, level=None, submitter=True)},
    operations=(
        "service.recertification_submit",
        "service.recertification_decide",
        "tasks.record_escalation",
        "tasks.send_reminder",
    ),
    case_view=handlers._recertification_case,
    on_cancel=handlers._recertification_cancelled,
    # Opened by the anniversary job only (service.recertifications_open_due): nobody starts it by hand.
    permissions={"start": ()},
    inbox_row=InboxRow(submitter="manager__user"),
)
ASSIGNMENT = ProcessType(
    key=assignments.ASSIGNMENT_PROCESS,
    label="客户分配与移交",
    case_type=assignments.ASSIGNMENT_CASE,
    case_model=CustomerAssignment,
    diagrams=(BPMN / "customer_manager" / "customer_assignment.bpmn",),
    forms=("customer_manager/assignment_review",),
    # The head of the receiving manager's unit (the case's unit) approves; four eyes.
    lanes={"unit_head_approval": LaneRule(role=Role.UNIT_HEAD, level=None, approval=True)},
    operations=("service.assignment_approve", "service.assignment_reject", "tasks.record_escalation", "tasks.send_reminder"),
    case_view=handlers._assignment_case,
    on_cancel=handlers._assignment_cancelled,
    permissions={"start": tuple(assignments.REQUESTER_ROLES)},
    inbox_row=InboxRow(customer_name="customer__name"),
)
BULK_TRANSFER = ProcessType(
    key=assignments.BULK_TRANSFER_PROCESS,
    label="客户经理离岗移交",
    case_type=assignments.BULK_TRANSFER_CASE,
    case_model=BulkTransfer,
    diagrams=(BPMN / "customer_manager" / "customer_bulk_transfer.bpmn",),
    forms=("customer_manager/bulk_transfer_review",),
    # The head of the departing manager's unit approves the whole move at once; four eyes.
    lanes={"unit_head_approval": LaneRule(role=Role.UNIT_HEAD, level=None, approval=True)},
    operations=("service.bulk_transfer_approve", "service.bulk_transfer_reject", "tasks.record_escalation", "tasks.send_reminder"),
    case_view=handlers._bulk_transfer_case,
    on_cancel=handlers._bulk_transfer_cancelled,
    permissions={"start": tuple(assignments.BULK_REQUESTER_ROLES)},
)
VISIT_REPORT = ProcessType(
    key=visit_reports.VISIT_REPORT_PROCESS,
    label="客户经理月度走访分析报告",
    case_type=visit_reports.VISIT_REPORT_CASE,
    case_model=VisitReport,
    diagrams=(BPMN / "customer_manager" / "customer_manager_visit_report.bpmn",),
    forms=("customer_manager/visit_report",),
    # The manager's own step (the case is started in his name); nobody approves his report, so
    # there is no approval lane: his unit head reads it, and the late ones, on the 走访报告 page.
    lanes={"customer_manager": LaneRule(role=Role.CUSTOMER_MANAGER, level=None, submitter=True)},
    operations=("service.visit_report_submit", "tasks.record_escalation", "tasks.send_reminder"),
    validators={"service.visit_report": visit_reports.visit_report_clean},
    case_view=handlers._visit_report_case,
    # No on_cancel: the report is owed every month; the manager (its initiator) cannot 撤销 it.
    # Opened by the monthly job only (service.visit_reports_open_due): nobody starts it by hand.
    permissions={"start": ()},
    inbox_row=InboxRow(submitter="manager__user"),
)
REVISIT = ProcessType(
    key=revisits.REVISIT_PROCESS,
    label="客户回访",
    case_type=revisits.REVISIT_CASE,
    case_model=Revisit,
    diagrams=(BPMN / "customer_manager" / "customer_revisit.bpmn",),
    forms=("customer_manager/revisit_outcome",),
    # Who makes the contact (the gateway on the plan's `step`): the customer's own manager — the
    # task is his by name (`manager_id`), not his unit's — or the hotline: customer service at head
    # office (客服热线, the call centre the seed's 客服中心 runs). The hotline lane is a four-eyes
    # lane: whoever handled a complaint never makes its satisfaction call (`data_work`).
    lanes={
        "serving_manager": LaneRule(role=Role.CUSTOMER_MANAGER, level=None, assignee_key="manager_id"),
        "hotline": LaneRule(role=Role.CUSTOMER_SERVICE, level=OrgLevel.HEAD_OFFICE, approval=True),
    },
    operations=("service.revisit_complete", "tasks.record_escalation", "tasks.send_reminder"),
    validators={"service.revisit_outcome": revisits.revisit_outcome_validate},
    case_view=handlers._revisit_case,
    data_work=revisits.revisits_worked_on,
    # No on_cancel: the plan owes the contact. Opened by the daily plan job only.
    permissions={"start": ()},
    inbox_row=InboxRow(customer_name="customer__name"),
)
PROCESS_TYPES = (QUALIFICATION, MAJOR_EVENT, RECERTIFICATION, ASSIGNMENT, BULK_TRANSFER, VISIT_REPORT, REVISIT)


def register() -> None:
    for process_type in PROCESS_TYPES:
        process_type_register(process_type)

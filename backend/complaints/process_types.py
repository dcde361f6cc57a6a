"""The complaint app's process types: 投诉处理 handling, 再延期 extension and 核查 review, with
the lanes only complaints use (processes/types.py)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from backend.complaints import handlers, handling
from backend.complaints.models import Complaint, ComplaintExtension, ComplaintReview
from backend.complaints.services import COMPLAINT_PROCESS, EXTENSION_PROCESS, REVIEW_PROCESS
from backend.organisation.lanes import PARENT, LaneRule
from backend.organisation.models import OrgLevel, Role
from processes.types import InboxRow, ProcessType, process_type_register

BPMN = Path(settings.BASE_DIR) / "bpmn" / "complaints"
CASE_TEMPLATE = "web/_complaint_case.html"
# The lanes follow the case as it is handed over between org units.
LANES = {
    "complaint_handler": LaneRule(role=Role.COMPLAINT_HANDLER, level=None, assignee_key="handler_id"),
    "upper_complaint_handler": LaneRule(role=Role.COMPLAINT_HANDLER, level=PARENT),
    "opinion_giver": LaneRule(
        role=Role.COMPLAINT_HANDLER, level=None, org_unit_key="opinion_request.org_unit_id"
    ),
    "head_office_cs": LaneRule(role=Role.CUSTOMER_SERVICE, level=OrgLevel.HEAD_OFFICE),
    "city_complaint_handler": LaneRule(role=Role.COMPLAINT_HANDLER, level=OrgLevel.CITY),
    "province_complaint_handler": LaneRule(role=Role.COMPLAINT_HANDLER, level=OrgLevel.PROVINCE),
}


def _recusal(case_type: str):
    def recusal(*, user, case_id):
        return handling.interest_for_task(user=user, case_id=case_id, case_type=case_type)

    return recusal


COMPLAINT_HANDLING = ProcessType(
    key=COMPLAINT_PROCESS,
    label="客户投诉处理",
    case_type=Complaint._meta.label_lower,
    case_model=Complaint,
    diagrams=(BPMN / "complaint_handling.bpmn",),
    forms=(
        "complaints/register",
        "complaints/verify",
        "complaints/handover",
        "complaints/cross_province",
        "complaints/supervise",
        "complaints/opinion",
        "complaints/handle",
        "complaints/feedback",
    ),
    lanes=LANES,
    operations=(
        "complaints.verified",
        "complaints.registered",
        "complaints.handed_over",
        "complaints.cross_province_supervised",
        "complaints.coordination_started",
        "complaints.opinions_recorded",
        "complaints.decided",
        "complaints.closed",
        "complaints.clock_tick",
        "tasks.record_escalation",
    ),
    validators={
        "complaints.handover": handling.handover_clean,
        "complaints.handle": handling.handle_clean,
        "complaints.feedback": handling.feedback_clean,
    },
    case_view=handlers._complaint_case,
    case_template=CASE_TEMPLATE,
    recusal=_recusal(Complaint._meta.label_lower),
    inbox_row=InboxRow(number="number", customer_name="complainant_name"),
    pdf_templates=(
        "pdfs/complaint_register.html",
        "pdfs/complaint_verify.html",
        "pdfs/complaint_handover.html",
        "pdfs/complaint_handle.html",
    ),
)
COMPLAINT_EXTENSION = ProcessType(
    key=EXTENSION_PROCESS,
    label="投诉处理再延期审批",
    case_type=ComplaintExtension._meta.label_lower,
    case_model=ComplaintExtension,
    diagrams=(BPMN / "complaint_extension.bpmn",),
    forms=("complaints/extension_review",),
    lanes={name: LANES[name] for name in ("complaint_handler", "upper_complaint_handler")},
    operations=("complaints.extension_granted", "complaints.extension_refused"),
    case_view=handlers._extension_case,
    case_template=CASE_TEMPLATE,
    recusal=_recusal(ComplaintExtension._meta.label_lower),
    inbox_row=InboxRow(number="complaint__number", customer_name="complaint__complainant_name"),
)
COMPLAINT_REVIEW = ProcessType(
    key=REVIEW_PROCESS,
    label="投诉核查",
    case_type=ComplaintReview._meta.label_lower,
    case_model=ComplaintReview,
    diagrams=(BPMN / "complaint_review.bpmn",),
    forms=("complaints/review", "complaints/supervise"),
    lanes={name: LANES[name] for name in ("complaint_handler", "upper_complaint_handler")},
    operations=("complaints.review_decided",),
    case_view=handlers._review_case,
    case_template=CASE_TEMPLATE,
    recusal=_recusal(ComplaintReview._meta.label_lower),
    inbox_row=InboxRow(number="complaint__number", customer_name="complaint__complainant_name"),
)
PROCESS_TYPES = (COMPLAINT_HANDLING, COMPLAINT_EXTENSION, COMPLAINT_REVIEW)


def register() -> None:
    for process_type in PROCESS_TYPES:
        process_type_register(process_type)

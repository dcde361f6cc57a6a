"""The integration app's process types: an upstream opening an officer must handle, an imported
row to review, and a sampled customer to verify by phone (processes/types.py)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from backend.integrations import handlers
from backend.integrations.imports import IMPORT_PROCESS
from backend.integrations.models import ImportReview, IntegrationRequest, VerificationSample
from backend.integrations.services import REVIEW_PROCESS
from backend.integrations.verification import VERIFICATION_PROCESS
from processes.types import ProcessType, process_type_register

BPMN = Path(settings.BASE_DIR) / "bpmn" / "integrations"
CASE_TEMPLATE = "web/_integration_case.html"

OPENING_REVIEW = ProcessType(
    key=REVIEW_PROCESS,
    label="自动开户人工处理",
    case_type=IntegrationRequest._meta.label_lower,
    case_model=IntegrationRequest,
    diagrams=(BPMN / "integration_opening_review.bpmn",),
    forms=("integrations/opening_review",),
    operations=("integrations.request_resolve",),
    validators={"integrations.opening_review": handlers.opening_review_clean},
    case_view=handlers._request_case,
    case_template=CASE_TEMPLATE,
)
IMPORT_ROW_REVIEW = ProcessType(
    key=IMPORT_PROCESS,
    label="历史数据人工审核",
    case_type=ImportReview._meta.label_lower,
    case_model=ImportReview,
    diagrams=(BPMN / "import_row_review.bpmn",),
    forms=("integrations/import_review",),
    operations=("integrations.import_review_decide",),
    validators={"integrations.import_review": handlers._import_review_clean},
    case_view=handlers._import_case,
    case_template=CASE_TEMPLATE,
)
SAMPLE_VERIFICATION = ProcessType(
    key=VERIFICATION_PROCESS,
    label="抽样核实",
    case_type=VerificationSample._meta.label_lower,
    case_model=VerificationSample,
    diagrams=(BPMN / "sample_verification.bpmn",),
    forms=("integrations/verification_call", "integrations/verification_call_followup"),
    operations=("integrations.verification_record", "tasks.record_escalation", "tasks.send_reminder"),
    validators={
        "integrations.verification_call": handlers._verification_clean,
        "integrations.verification_call_followup": handlers._verification_followup_clean,
    },
    case_view=handlers._verification_case,
    case_template=CASE_TEMPLATE,
)
PROCESS_TYPES = (OPENING_REVIEW, IMPORT_ROW_REVIEW, SAMPLE_VERIFICATION)


def register() -> None:
    for process_type in PROCESS_TYPES:
        process_type_register(process_type)

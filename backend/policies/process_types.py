"""The policy app's process type: 批改 endorsement (processes/types.py)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from backend.policies import handlers, services
from backend.policies.models import Endorsement
from processes.types import InboxRow, ProcessType, process_type_register

ENDORSEMENT = ProcessType(
    key=services.ENDORSEMENT_PROCESS,
    label="批改",
    case_type=Endorsement._meta.label_lower,
    case_model=Endorsement,
    diagrams=(Path(settings.BASE_DIR) / "bpmn" / "endorsement" / "endorsement.bpmn",),
    forms=("endorsement/review",),
    operations=(
        "policies.endorsement_checks",
        "policies.endorsement_apply",
        "policies.endorsement_reject",
        "tasks.record_escalation",
        "tasks.send_reminder",
    ),
    validators={"policies.endorsement_review": services.endorsement_review_clean},
    case_view=handlers._endorsement_case,
    case_template="web/_endorsement_case.html",
    pdf_templates=("pdfs/endorsement_form.html",),
    # The customer of an endorsement is its policy's holder.
    inbox_row=InboxRow(customer_name="policy__policyholder__name"),
)
PROCESS_TYPES = (ENDORSEMENT,)


def register() -> None:
    for process_type in PROCESS_TYPES:
        process_type_register(process_type)

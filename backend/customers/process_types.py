"""The customer app's process types: account opening (individual and corporate), amendment and
blacklist change. Everything the platform needs to run them is declared here (processes/types.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.customers import amendments, blacklist, expiry, handlers, services
from backend.customers.models import AccountOpening, BlacklistChange, CustomerAmendment, IdDocumentRenewal
from processes.types import ProcessType, process_type_register

BPMN = Path(settings.BASE_DIR) / "bpmn"
ESCALATION_OPERATIONS = ("tasks.record_escalation", "tasks.send_reminder")
OPENING_OPERATIONS = (
    "customers.run_opening_checks",
    "customers.activate_customer",
    "customers.reject_opening",
    "customers.return_opening",
    "customers.resubmit_opening",
    "customers.officer_confirm",
    "customers.officer_correct",
    *ESCALATION_OPERATIONS,
)
CHECK_LABELS = {
    "A": gettext_lazy("A 证件是否已在客户信息库中存在"),
    "B": gettext_lazy("B 证件号码符合长度及编码规则"),
    "C": gettext_lazy("C 已取得身份证明扫描件"),
    "D": gettext_lazy("D 电话号码与其他客户或业务员是否相同"),
}


def opening_check_rows(case: dict[str, Any]) -> dict[str, Any]:
    """The task page's check table (checks A–D and the blacklist) of an opening."""
    checks = case.get("checks") or {}
    rows = [
        {
            "key": key,
            "label": label,
            "result": None if checks.get(key) is None else bool(checks[key].get("passed")),
        }
        for key, label in CHECK_LABELS.items()
    ]
    rows.append({"key": "blacklist", "label": _("黑名单"), "result": not checks.get("blacklist")})
    return {"check_rows": rows}


INDIVIDUAL_OPENING = ProcessType(
    key=services.OPENING_PROCESS,
    label="个人客户开户",
    case_type=AccountOpening._meta.label_lower,
    case_model=AccountOpening,
    diagrams=(BPMN / "account_opening" / "individual_account_opening.bpmn",),
    forms=("account_opening/officer_check", "account_opening/review", "account_opening/fix_submission"),
    operations=OPENING_OPERATIONS,
    validators={
        "customers.opening_fix": services.opening_fix_clean,
        "customers.opening_officer": services.opening_officer_clean,
    },
    case_view=handlers._opening_case,
    # Four eyes: the collector of an opening never reviews it, even when an officer submitted it.
    data_work=handlers._openings_collected_by,
    case_template="web/_opening_case.html",
    page_sections=opening_check_rows,
    on_return=handlers._opening_returned,
    on_cancel=handlers._opening_cancelled,
    pdf_templates=("pdfs/opening_form.html", "pdfs/collection_card.html"),
    permissions={"start": tuple(services.SUBMITTER_ROLES)},
)
# The corporate opening differs only in its diagram and its fix form.
CORPORATE_OPENING = replace(
    INDIVIDUAL_OPENING,
    key=services.CORPORATE_OPENING_PROCESS,
    label="法人客户开户",
    diagrams=(BPMN / "account_opening" / "corporate_account_opening.bpmn",),
    forms=(
        "account_opening/corporate_officer_check",
        "account_opening/review",
        "account_opening/corporate_fix_submission",
    ),
)
AMENDMENT = ProcessType(
    key=amendments.AMENDMENT_PROCESS,
    label="客户信息修改",
    case_type=amendments.AMENDMENT_CASE,
    case_model=CustomerAmendment,
    diagrams=(BPMN / "customer_amendment" / "customer_amendment.bpmn",),
    forms=("customer_amendment/review",),
    operations=(
        "customers.amendment_checks",
        "customers.amendment_apply",
        "customers.amendment_reject",
        *ESCALATION_OPERATIONS,
    ),
    validators={"customers.amendment_review": amendments.amendment_review_clean},
    case_view=handlers._amendment_case,
    case_template="web/_amendment_case.html",
    on_cancel=handlers._amendment_cancelled,
    pdf_templates=("pdfs/change_request.html",),
)
BLACKLIST_CHANGE = ProcessType(
    key=blacklist.BLACKLIST_PROCESS,
    label="黑名单变更",
    case_type=blacklist.BLACKLIST_CASE,
    case_model=BlacklistChange,
    diagrams=(BPMN / "blacklist" / "blacklist_change.bpmn",),
    forms=("blacklist/review",),
    operations=("customers.blacklist_apply", "customers.blacklist_reject"),
    case_view=handlers._blacklist_case,
    case_template="web/_blacklist_case.html",
    on_cancel=handlers._blacklist_cancelled,
    permissions={"start": ("officer", "compliance")},
)
ID_DOCUMENT_RENEWAL = ProcessType(
    key=expiry.RENEWAL_PROCESS,
    label="证件到期更新",
    case_type=IdDocumentRenewal._meta.label_lower,
    case_model=IdDocumentRenewal,
    diagrams=(BPMN / "id_document_renewal" / "id_document_renewal.bpmn",),
    forms=("customers/id_document_renewal",),
    operations=("customers.id_renewal_record", *ESCALATION_OPERATIONS),
    validators={"customers.id_document_renewal": handlers._id_renewal_clean},
    case_view=handlers._id_renewal_case,
    case_template="web/_id_renewal_case.html",
)
PROCESS_TYPES = (INDIVIDUAL_OPENING, CORPORATE_OPENING, AMENDMENT, BLACKLIST_CHANGE, ID_DOCUMENT_RENEWAL)


def register() -> None:
    for process_type in PROCESS_TYPES:
        process_type_register(process_type)

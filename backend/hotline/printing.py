"""The 客服信息分析报告's signed PDF: printed by the system for the monthly archive, with its own
print record so the QR code on it verifies like any other print. The table layout is the
report-table renderer the complaint analysis uses (totals, then one table per section)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from backend.complaints.analysis import Month
from backend.customers.documents import printed_document_finish, printed_document_start
from backend.customers.models import PrintedDocument
from pdfs.complaint_documents import render_analysis_table

REPORT_PRINT_KIND = "service_report"


def service_report_pdf_content(report: dict[str, Any]) -> dict[str, Any]:
    """What the signed PDF prints (hashed into its document record): plain strings only."""
    return {
        "title": f"{report['title']}（{report['scope']}）",
        "month": report["month"],
        "scope": report["scope"],
        "generated_at": timezone.localtime(report["generated_at"]).strftime("%Y-%m-%d %H:%M"),
        "totals": [{"label": str(t["label"]), "value": str(t["value"])} for t in report["totals"]],
        "sections": [
            {"title": str(s["title"]), "headers": [str(h) for h in s["headers"]], "rows": [[str(c) for c in row] for row in s["rows"]]}
            for s in report["sections"]
        ],
    }


def service_report_archive_print(*, unit, month: Month, report: dict[str, Any]) -> tuple[bytes, PrintedDocument]:
    """Call inside the archiving transaction."""
    document = printed_document_start(
        actor=None,
        kind=REPORT_PRINT_KIND,
        subject=f"{REPORT_PRINT_KIND}:archive:{month.label}:{unit.code}"[:64],
        customer_id=None,
        org_unit=unit,
    )
    content = {
        "document_id": str(document.id),
        "printed_at": timezone.localtime(document.printed_at).strftime("%Y-%m-%d %H:%M:%S"),
        "printed_by": _("系统(月度归档)"),
        "copy_number": document.copy_number,
        "org_unit": unit.name,
        **service_report_pdf_content(report),
    }
    pdf = printed_document_finish(
        actor=None,
        document=document,
        content=content,
        render=render_analysis_table,
        audit_obj=unit,
        audit_data={"month": month.label, "archive": True, "report": REPORT_PRINT_KIND},
    )
    return pdf, document

"""The 客服信息分析报告's signed PDF: printed by the system for the monthly archive, with its own
print record so the QR code on it verifies like any other print. The table layout is the
report-table renderer the complaint analysis uses (totals, then one table per section)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from backend.complaints.analysis import Month
from backend.customers.documents import printed_document_system_print
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
    return printed_document_system_print(
        kind=REPORT_PRINT_KIND,
        subject=f"{REPORT_PRINT_KIND}:archive:{month.label}:{unit.code}",
        org_unit=unit,
        content=service_report_pdf_content(report),
        render=render_analysis_table,
        audit_data={"month": month.label, "archive": True, "report": REPORT_PRINT_KIND},
    )

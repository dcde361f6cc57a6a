"""客户投诉分析表 as files: XLSX (the workbook helper shared with the SLA reports) and the table
the signed PDF prints (backend/complaints/printing.py)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_download_record
from backend.common.spreadsheets import xlsx_bytes
from backend.complaints.analysis import (
    DIMENSIONS,
    METRICS,
    Month,
    analysis_scope,
    complaint_analysis,
    dimension_labels,
    metric_labels,
)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def analysis_headers() -> list[str]:
    labels = metric_labels()
    return [labels[m] for m in METRICS] + [_("按时办结率")]


def _figures(row: dict[str, Any]) -> list[Any]:
    return [row[m] for m in METRICS] + [_rate(row["on_time_rate"])]


def analysis_sections(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One table per dimension: a row per value and the month's total last."""
    dims = dimension_labels()
    total = [_("合计"), *_figures(report["totals"])]
    return [
        {
            "name": dims[dim],
            "title": dims[dim],
            "headers": [dims[dim], *analysis_headers()],
            "rows": [[row["label"], *_figures(row)] for row in report["dimensions"][dim]] + [total],
        }
        for dim in DIMENSIONS
    ]


def analysis_totals(report: dict[str, Any]) -> list[dict[str, Any]]:
    labels = metric_labels()
    totals = report["totals"]
    return [{"label": labels[m], "value": totals[m]} for m in METRICS] + [
        {"label": _("按时办结率"), "value": _rate(totals["on_time_rate"])}
    ]


def analysis_title(scope: str) -> str:
    return f"{scope} {_('客户投诉分析表')}".strip()


def analysis_xlsx(report: dict[str, Any], *, scope: str = "") -> bytes:
    title = analysis_title(scope)
    summary = {
        "name": _("合计"),
        "title": [title, report["month"]],
        "headers": [_("指标"), _("数值")],
        "rows": [[t["label"], t["value"]] for t in analysis_totals(report)],
        "first_width": 24,
    }
    sheets = [summary]
    for section in analysis_sections(report):
        sheets.append({**section, "title": [title, report["month"], section["title"]], "first_width": 28})
    return xlsx_bytes(sheets)


def complaint_analysis_xlsx(*, user, month: Month) -> bytes:
    """The month's analysis table as the reader sees it, as an XLSX workbook."""
    report = complaint_analysis(user=user, month=month)
    return analysis_xlsx(report, scope=analysis_scope(user)[1])


def analysis_pdf_content(report: dict[str, Any], *, scope: str) -> dict[str, Any]:
    """What the signed PDF prints (hashed into its document record)."""
    return {
        "title": analysis_title(scope),
        "month": report["month"],
        "scope": scope,
        "generated_at": timezone.localtime(report["generated_at"]).strftime("%Y-%m-%d %H:%M"),
        "totals": analysis_totals(report),
        "sections": [{k: s[k] for k in ("title", "headers", "rows")} for s in analysis_sections(report)],
    }


def complaint_analysis_xlsx_download(*, user, month: Month) -> tuple[bytes, str]:
    """The XLSX export and its file name, recorded in the audit trail (export.downloaded)."""

    content = complaint_analysis_xlsx(user=user, month=month)
    filename = f"complaint-analysis-{month.label}.xlsx"
    audit_download_record(
        actor=user,
        kind="complaint_analysis_xlsx",
        filename=filename,
        content=content,
        data={"month": month.label},
    )
    return content, filename

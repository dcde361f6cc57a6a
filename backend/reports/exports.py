"""SLA report files: CSV, XLSX (openpyxl) and PDF (pdfs/, the generic report table)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.exceptions import NotFound
from backend.common.spreadsheets import csv_bytes, xlsx_bytes
from pdfs.documents import render_report_table

METRIC_COLUMNS = ("total", "on_time", "breached", "breached_done", "escalated", "overdue", "open")


def _headers(report: dict[str, Any]) -> list[str]:
    labels = {
        "total": _("任务数"),
        "on_time": _("按时完成"),
        "breached": _("超时"),
        "breached_done": _("超时后完成"),
        "escalated": _("超时上报"),
        "overdue": _("逾期未办"),
        "open": _("未到期待办"),
    }
    head = [_("分组")] + ([_("周期")] if report["period"] else [])
    return head + [labels[m] for m in METRIC_COLUMNS] + [_("按时率")]


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _rows(report: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for row in report["rows"]:
        head = [row["label"] or _("全部")] + (
            [row["key"].get("period_start", "")] if report["period"] else []
        )
        rows.append(head + [row[m] for m in METRIC_COLUMNS] + [_rate(row["on_time_rate"])])
    totals = report["totals"]
    rows.append(
        [_("合计")]
        + ([""] if report["period"] else [])
        + [totals[m] for m in METRIC_COLUMNS]
        + [_rate(totals["on_time_rate"])]
    )
    return rows


def report_csv(report: dict[str, Any]) -> bytes:
    return csv_bytes([_headers(report), *_rows(report)])


def report_xlsx(report: dict[str, Any], *, title: str = "") -> bytes:
    return xlsx_bytes(
        [
            {
                "name": "SLA",
                "title": [title or _("时限报表"), f"{report['from']} ~ {report['to']}"],
                "headers": _headers(report),
                "rows": _rows(report),
            }
        ]
    )


def report_pdf(report: dict[str, Any], *, title: str = "") -> bytes:
    generated = report.get("generated_at") or timezone.now()
    return render_report_table(
        {
            "title": title or _("时限报表"),
            "subtitle": f"{report['from']} ~ {report['to']}",
            "generated_at": timezone.localtime(generated).strftime("%Y-%m-%d %H:%M"),
            "headers": _headers(report),
            "rows": _rows(report),
        }
    )


EXPORT_FORMATS = {
    "csv": (report_csv, "text/csv; charset=utf-8"),
    "xlsx": (report_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": (report_pdf, "application/pdf"),
}


def report_export(report: dict[str, Any], fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of a report in one format; unknown formats are 404."""

    if fmt not in EXPORT_FORMATS:
        raise NotFound(_("不支持的导出格式"), code="export_format_not_found")
    render, content_type = EXPORT_FORMATS[fmt]
    return render(report), content_type, f"sla-report-{report['from']}-{report['to']}.{fmt}"

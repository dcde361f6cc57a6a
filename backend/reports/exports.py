"""SLA report files: CSV, XLSX (openpyxl) and PDF (pdfs/, the generic report table)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

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
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(_headers(report))
    writer.writerows(_rows(report))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 CSV correctly


def xlsx_bytes(sheets: list[dict[str, Any]]) -> bytes:
    """A workbook of one or more sheets: each {"name", "title" (first row), "headers" (bold,
    second row), "rows", "first_width"}; shared by the SLA and the complaint reports."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for spec in sheets:
        sheet = workbook.create_sheet(spec["name"][:31])
        sheet.append(list(spec.get("title") or []))
        sheet.append(list(spec["headers"]))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in spec["rows"]:
            sheet.append(list(row))
        for cells in sheet.iter_rows():
            for cell in cells:
                if cell.data_type == "f":  # text that looks like a formula stays text (inert)
                    cell.data_type = "s"
        sheet.column_dimensions["A"].width = spec.get("first_width", 36)
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


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
    from backend.common.exceptions import NotFound

    if fmt not in EXPORT_FORMATS:
        raise NotFound(_("不支持的导出格式"), code="export_format_not_found")
    render, content_type = EXPORT_FORMATS[fmt]
    return render(report), content_type, f"sla-report-{report['from']}-{report['to']}.{fmt}"

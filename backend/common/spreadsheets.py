"""Inert spreadsheet files: the one writer of every XLSX and CSV the system produces.

A spreadsheet program runs a cell whose text begins with ``=``, ``+``, ``-`` or ``@`` as a
formula (and tab / carriage return hide such a start from a quick look), so a complaint's
product text ``=HYPERLINK(...)`` would become a live link in a compliance officer's Excel.
Following the OWASP CSV-injection advice, every text value that begins with one of those
characters is written with a leading single quote, and XLSX text cells are written with the
string data type, so no cell ever holds a formula that came from data. Numbers, dates and
booleans stay what they are (a negative amount is a number, not text).

Nothing else in the code base may write CSV or XLSX directly (``csv.writer``,
``openpyxl.Workbook``): tests/common/test_spreadsheets_inert.py enforces it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """One cell value made safe: text starting like a formula gets a leading quote."""
    if isinstance(value, Promise):  # lazy translations are text
        value = str(value)
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def inert_row(row: Iterable[Any]) -> list[Any]:
    return [inert(value) for value in row]


def csv_bytes(rows: Iterable[Iterable[Any]], *, bom: bool = True) -> bytes:
    """A UTF-8 CSV file of the rows, every value inert (BOM: Excel opens UTF-8 CSV correctly)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow(inert_row(row))
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


class InertSheet:
    """A worksheet that only takes inert rows (no raw cell access)."""

    def __init__(self, sheet: Any) -> None:
        self._sheet = sheet

    def _cell(self, value: Any, bold: bool) -> Cell:
        value = inert(value)
        cell = Cell(self._sheet, row=1, column=1, value=value)  # append() places it
        if isinstance(value, str):
            cell.data_type = "s"  # text, never a formula, whatever it starts with
        if bold:
            cell.font = Font(bold=True)
        return cell

    def append(self, row: Iterable[Any], *, bold: bool = False) -> None:
        self._sheet.append([self._cell(value, bold) for value in row])

    def column_width(self, column: str, width: float) -> None:
        self._sheet.column_dimensions[column].width = width


class InertWorkbook:
    """An openpyxl workbook (optionally write-only, for streaming large results) whose sheets
    are InertSheets."""

    def __init__(self, *, write_only: bool = False) -> None:
        self._workbook = Workbook(write_only=write_only)
        if not write_only:
            self._workbook.remove(self._workbook.active)

    def add_sheet(self, title: str) -> InertSheet:
        return InertSheet(self._workbook.create_sheet(str(title)[:31]))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self._workbook.save(buf)
        return buf.getvalue()


def xlsx_bytes(sheets: list[dict[str, Any]]) -> bytes:
    """A workbook of one or more sheets: each {"name", "title" (first row), "headers" (bold,
    second row), "rows", "first_width"}; shared by the SLA and the complaint reports and any other export."""
    workbook = InertWorkbook()
    for spec in sheets:
        sheet = workbook.add_sheet(spec["name"])
        sheet.append(spec.get("title") or [])
        sheet.append(spec["headers"], bold=True)
        for row in spec["rows"]:
            sheet.append(row)
        sheet.column_width("A", spec.get("first_width", 36))
    return workbook.to_bytes()

"""Report tables as CSV and XLSX files.

XLSX cells keep their types (numbers are numbers, days are dates with a date format),
so a spreadsheet can sum and sort them. In CSV, text that a spreadsheet would read as a
formula (starting with = + - @, a tab or a carriage return) gets a leading quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Table:
    """A report table: its name (the file name), column keys and headers, and rows."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (key, header)
    rows: Sequence[dict[str, Any]]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(round(value, 6))
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def to_csv(table: Table) -> bytes:
    """The table as UTF-8 CSV with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([header for _, header in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(row.get(key)) for key, _ in table.columns])
    return buffer.getvalue().encode()


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"  # text, never a formula (openpyxl reads "=..." as one)
        return cell
    return value


def to_xlsx(table: Table) -> bytes:
    """The table as an XLSX workbook of one sheet, numbers and dates typed."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.name[:31])
    sheet.append([header for _, header in table.columns])
    for row in table.rows:
        sheet.append([_xlsx_cell(sheet, row.get(key)) for key, _ in table.columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export(table: Table, fmt: str) -> tuple[bytes, str]:
    """The file's bytes and media type."""
    if fmt == "csv":
        return to_csv(table), "text/csv; charset=utf-8"
    if fmt == "xlsx":
        return (
            to_xlsx(table),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    raise ValueError(f"unknown export format {fmt!r}")

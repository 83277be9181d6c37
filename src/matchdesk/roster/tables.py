"""Reading a spreadsheet (CSV or the first sheet of an XLSX) into rows of text cells.

Nothing here knows what the columns mean; it only turns bytes into text and refuses, with a
clear message, what is not a readable table: an empty file, a binary file, a CSV that is not
UTF-8, a broken or legacy Excel file.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from matchdesk.errors import InvalidInput

MAX_CELL = 10_000  # longer cells are refused before csv or openpyxl have to hold them
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class Table:
    """A header and its data rows; `rows` pairs each row's number as a spreadsheet shows it
    (the header is row 1) with its cells, blank rows left out."""

    header: list[str]
    rows: list[tuple[int, list[str]]]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _read_xlsx(data: bytes, name: str) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidInput(f"{name} is not a readable XLSX workbook ({exc})") from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _read_csv(data: bytes, name: str) -> list[list[str]]:
    if b"\x00" in data[:8192]:
        raise InvalidInput(
            f"{name} looks like a binary file, not CSV text; "
            "export the sheet as 'CSV UTF-8' or XLSX"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "re-save it as 'CSV UTF-8' in your spreadsheet program"
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    csv.field_size_limit(MAX_CELL * 10)
    try:
        return [
            [cell.strip() for cell in row]
            for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        ]
    except csv.Error as exc:
        raise InvalidInput(f"{name} is not a valid CSV file: {exc}") from None


def read_table(data: bytes, name: str) -> Table:
    """The table in `data` (the file's bytes); `name` (a file name) picks the format by its
    extension and is used in messages. XLSX content is recognised whatever the extension."""
    if not data.strip():
        raise InvalidInput(
            f"{name} is empty: the first row must be the header (handle, timezone, ...)"
        )
    if data.startswith(_XLS_MAGIC):
        raise InvalidInput(f"{name} is an old Excel .xls file; save it as .xlsx or 'CSV UTF-8'")
    suffix = Path(name).suffix.lower()
    if data.startswith(_XLSX_MAGIC) or suffix in (".xlsx", ".xlsm"):
        raw = _read_xlsx(data, name)
    else:
        raw = _read_csv(data, name)
    numbered = [(i + 1, row) for i, row in enumerate(raw) if any(cell for cell in row)]
    if not numbered:
        raise InvalidInput(
            f"{name} is empty: the first row must be the header (handle, timezone, ...)"
        )
    header_number, header = numbered[0]
    if header_number != 1:
        numbered = [(n - header_number + 1, row) for n, row in numbered]
    while header and not header[-1]:
        header.pop()
    return Table(header=[h.strip() for h in header], rows=numbered[1:])


def write_csv(header: list[str], rows: list[list[str | int]]) -> bytes:
    """CSV UTF-8 with a header row, as spreadsheets read it back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def write_xlsx(header: list[str], rows: list[list[str | int]], title: str) -> bytes:
    """One sheet with a bold, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    bold = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

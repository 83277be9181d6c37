"""Reading a spreadsheet (CSV or the first sheet of an XLSX) into rows of text cells, and
writing one back.

Nothing here knows what the columns mean; it only turns bytes into text and refuses, with a
clear message, what is not a readable table: an empty file, a binary file, a CSV that is not
UTF-8, a broken or legacy Excel file, or one past the limits (`Limits`).

The limits hold while reading: an XLSX is read by a streaming XML parser of our own (expat),
which counts rows, columns, cells and bytes as they arrive and stops at the first one past
its limit, after checking the uncompressed size of every part of the zip before opening it.
The sheet's declared `<dimension>` is ignored: a stale one must not drop rows, and a huge one
must not make anybody pad rows to it (openpyxl's read-only mode does both).

Writing: a CSV cell that a spreadsheet would run as a formula (it begins with `=`, `+`,
`-`, `@`, a tab or a carriage return) is prefixed with a quote, as OWASP advises, and the
quote is taken off again when the file is read back, so an export imports unchanged; an
XLSX string cell is always written as text, numbers and dates as typed cells.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from matchdesk.errors import InvalidInput

MAX_CELL = 10_000  # what the column rules see; longer cells are reported there
_HARD_CELL = MAX_CELL * 10  # a cell longer than this refuses the file while it is read
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_CHUNK = 1 << 16
# The characters a spreadsheet reads as the start of a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Limits:
    """How big a table may be. Rows count as a spreadsheet numbers them; columns and cells
    count only cells holding a value; `part_bytes` bounds each uncompressed part of an
    XLSX and `total_bytes` all of them together."""

    rows: int = 1_048_576  # Excel's own limit
    columns: int = 100
    cells: int = 20_000_000
    part_bytes: int = 1 << 30
    total_bytes: int = 3 << 29


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Table:
    """A header and its data rows; `rows` pairs each row's number as a spreadsheet shows it
    (the header is row 1) with its cells, blank rows left out."""

    header: list[str]
    rows: list[tuple[int, list[str]]]


def _column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Counter:
    """Rows, columns and cells of one file against its limits."""

    def __init__(self, name: str, limits: Limits) -> None:
        self.name = name
        self.limits = limits
        self.cells = 0

    def row(self, number: int) -> None:
        if number > self.limits.rows:
            raise InvalidInput(
                f"{self.name} has a row {number:,}: at most {self.limits.rows:,} rows are read"
            )

    def cell(self, number: int, column: int) -> None:
        if column > self.limits.columns:
            raise InvalidInput(
                f"{self.name}, row {number}, column {_column_letters(column)}: a value beyond "
                f"column {_column_letters(self.limits.columns)}; at most "
                f"{self.limits.columns} columns are read"
            )
        self.cells += 1
        if self.cells > self.limits.cells:
            raise InvalidInput(
                f"{self.name} has more than {self.limits.cells:,} cells; split the file"
            )

    def too_long(self, number: int, column: int) -> InvalidInput:
        return InvalidInput(
            f"{self.name}, row {number}, column {_column_letters(column)}: a cell of more "
            f"than {_HARD_CELL:,} characters"
        )


# --- XLSX -----------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit(":", 1)[-1]


def _attr(attrs: dict[str, str], local: str) -> str | None:
    for key, value in attrs.items():
        if _local(key) == local:
            return value
    return None


class _Unreadable(Exception):
    pass


def _has(zf: zipfile.ZipFile, member: str) -> bool:
    try:
        zf.getinfo(member)
    except KeyError:
        return False
    return True


def _parse(
    zf: zipfile.ZipFile,
    member: str,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None],
    text: Callable[[str], None] | None = None,
) -> None:
    """Stream one part of the zip through expat; a DOCTYPE (entity tricks) is refused."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = lambda tag, attrs: start(_local(tag), attrs)
    parser.EndElementHandler = lambda tag: end(_local(tag))
    if text is not None:
        parser.CharacterDataHandler = text

    def doctype(*_: object) -> None:
        raise _Unreadable(f"{member} declares a DOCTYPE")

    parser.StartDoctypeDeclHandler = doctype
    with zf.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)


def _relationships(zf: zipfile.ZipFile, member: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, target path in the zip) of a .rels part (empty when it is missing)."""
    if not _has(zf, member):
        return {}
    base = posixpath.dirname(posixpath.dirname(member))
    found: dict[str, tuple[str, str]] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(path))

    _parse(zf, member, start, lambda tag: None)
    return found


def _rels_of(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


class _TextCollector:
    """Character data of the elements being collected, bounded while it arrives."""

    def __init__(self, on_too_long: Callable[[], Exception]) -> None:
        self.active = False
        self.parts: list[str] = []
        self.size = 0
        self.on_too_long = on_too_long

    def __call__(self, data: str) -> None:
        if self.active:
            self.size += len(data)
            if self.size > _HARD_CELL:
                raise self.on_too_long()
            self.parts.append(data)

    def take(self) -> str:
        value = "".join(self.parts)
        self.parts, self.size = [], 0
        return value


def _shared_strings(zf: zipfile.ZipFile, member: str | None, counter: _Counter) -> list[str]:
    strings: list[str] = []
    if member is None or not _has(zf, member):
        return strings
    collector = _TextCollector(
        lambda: InvalidInput(
            f"{counter.name}: shared string {len(strings) + 1} has more than "
            f"{_HARD_CELL:,} characters"
        )
    )
    depth_rph = [0]

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "rPh":  # phonetic hints are not part of the text
            depth_rph[0] += 1
        elif tag == "t" and not depth_rph[0]:
            collector.active = True

    def end(tag: str) -> None:
        if tag == "rPh":
            depth_rph[0] -= 1
        elif tag == "t":
            collector.active = False
        elif tag == "si":
            strings.append(collector.take())
            if len(strings) > counter.limits.cells:
                raise InvalidInput(
                    f"{counter.name} has more than {counter.limits.cells:,} shared strings"
                )

    _parse(zf, member, start, end, collector)
    return strings


def _date_styles(zf: zipfile.ZipFile, member: str | None) -> set[int]:
    """The indexes of the cell formats that show a number as a date or time."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    if member is None or not _has(zf, member):
        return set()
    custom: dict[int, str] = {}
    formats: list[int] = []
    inside = {"cellXfs": False}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "numFmt":
            custom[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            inside["cellXfs"] = True
        elif tag == "xf" and inside["cellXfs"]:
            formats.append(int(attrs.get("numFmtId", "0")))

    def end(tag: str) -> None:
        if tag == "cellXfs":
            inside["cellXfs"] = False

    _parse(zf, member, start, end)
    dates = set()
    for index, format_id in enumerate(formats):
        code = custom.get(format_id, BUILTIN_FORMATS.get(format_id, "General"))
        if is_date_format(code):
            dates.add(index)
    return dates


_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)$")
_INTEGER = re.compile(r"-?\d{1,17}$")


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index


def _number_text(raw: str, is_date: bool, epoch: datetime) -> str:
    raw = raw.strip()
    if not raw:
        return ""
    if _INTEGER.match(raw) and not is_date:
        return raw.lstrip("+")
    value = float(raw)
    if is_date:
        from openpyxl.utils.datetime import from_excel

        converted: Any = from_excel(value, epoch)
        return str(converted.isoformat() if hasattr(converted, "isoformat") else converted)
    if value.is_integer() and abs(value) < 1e17:
        return str(int(value))
    return str(value)


def _sheet_rows(data: bytes, name: str, counter: _Counter) -> Iterator[tuple[int, list[str]]]:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InvalidInput(f"{name} is not a readable XLSX workbook ({exc})") from None
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > counter.limits.part_bytes or total > counter.limits.total_bytes:
            raise InvalidInput(
                f"{name} unpacks to more than "
                f"{min(counter.limits.part_bytes, counter.limits.total_bytes) // 2**20:,} MB "
                f"(its part {info.filename} alone to {info.file_size // 2**20:,} MB)"
            )
    root = _relationships(zf, "_rels/.rels")
    workbook = next(
        (t for kind, t in root.values() if kind.endswith("/officeDocument")), "xl/workbook.xml"
    )
    if not _has(zf, workbook):
        raise InvalidInput(f"{name} is not a readable XLSX workbook (no workbook part)")
    sheets: list[str] = []
    epoch = [CALENDAR_WINDOWS_1900]

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "sheet":
            sheets.append(_attr(attrs, "id") or "")
        elif tag == "workbookPr" and attrs.get("date1904") in ("1", "true"):
            epoch[0] = CALENDAR_MAC_1904

    _parse(zf, workbook, start, lambda tag: None)
    rels = _relationships(zf, _rels_of(workbook))
    by_kind = {kind.rsplit("/", 1)[-1]: target for kind, target in rels.values()}
    if not sheets or sheets[0] not in rels:
        raise InvalidInput(f"{name} is not a readable XLSX workbook (it has no sheet)")
    sheet = rels[sheets[0]][1]
    if not _has(zf, sheet):
        raise InvalidInput(f"{name} is not a readable XLSX workbook (its first sheet is missing)")
    strings = _shared_strings(zf, by_kind.get("sharedStrings"), counter)
    dates = _date_styles(zf, by_kind.get("styles"))
    yield from _stream_sheet(zf, sheet, strings, dates, epoch[0], counter)


def _stream_sheet(
    zf: zipfile.ZipFile,
    member: str,
    strings: list[str],
    dates: set[int],
    epoch: datetime,
    counter: _Counter,
) -> Iterator[tuple[int, list[str]]]:
    done: list[tuple[int, list[str]]] = []
    state: dict[str, Any] = {"row": 0, "col": 0, "type": "n", "style": 0, "cells": {}}
    collector = _TextCollector(lambda: counter.too_long(state["row"], state["col"]))
    in_is = [False]

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "row":
            number = attrs.get("r")
            state["row"] = int(number) if number and number.isdigit() else state["row"] + 1
            counter.row(state["row"])
            state["col"] = 0
            state["cells"] = {}
        elif tag == "c":
            ref = _CELL_REF.match(attrs.get("r", ""))
            if ref:
                state["col"] = _column_index(ref.group(1))
            else:
                state["col"] += 1
            state["type"] = attrs.get("t", "n")
            state["style"] = int(attrs.get("s", "0") or 0)
            collector.take()
        elif tag == "v" or (tag == "t" and in_is[0]):
            collector.active = True
        elif tag == "is":
            in_is[0] = True

    def end(tag: str) -> None:
        if tag in ("v", "t"):
            collector.active = False
        elif tag == "is":
            in_is[0] = False
        elif tag == "c":
            raw = collector.take()
            kind = state["type"]
            if kind == "s":
                try:
                    value = strings[int(raw)]
                except (ValueError, IndexError):
                    raise _Unreadable(f"a shared string {raw!r} that does not exist") from None
            elif kind == "b":
                value = "true" if raw.strip() in ("1", "true") else "false"
            elif kind in ("inlineStr", "str", "e", "d"):
                value = raw
            else:
                value = _number_text(raw, state["style"] in dates, epoch)
            value = value.strip()
            if value:
                counter.cell(state["row"], state["col"])
                state["cells"][state["col"]] = value
        elif tag == "row":
            cells: dict[int, str] = state["cells"]
            if cells:
                row = [""] * max(cells)
                for column, value in cells.items():
                    row[column - 1] = value
                done.append((state["row"], row))

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = lambda tag, attrs: start(_local(tag), attrs)
    parser.EndElementHandler = lambda tag: end(_local(tag))
    parser.CharacterDataHandler = collector

    def doctype(*_: object) -> None:
        raise _Unreadable(f"{member} declares a DOCTYPE")

    parser.StartDoctypeDeclHandler = doctype
    with zf.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
            yield from done
            done.clear()
        parser.Parse(b"", True)
        yield from done


def _read_xlsx(data: bytes, name: str, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    counter = _Counter(name, limits)
    try:
        yield from _sheet_rows(data, name, counter)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, expat.ExpatError) as exc:
        raise InvalidInput(f"{name} is not a readable XLSX workbook ({exc})") from None
    except _Unreadable as exc:
        raise InvalidInput(f"{name} is not a readable XLSX workbook ({exc})") from None


# --- CSV ------------------------------------------------------------------------------------


def _unquote(cell: str) -> str:
    """A cell as written before `write_csv` neutralised it."""
    if cell.startswith("'") and cell[1:2] and (cell[1] in FORMULA_START or cell[1] == "'"):
        return cell[1:]
    return cell


# Characters whose presence anywhere in a CSV means its cells may need more than the
# common case's work: quotes (a quoted cell, or a cell `write_csv` neutralised with "'")
# and the whitespace a cell could begin or end with (str.strip's ASCII set; a line break
# or carriage return is inside a cell only when the cell is quoted).
_PLAIN_BREAKERS = ('"', "'", " ", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


def _plain(text: str, delimiter: str) -> bool:
    """Whether no cell of `text` can need stripping or unquoting: ASCII, none of the
    characters above (nor a tab unless it is the delimiter). Then every cell is read as
    is, which gives exactly what stripping and unquoting would."""
    if not text.isascii():
        return False
    if delimiter != "\t" and "\t" in text:
        return False
    return not any(ch in text for ch in _PLAIN_BREAKERS)


def _read_csv(data: bytes, name: str, limits: Limits) -> Iterator[tuple[int, list[str]]]:
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
    end = text.find("\n")
    first_line = text if end < 0 else text[:end]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    plain = _plain(text, delimiter)
    del text  # read again as a stream: a StringIO of it would hold four bytes a character
    csv.field_size_limit(_HARD_CELL)
    counter = _Counter(name, limits)
    max_rows, max_columns, max_cells = limits.rows, limits.columns, limits.cells
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="\n")
    number = 0
    try:
        for row in csv.reader(stream, delimiter=delimiter):
            number += 1
            if number > max_rows:
                counter.row(number)
            cells = row if plain else [_unquote(cell.strip()) for cell in row]
            while cells and not cells[-1]:
                cells.pop()
            if not cells:
                continue
            if len(cells) > max_columns or counter.cells + len(cells) > max_cells:
                for column, cell in enumerate(cells, 1):  # the exact message
                    if cell:
                        counter.cell(number, column)
            else:
                counter.cells += len(cells) - cells.count("")
            yield number, cells
    except csv.Error as exc:
        raise InvalidInput(f"{name} is not a valid CSV file (line {number + 1}): {exc}") from None


def read_table(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> Table:
    """The table in `data` (the file's bytes); `name` (a file name) picks the format by its
    extension and is used in messages. XLSX content is recognised whatever the extension.
    Raises `InvalidInput` for an unreadable file or one past `limits`, as soon as it
    reads the part that is."""
    if not data.strip():
        raise InvalidInput(
            f"{name} is empty: the first row must be the header (handle, timezone, ...)"
        )
    if data.startswith(_XLS_MAGIC):
        raise InvalidInput(f"{name} is an old Excel .xls file; save it as .xlsx or 'CSV UTF-8'")
    suffix = Path(name).suffix.lower()
    if data.startswith(_XLSX_MAGIC) or suffix in (".xlsx", ".xlsm"):
        numbered = list(_read_xlsx(data, name, limits))
    else:
        numbered = list(_read_csv(data, name, limits))
    if not numbered:
        raise InvalidInput(
            f"{name} is empty: the first row must be the header (handle, timezone, ...)"
        )
    header_number, header = numbered[0]
    if header_number != 1:
        numbered = [(n - header_number + 1, row) for n, row in numbered]
    return Table(header=[h.strip() for h in header], rows=numbered[1:])


# --- Writing --------------------------------------------------------------------------------

Cell = str | int | float | date | datetime | None


def neutralise(value: Cell) -> Cell:
    """A CSV cell a spreadsheet will not run as a formula: text starting like one (or
    with the quote itself, so reading back is exact) gets a leading quote."""
    if isinstance(value, str) and value.startswith((*FORMULA_START, "'")):
        return "'" + value
    return value


def iter_csv(
    header: list[str], rows: Iterable[Sequence[Cell]], batch: int = 1000
) -> Iterator[bytes]:
    """CSV UTF-8 with a header row, in pieces of `batch` rows (for a streamed answer)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    pending = 0
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
        pending += 1
        if pending >= batch:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
            pending = 0
    yield out.getvalue().encode("utf-8")


def write_csv(header: list[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """CSV UTF-8 with a header row, as spreadsheets read it back; formula-leading text
    is neutralised (see `neutralise`)."""
    return b"".join(iter_csv(header, rows))


def write_xlsx_to(
    target: IO[bytes], header: list[str], rows: Iterable[Sequence[Cell]], title: str
) -> None:
    """One sheet with a bold, frozen header row, written to `target` (openpyxl's
    write-only mode keeps the rows in a temporary file, not in memory). Text is always a
    text cell, never a formula; numbers and dates stay typed."""
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
        cells: list[Any] = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # openpyxl would make a formula of "=..."
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    workbook.save(target)


def write_xlsx(header: list[str], rows: Iterable[Sequence[Cell]], title: str) -> bytes:
    """One sheet with a bold, frozen header row (see `write_xlsx_to`)."""
    out = io.BytesIO()
    write_xlsx_to(out, header, rows, title)
    return out.getvalue()

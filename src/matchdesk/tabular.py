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
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

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


def refuse(name: str, problems: Sequence[str], what: str = "imported") -> InvalidInput:
    """The error for a file with `problems`: every one of them, and nothing written."""
    count = len(problems)
    return InvalidInput(
        f"{name}: {count} problem{'s' if count != 1 else ''} found; nothing was {what}",
        list(problems),
    )

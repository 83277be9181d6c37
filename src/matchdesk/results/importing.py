"""Validating a session results file (SPEC section 4) with the shared import machinery
(`matchdesk.tabular`), row by row and in chunks, so that a million rows never sit in
memory as objects: each chunk's valid rows go to the import's staging table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

from matchdesk.results.records import (
    COLUMNS,
    MAX_DURATION_MINUTES,
    OUTCOMES,
    REQUIRED_COLUMNS,
)
from matchdesk.results.staging import Stage
from matchdesk.roster.importing import normalize_handle, parse_count
from matchdesk.roster.tables import Table
from matchdesk.tabular import CellError, Columns, Problems, parse_columns, unknown_column

CHUNK = 20_000
Progress = Callable[[str, int, int], None]


def parse_started_at(text: str) -> datetime:
    """ISO 8601 with an offset or `Z`, as an aware UTC datetime; no offset is refused."""
    raw = text.strip()
    if not raw:
        raise CellError("a start time is required (ISO 8601, e.g. 2026-03-09T19:00:00Z)")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise CellError(
            f"'{raw}' is not an ISO 8601 time (e.g. 2026-03-09T19:00:00Z or "
            "2026-03-09T19:00:00+05:30)"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CellError(
            f"'{raw}' has no UTC offset; add one or Z (e.g. {moment.isoformat()}Z), "
            "a time alone is ambiguous"
        )
    moment = moment.astimezone(UTC)
    if not 2000 <= moment.year <= 2099:
        raise CellError(f"'{raw}' is not a plausible session start (years 2000 to 2099)")
    return moment


def _count(text: str) -> int:
    if len(text) < 15 and text.isdigit() and text.isascii():
        return int(text)  # the common case, without parse_count's stripping and Decimal
    return parse_count(text)


def _duration(text: str) -> int:
    minutes = _count(text)
    if not 1 <= minutes <= MAX_DURATION_MINUTES:
        raise CellError(f"'{text.strip()}' minutes is out of range (1 to {MAX_DURATION_MINUTES})")
    return minutes


def _optional_count(text: str) -> int | None:
    if not text or text.isspace():
        return None
    return _count(text)


def _match_id(text: str) -> int | None:
    raw = text.strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or int(raw) == 0:
        raise CellError(f"'{raw}' is not a match id (a whole number such as 1234)")
    return int(raw)


def _outcome(text: str) -> str | None:
    value = text.strip().lower()
    if not value:
        return None
    if value not in OUTCOMES:
        raise CellError(f"'{text.strip()}' is not an outcome (use win, loss or draw)")
    return value


_normalize_handle = lru_cache(maxsize=65_536)(normalize_handle)


def _digits(cells: Sequence[str]) -> bool:
    """Every cell a run of ASCII digits short enough for `_count`'s common case."""
    joined = "".join(cells)
    return (
        joined.isdigit()
        and joined.isascii()
        and all(cells)
        and max(map(len, cells), default=0) < 15
    )


def _counts(cells: Sequence[str]) -> list[object] | None:
    return list(map(int, cells)) if _digits(cells) else None


def _durations(cells: Sequence[str]) -> list[object] | None:
    if not _digits(cells):
        return None
    minutes = list(map(int, cells))
    if minutes and not (min(minutes) >= 1 and max(minutes) <= MAX_DURATION_MINUTES):
        return None
    return minutes  # type: ignore[return-value]


def _optional_counts(cells: Sequence[str]) -> list[object] | None:
    if not any(cells):
        return [None] * len(cells)
    return _counts(cells)


def _nothing_or_none(cells: Sequence[str]) -> list[object] | None:
    """An empty column is None throughout (match_id, outcome); otherwise cell by cell."""
    return None if any(cells) else [None] * len(cells)


_TZINFO = attrgetter("tzinfo")


def _handles_of(cells: Sequence[str]) -> list[object] | None:
    """Each distinct handle of the chunk normalised once."""
    try:
        normal = {cell: _normalize_handle(cell) for cell in set(cells)}
    except CellError:
        return None
    return list(map(normal.__getitem__, cells))


def _starts(cells: Sequence[str]) -> list[object] | None:
    """The common case of a whole column of UTC times (`Z` or +00:00), in range."""
    try:
        moments = list(map(datetime.fromisoformat, cells))
    except ValueError:
        return None
    if not moments:
        return []
    if set(map(_TZINFO, moments)) != {UTC}:
        return None
    if min(moments).year < 2000 or max(moments).year > 2099:
        return None
    return moments  # type: ignore[return-value]


RESULTS_COLUMNS = Columns(
    COLUMNS,
    REQUIRED_COLUMNS,
    {
        "handle": _normalize_handle,
        "started_at": parse_started_at,
        "duration_minutes": _duration,
        "diamonds": _count,
        "viewers_peak": _optional_count,
        "new_followers": _optional_count,
        "match_id": _match_id,
        "outcome": _outcome,
    },
    {"started_at": 40, "duration_minutes": 20, "match_id": 20, "outcome": 10},
    default_max_length=30,
    bulk={
        "handle": _handles_of,
        "started_at": _starts,
        "duration_minutes": _durations,
        "diamonds": _counts,
        "viewers_peak": _optional_counts,
        "new_followers": _optional_counts,
        "match_id": _nothing_or_none,
        "outcome": _nothing_or_none,
    },
)


def stage_rows(
    stage: Stage,
    rows: list[tuple[int, list[str]]],
    problems: Problems,
    progress: Progress | None = None,
) -> None:
    """Validate `rows` (consumed: each chunk is released once staged) and stage the valid
    ones; every problem goes to `problems`."""
    total = len(rows)
    columns = RESULTS_COLUMNS
    if stage.streams:  # no lookups while the COPY is open: every handle first
        normal = _handles(rows, problems.columns)
        stage.resolve(set(normal.values()))
        # each chunk's handles from this file's own table (each distinct cell normalised
        # once for the whole file, not once a chunk)
        columns = replace(
            RESULTS_COLUMNS, bulk={**RESULTS_COLUMNS.bulk, "handle": _handles_from(normal)}
        )
    with stage.streaming():
        _stage_chunks(stage, rows, problems, total, progress, columns)


def _handles(rows: list[tuple[int, list[str]]], columns: list[str]) -> dict[str, str]:
    """Each distinct handle cell of `rows` that is a valid handle, with its normalised
    form (looked up in bulk before the rows stream)."""
    position = columns.index("handle")
    normalize = normalize_handle
    raw = {cells[position] for _, cells in rows if position < len(cells)}
    found: dict[str, str] = {}
    for text in raw:
        with suppress(CellError):
            found[text] = normalize(text)
    return found


def _handles_from(normal: dict[str, str]) -> Callable[[Sequence[str]], list[object] | None]:
    """A whole-column parser of handles from `normal` (cell -> handle); None when a cell
    is not in it (not a valid handle: the cell by cell path says why)."""

    def handles(cells: Sequence[str]) -> list[object] | None:
        try:
            return list(map(normal.__getitem__, cells))
        except KeyError:
            return None

    return handles


def _stage_chunks(
    stage: Stage,
    rows: list[tuple[int, list[str]]],
    problems: Problems,
    total: int,
    progress: Progress | None,
    columns: Columns = RESULTS_COLUMNS,
) -> None:
    done = 0
    while rows:
        chunk = rows[:CHUNK]
        del rows[:CHUNK]
        items, invalid = parse_columns(chunk, columns, problems, COLUMNS)
        # invalid rows' handles are checked all the same
        others = [(n, v["handle"]) for n, v in invalid if isinstance(v.get("handle"), str)]
        stage.check_handles(others, problems)  # type: ignore[arg-type]
        stage.add_rows(items, problems)
        done += len(chunk)
        if progress:
            progress("Checking rows", done, total)


def table_of_rows(rows: Sequence[Mapping[str, Any]], problems: Problems) -> Table:
    """The API's JSON rows as a table (rows[0] is row 1); an unknown field is a problem."""
    cells: list[tuple[int, list[str]]] = []
    for number, row in enumerate(rows, start=1):
        for key in row:
            if key not in COLUMNS:
                problems.add(number, key, unknown_column(key.lower(), RESULTS_COLUMNS))
        cells.append((number, [_text(row.get(column)) for column in COLUMNS]))
    return Table(header=list(COLUMNS), rows=cells)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # JSON true/false is never a valid figure
        return str(value).lower()
    return str(value)

"""Validating a session results file (SPEC section 4) with the shared import machinery
(`matchdesk.tabular`), row by row and in chunks, so that a million rows never sit in
memory as objects: each chunk's valid rows go to the import's staging table."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from matchdesk.results.records import (
    COLUMNS,
    MAX_DURATION_MINUTES,
    OUTCOMES,
    REQUIRED_COLUMNS,
    SessionRecord,
)
from matchdesk.results.staging import Stage
from matchdesk.roster.importing import normalize_handle, parse_count
from matchdesk.roster.tables import Table
from matchdesk.tabular import CellError, Columns, Problems, parse_rows, unknown_column

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
    return moment.astimezone(UTC)


def _count(text: str) -> int:
    raw = text.strip()
    if raw.isascii() and raw.isdigit() and len(raw) < 15:
        return int(raw)  # the common case, without parse_count's Decimal
    return parse_count(raw)


def _duration(text: str) -> int:
    minutes = _count(text)
    if not 1 <= minutes <= MAX_DURATION_MINUTES:
        raise CellError(f"'{text.strip()}' minutes is out of range (1 to {MAX_DURATION_MINUTES})")
    return minutes


def _optional_count(text: str) -> int | None:
    return _count(text) if text.strip() else None


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


RESULTS_COLUMNS = Columns(
    COLUMNS,
    REQUIRED_COLUMNS,
    {
        "handle": normalize_handle,
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
    done = 0
    while rows:
        chunk = rows[:CHUNK]
        del rows[:CHUNK]
        items: list[tuple[int, SessionRecord]] = []
        others: list[tuple[int, str]] = []  # invalid rows' handles, checked all the same
        for number, values, ok in parse_rows(chunk, RESULTS_COLUMNS, problems):
            if ok:
                items.append((number, SessionRecord(**values)))  # type: ignore[arg-type]
            elif isinstance(values.get("handle"), str):
                others.append((number, str(values["handle"])))
        stage.check_handles(others, problems)
        stage.add(items, problems)
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


def numbered(records: Iterable[SessionRecord]) -> list[tuple[int, SessionRecord]]:
    return list(enumerate(records, start=1))

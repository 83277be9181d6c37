"""Validating a roster file (SPEC section 1) into `CreatorRecord`s.

Every problem of the whole file is collected, each as `row N, column C: message` with row
numbers as a spreadsheet shows them, so the user can fix everything in one go (the shared
machinery of `matchdesk.tabular`, which the results import uses too). Nothing is written
here: the service writes only a file with no problem at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pycountry

from matchdesk.errors import InvalidInput
from matchdesk.roster.availability import AvailabilityError, parse_availability, validate_timezone
from matchdesk.roster.records import COLUMNS, REQUIRED_COLUMNS, STATUSES, CreatorRecord
from matchdesk.roster.tables import Table
from matchdesk.tabular import CellError, Columns, Problems, header_problems, parse_rows

__all__ = ["CellError", "Validation", "normalize_handle", "parse_count", "validate_table"]

HANDLE_RE = re.compile(r"[a-z0-9_.]{2,24}")
# The WHATWG definition of a valid e-mail address (what `<input type=email>` accepts).
EMAIL_RE = re.compile(
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*"
)
LANGUAGES = frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
REGIONS = frozenset(country.alpha_2 for country in pycountry.countries)
MAX_LENGTH = {
    "display_name": 100,
    "email": 254,
    "timezone": 64,
    "languages": 200,
    "region": 2,
    "category": 60,
    "followers": 30,
    "revenue_30d": 30,
    "availability": 2000,
    "blocked": 2000,
    "status": 10,
    "manager": 254,
    "checkin_hours": 2000,
}
_SUFFIX = {"k": 1_000, "m": 1_000_000}
MAX_COUNT = 10**15  # far above any real audience or revenue; keeps 64-bit columns safe


def normalize_handle(text: str) -> str:
    """`@Anna.B` -> `anna.b`; raises CellError unless 2-24 chars of a-z 0-9 _ ."""
    handle = text.strip().removeprefix("@").lower()
    if not handle:
        raise CellError("a handle is required")
    if not HANDLE_RE.fullmatch(handle):
        raise CellError(f"'{text.strip()}' is not a valid handle (2-24 characters of a-z 0-9 _ .)")
    return handle


def parse_count(text: str) -> int:
    """A whole number >= 0: `12500`, `12,500`, `12.5k`, `1.2M`."""
    raw = text.strip()
    if not raw:
        raise CellError("a number is required")
    cleaned = raw.replace(",", "").replace("_", "").replace(" ", "")
    multiplier = 1
    if cleaned[-1:].lower() in _SUFFIX:
        multiplier = _SUFFIX[cleaned[-1].lower()]
        cleaned = cleaned[:-1]
    try:
        value = Decimal(cleaned) * multiplier
    except InvalidOperation:
        raise CellError(f"'{raw}' is not a number (e.g. 12500, 12,500, 12.5k or 1.2M)") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise CellError(f"'{raw}' is not a whole number")
    if value < 0:
        raise CellError(f"'{raw}' is negative; it must be 0 or more")
    if value > MAX_COUNT:
        raise CellError(f"'{raw}' is too large (at most {MAX_COUNT:,})")
    return int(value)


def _languages(text: str) -> tuple[str, ...]:
    codes = [c.strip().lower() for c in text.split(";") if c.strip()]
    if not codes:
        raise CellError("at least one language is required (ISO 639-1 codes such as en;es)")
    unknown = [c for c in codes if c not in LANGUAGES]
    if unknown:
        raise CellError(
            f"unknown language code {', '.join(repr(c) for c in unknown)} "
            "(use ISO 639-1 codes such as en, es, pt separated by ;)"
        )
    return tuple(dict.fromkeys(codes))


def _region(text: str) -> str:
    code = text.strip().upper()
    if code and code not in REGIONS:
        raise CellError(f"'{text.strip()}' is not an ISO 3166-1 alpha-2 country code (e.g. US, BR)")
    return code


# An RFC 2047 encoded word ("=?utf-8?q?...?=") is a header encoding, not an address: it
# passes the pattern above and then fails at sending, silently.
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bBqQ]\?")


def deliverable_email(value: str) -> bool:
    """A plain address mail can be sent to: the pattern, no encoded word, at most 64
    characters before the @ and 254 in all (RFC 5321), no dot at an end of the local
    part or two in a row."""
    if len(value) > 254 or not EMAIL_RE.fullmatch(value) or _ENCODED_WORD.search(value):
        return False
    local = value.rsplit("@", 1)[0]
    dots = local.startswith(".") or local.endswith(".") or ".." in local
    return len(local) <= 64 and not dots


def _email(text: str) -> str:
    value = text.strip()
    if value and not deliverable_email(value):
        raise CellError(f"'{value}' is not a valid e-mail address")
    return value


def _status(text: str) -> str:
    value = text.strip().lower() or "active"
    if value not in STATUSES:
        raise CellError(f"'{text.strip()}' is not a status (use active or paused)")
    return value


def _timezone(text: str) -> str:
    if not text.strip():
        raise CellError("a time zone is required (an IANA name such as America/New_York)")
    try:
        return validate_timezone(text.strip())
    except AvailabilityError as exc:
        raise CellError(str(exc)) from None


def _blocked(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalize_handle(h) for h in text.split(";") if h.strip()))


def _availability(text: str) -> tuple[object, ...]:
    try:
        return parse_availability(text)
    except AvailabilityError as exc:
        raise CellError(str(exc)) from None


_PARSERS: dict[str, Callable[[str], object]] = {
    "handle": normalize_handle,
    "display_name": str.strip,
    "email": _email,
    "timezone": _timezone,
    "languages": _languages,
    "region": _region,
    "category": str.strip,
    "followers": parse_count,
    "revenue_30d": parse_count,
    "availability": _availability,
    "blocked": _blocked,
    "status": _status,
    "manager": lambda text: _email(text).lower(),
    "checkin_hours": _availability,
}
ROSTER_COLUMNS = Columns(COLUMNS, REQUIRED_COLUMNS, _PARSERS, MAX_LENGTH)


def parse_fields(values: Mapping[str, str]) -> dict[str, object]:
    """Validate single fields given as text, exactly as the roster file's cells are
    validated; raises `InvalidInput` with one `field: message` per problem (unknown fields
    included)."""
    parsed: dict[str, object] = {}
    problems = []
    for name, text in values.items():
        if name not in _PARSERS:
            problems.append(f"{name}: unknown field")
            continue
        try:
            parsed[name] = ROSTER_COLUMNS.parse(name, text)
        except CellError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise InvalidInput("the creator's details are not valid", problems)
    return parsed


@dataclass
class Validation:
    """The outcome of validating a file: the records, or the problems (never both)."""

    records: list[CreatorRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def validate_table(
    table: Table,
    known_handles: Collection[str] = (),
    progress: Callable[[int, int], None] | None = None,
    managers: Collection[str] | None = None,
) -> Validation:
    """Check every row of `table`; `known_handles` are creators already on the roster, which
    the file's `blocked` column may name; `managers` (when given) the operators' e-mails
    that the `manager` column may name. Problems come in row order, then column order."""
    result = Validation()
    result.problems = header_problems(table.header, ROSTER_COLUMNS)
    if result.problems:
        return result
    problems = Problems(table.header)
    first_row: dict[str, int] = {}
    blocks: list[tuple[int, str, tuple[str, ...]]] = []
    total = len(table.rows)

    def counted() -> Iterator[tuple[int, list[str]]]:
        for done, row in enumerate(table.rows):
            if progress and done % 5000 == 0:
                progress(done, total)
            yield row

    for number, values, row_ok in parse_rows(counted(), ROSTER_COLUMNS, problems):
        handle = values.get("handle")
        if isinstance(handle, str):
            if handle in first_row:
                problems.add(
                    number, "handle", f"'{handle}' appears again (first on row {first_row[handle]})"
                )
                row_ok = False
            else:
                first_row[handle] = number
            blocked = values.get("blocked", ())
            assert isinstance(blocked, tuple)
            if handle in blocked:
                problems.add(number, "blocked", f"'{handle}' cannot block itself")
                row_ok = False
            blocks.append((number, handle, blocked))
        manager = values.get("manager", "")
        if managers is not None and manager and manager not in managers:
            problems.add(number, "manager", f"'{manager}' is not an operator (add them first)")
            row_ok = False
        if row_ok:
            result.records.append(CreatorRecord(**values))  # type: ignore[arg-type]
    known = set(known_handles)
    for number, handle, blocked in blocks:
        unknown = [b for b in blocked if b != handle and b not in first_row and b not in known]
        if unknown:
            names = ", ".join(f"'{b}'" for b in unknown)
            verb = "is" if len(unknown) == 1 else "are"
            problems.add(number, "blocked", f"{names} {verb} not on the roster or in this file")
    if progress:
        progress(total, total)
    if problems:
        result.problems = problems.sorted()
        result.records = []
    return result

"""Weekly availability windows: the `Mon 19:00-23:00; Fri 22:00-02:00` syntax, and their
expansion into concrete UTC intervals for a period.

A window is defined in the creator's local *wall-clock* time: `Sun 01:00-04:00` means
"from when the clock on the wall shows 01:00 until it shows 04:00", so on a day when
daylight saving time starts or ends the window really lasts an hour (or, on
Australia/Lord_Howe, half an hour) less or more than it says.

Local times that do not exist or exist twice are resolved as follows (PEP 495 `fold`
semantics of `zoneinfo`, applied so that a window is never cut short by ambiguity):

* Nonexistent time (spring forward, e.g. 02:30 on 2026-03-08 in America/New_York): both
  a start and an end inside the gap map to the instant the clocks jump (07:00 UTC, shown
  as 03:00 EDT), i.e. the first valid instant after the gap. A window lying entirely
  inside the gap (`Sun 02:00-02:30` that day) therefore expands to nothing, and
  `Sun 02:30-04:00` starts at the jump. Plain `zoneinfo` would instead shift such a time
  by the size of the gap (fold=0 gives 03:30 EDT, fold=1 gives 01:30 EST); we pin it to
  the jump so that no window invents time before or after the gap.
* Ambiguous time (fall back, e.g. 01:30 on 2026-11-01 in America/New_York): a start
  takes the earlier occurrence (fold=0, 01:30 EDT) and an end the later one (fold=1,
  01:30 EST), so the window covers the whole repeated hour rather than losing part of it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

MAX_TEXT_LENGTH = 2000
MAX_WINDOWS = 50

_DAY_INDEX = {name.lower(): i for i, name in enumerate(WEEKDAYS)}
_MINUTES_PER_DAY = 1440
_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_NAIVE_EPOCH = datetime(2000, 1, 1)
_AWARE_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Two days' worth, for windows that cross midnight.
_MINUTE_DELTAS = tuple(timedelta(minutes=m) for m in range(2 * _MINUTES_PER_DAY + 1))

# Spreadsheets and word processors like to turn "-" into an en or em dash.
_DASHES = "\u2013\u2014-"  # "-" last: literal in a character class
_DAY_RE = re.compile(r"([A-Za-z]+)\s*")
_RANGE_RE = re.compile(rf"([^\s{_DASHES}]+)\s*[{_DASHES}]\s*([^\s{_DASHES}]+)")
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")
# Names that `available_timezones()` may list but that are not real places: `localtime`
# depends on the machine, `Factory` and `posixrules` are tzdata plumbing.
_NOT_ZONES = frozenset({"localtime", "factory", "posixrules"})


class AvailabilityError(ValueError):
    """A window string that cannot be read; the message names the bad part."""


@dataclass(frozen=True, order=True)
class Window:
    """One weekly window in the creator's own time zone.

    weekday: 0 = Monday .. 6 = Sunday (the day the window starts on).
    start: minutes after local midnight, 0..1439.
    end: minutes after local midnight, 1..1440; end <= start means the window crosses
    midnight into the next day (end == start is refused: an empty window).
    """

    weekday: int
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday {self.weekday} is not 0..6")
        if not 0 <= self.start < _MINUTES_PER_DAY:
            raise ValueError(f"start {self.start} is not 0..1439")
        if not 0 < self.end <= _MINUTES_PER_DAY:
            raise ValueError(f"end {self.end} is not 1..1440")
        if self.end == self.start:
            raise ValueError("start and end are the same (empty window)")


def _shorten(part: str) -> str:
    # The part is echoed back to the user; a pasted paragraph must not flood the message.
    return part if len(part) <= 40 else part[:39] + "\u2026"


def _parse_time(token: str, part: str, *, is_end: bool) -> int:
    m = _TIME_RE.fullmatch(token)
    if m is None:
        raise AvailabilityError(f"'{part}': time '{_shorten(token)}' is not HH:MM")
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour == 24 and minute == 0:
        if is_end:
            return _MINUTES_PER_DAY
        raise AvailabilityError(f"'{part}': 24:00 can only end a window")
    if hour > 23:
        raise AvailabilityError(f"'{part}': hour {hour} is not 00-23")
    if minute > 59:
        raise AvailabilityError(f"'{part}': minute {minute} is not 00-59")
    return hour * 60 + minute


@functools.lru_cache(maxsize=8192)
def _parse_window(part: str) -> Window:
    # Cached: a roster repeats the same few thousand window texts (`Mon 20:00-23:00`)
    # over and over, and Window is immutable. Errors are raised anew each time.
    shown = _shorten(part)
    day_match = _DAY_RE.match(part)
    if day_match is None:
        raise AvailabilityError(f"'{shown}': expected a day first, like Mon 19:00-23:00")
    day = day_match.group(1)
    weekday = _DAY_INDEX.get(day.lower())
    if weekday is None:
        raise AvailabilityError(f"'{shown}': unknown day '{_shorten(day)}' (use Mon..Sun)")
    rest = part[day_match.end() :]
    if not rest:
        raise AvailabilityError(f"'{shown}': expected a time range after the day, like 19:00-23:00")
    range_match = _RANGE_RE.fullmatch(rest)
    if range_match is None:
        raise AvailabilityError(
            f"'{shown}': expected one time range like 19:00-23:00 (separate windows with ';')"
        )
    start = _parse_time(range_match.group(1), shown, is_end=False)
    end = _parse_time(range_match.group(2), shown, is_end=True)
    if end == start:
        raise AvailabilityError(f"'{shown}': start and end are the same (empty window)")
    if end == 0:
        # "22:00-00:00" and "22:00-24:00" are the same window; keep one representation.
        end = _MINUTES_PER_DAY
    return Window(weekday, start, end)


def parse_availability(text: str) -> tuple[Window, ...]:
    """Read `Mon 19:00-23:00; Fri 22:00-02:00` into sorted, deduplicated windows.

    Days are `Mon`..`Sun` in any case; times are `HH:MM` (a one-digit hour is accepted),
    `24:00` only as an end, and `00:00` as an end means the next midnight. An end earlier
    than the start crosses midnight. Empty or blank text gives `()`. Raises
    `AvailabilityError` with a short message naming the bad part.
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise AvailabilityError(
            f"text is too long ({len(text)} characters; at most {MAX_TEXT_LENGTH})"
        )
    parts = [part.strip() for part in text.split(";")]
    parts = [part for part in parts if part]
    if len(parts) > MAX_WINDOWS:
        raise AvailabilityError(f"too many windows ({len(parts)}; at most {MAX_WINDOWS})")
    return tuple(sorted({_parse_window(part) for part in parts}))


def _format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_availability(windows: Sequence[Window]) -> str:
    """Write windows in the canonical form `Mon 19:00-23:00; Fri 22:00-02:00`.

    Windows come out sorted and deduplicated, so the result parses back to
    `tuple(sorted(set(windows)))`. No windows give "".
    """
    return "; ".join(
        f"{WEEKDAYS[w.weekday]} {_format_minutes(w.start)}-{_format_minutes(w.end)}"
        for w in sorted(set(windows))
    )


@functools.cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones() if name.lower() not in _NOT_ZONES}


def _unknown_zone(name: str) -> AvailabilityError:
    return AvailabilityError(
        f"unknown time zone '{_shorten(name)}' (use an IANA name such as America/New_York)"
    )


def validate_timezone(name: str) -> str:
    """Return the canonical spelling of IANA time zone `name` (matched ignoring case).

    Raises `AvailabilityError` for anything else, including machine-dependent names such
    as `localtime`.
    """
    stripped = name.strip()
    names = _zone_names()
    if names:
        canonical = names.get(stripped.lower())
        if canonical is None:
            raise _unknown_zone(stripped)
        return canonical
    # No zone list (tzdata not installed as a tree we can walk): ask zoneinfo directly.
    if stripped.lower() in _NOT_ZONES:
        raise _unknown_zone(stripped)
    _zone(stripped)
    return stripped


@functools.cache
def _zone(name: str) -> ZoneInfo:
    # ZoneInfo's own cache keeps only the last 8 zones strongly; a roster has dozens, and
    # reloading a zone file for every creator dominated expanding a 100k pool.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise _unknown_zone(name) from exc


def _utc_offset(zone: ZoneInfo, naive_utc: datetime) -> timedelta | None:
    return (_AWARE_EPOCH + (naive_utc - _NAIVE_EPOCH)).astimezone(zone).utcoffset()


def _gap_end(local: datetime, zone: ZoneInfo, before: timedelta, after: timedelta) -> datetime:
    """The naive-UTC instant the clocks jump, for a wall time `local` inside that gap."""
    # The jump lies in (local - after, local - before]: below it the offset is `before`.
    # Transitions fall on whole seconds, so bisect over seconds. Gaps are rare (a few
    # windows a year), so the dozen zone look-ups here do not matter.
    low = local - after
    lo, hi = 0, int((after - before).total_seconds())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _utc_offset(zone, low + timedelta(0, mid)) == before:
            lo = mid
        else:
            hi = mid
    return low + timedelta(0, hi)


def _to_utc(local: datetime, zone: ZoneInfo, is_start: bool) -> datetime:
    """Naive local wall time -> naive UTC, resolving gaps and folds as the module says."""
    first = zone.utcoffset(local) or _ZERO
    # The constructor is several times cheaper than `local.replace(fold=1)`.
    later = datetime(local.year, local.month, local.day, local.hour, local.minute, 0, 0, fold=1)
    second = zone.utcoffset(later) or _ZERO
    if first == second:
        return local - first
    if first > second:
        # Fold: the earlier occurrence has the larger offset.
        return local - (first if is_start else second)
    return _gap_end(local, zone, first, second)


def _naive_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment!r}")
    return _NAIVE_EPOCH + (moment - _AWARE_EPOCH)


def expand(
    windows: Sequence[Window],
    timezone: str,
    period_start: datetime,
    period_end: datetime,
) -> list[tuple[datetime, datetime]]:
    """Concrete UTC intervals during [period_start, period_end) covered by `windows`.

    `windows` are weekly, in the IANA zone `timezone` (see the module docstring for
    daylight-saving rules). The period bounds must be timezone-aware (any offset; they
    are compared as instants). The result is sorted, merged (no two intervals overlap or
    touch), clipped to the period, free of empty intervals, and uses aware UTC datetimes.
    Raises ValueError for naive bounds or an empty period, AvailabilityError for an
    unknown zone.
    """
    lo = _naive_utc(period_start, "period_start")
    hi = _naive_utc(period_end, "period_end")
    if lo >= hi:
        raise ValueError(f"period_start {period_start} is not before period_end {period_end}")
    if not windows:
        return []
    zone = _zone(timezone)

    # Offsets from the local midnight of the window's first day, as ready-made timedeltas:
    # building timedeltas and calling datetime.replace dominate the cost otherwise.
    by_weekday: list[list[tuple[timedelta, timedelta]]] = [[] for _ in range(7)]
    for window in windows:
        end_minute = window.end if window.end > window.start else window.end + _MINUTES_PER_DAY
        by_weekday[window.weekday].append(
            (_MINUTE_DELTAS[window.start], _MINUTE_DELTAS[end_minute])
        )

    # A window ends less than 48 wall-clock hours after its local midnight, so local
    # dates from one day before the period's first to one day after its last catch every
    # window reaching into the period. One more day before is cheap insurance against a
    # fall-back fold spanning midnight (an end on the repeated side of midnight can lie
    # after an instant whose wall date is already the next day); clipping drops extras.
    first_day = period_start.astimezone(zone).date() - 2 * _ONE_DAY
    last_day = period_end.astimezone(zone).date() + _ONE_DAY
    midnight = datetime(first_day.year, first_day.month, first_day.day)
    pieces: list[tuple[datetime, datetime]] = []
    for _ in range((last_day - first_day).days + 1):
        for start_delta, end_delta in by_weekday[midnight.weekday()]:
            start = _to_utc(midnight + start_delta, zone, True)
            end = _to_utc(midnight + end_delta, zone, False)
            if start < lo:
                start = lo
            if end > hi:
                end = hi
            if start < end:
                pieces.append((start, end))
        midnight += _ONE_DAY

    pieces.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in pieces:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    # Naive UTC -> aware UTC by arithmetic: much cheaper than replace(tzinfo=UTC).
    return [
        (_AWARE_EPOCH + (start - _NAIVE_EPOCH), _AWARE_EPOCH + (end - _NAIVE_EPOCH))
        for start, end in merged
    ]

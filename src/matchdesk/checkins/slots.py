"""Check-in slots: the times a manager and a creator can both make, each in their own
zone, that keep every hard rule of SPEC section 6 except the per-day cap and the other
check-ins still to be booked (the planner and the booking itself hold those).

Both people's hours are weekly windows on their own wall clocks; `availability.expand`
turns them into UTC intervals for the week with its daylight-saving rules (a gap
shortens a window, a fold lengthens it), so a slot is inside both people's hours on the
day it really happens. Starts fall on the program's grid: multiples of
`step_minutes` from 00:00 UTC, as match slots do.

Each slot carries a preference in [0, 1]: how near it lies to the middle of both
people's windows (the lower of the two), so a plan prefers 14:00 in a 10:00-18:00 day to
its edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from matchdesk.roster.availability import Window, expand

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Hours:
    """Weekly windows on `timezone`'s wall clock (a manager's working hours or a
    creator's check-in hours)."""

    windows: tuple[Window, ...]
    timezone: str


@dataclass(frozen=True)
class SlotRules:
    """The `[checkins]` rules a slot must keep (SPEC section 6)."""

    duration_minutes: int = 30
    buffer_minutes: int = 10
    step_minutes: int = 30
    max_per_day: int = 8

    def __post_init__(self) -> None:
        if self.duration_minutes <= 0 or self.step_minutes <= 0:
            raise ValueError("duration_minutes and step_minutes must be positive")
        if self.buffer_minutes < 0 or self.max_per_day < 0:
            raise ValueError("buffer_minutes and max_per_day must be 0 or more")

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)

    @property
    def gap(self) -> timedelta:
        """Two check-ins of one manager conflict when their starts are closer than this
        (they have the same length)."""
        return self.duration + self.buffer


@dataclass(frozen=True, order=True)
class Slot:
    """A check-in time: `start` (aware UTC) for `duration_minutes`, with its preference."""

    start: datetime
    end: datetime
    preference: float


@dataclass(frozen=True)
class SlotSearch:
    """The slots found, or (when there are none) why: the reason a manager reads."""

    slots: tuple[Slot, ...]
    reason: str = ""


NO_SHARED_HOUR = (
    "no shared hour (the manager's working hours and the creator's check-in hours never meet)"
)
ALL_BUSY = "no free time in the shared hours (matches, other check-ins or the notice period)"


def _intersect(
    first: Sequence[Interval], second: Sequence[Interval]
) -> list[tuple[Interval, Interval, Interval]]:
    """The overlaps of two sorted, disjoint interval lists, each with the two intervals
    it came from."""
    out = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            out.append(((start, end), first[i], second[j]))
        if first[i][1] <= second[j][1]:
            i += 1
        else:
            j += 1
    return out


def _grid_ceil(moment: datetime, step_minutes: int) -> datetime:
    seconds = int((moment - _EPOCH).total_seconds())
    step = step_minutes * 60
    return _EPOCH + timedelta(seconds=-(-seconds // step) * step)


def _centrality(start: datetime, end: datetime, window: Interval) -> float:
    """1 at the middle of `window`, falling linearly to 0 at its edges."""
    half = (window[1] - window[0]) / 2
    if half <= timedelta(0):
        return 0.0
    middle = window[0] + half
    slot_middle = start + (end - start) / 2
    return max(0.0, 1.0 - abs(slot_middle - middle) / half)


def _clashes(start: datetime, end: datetime, busy: Sequence[Interval], buffer: timedelta) -> bool:
    return any(start < b_end + buffer and b_start - buffer < end for b_start, b_end in busy)


def find_slots(
    manager: Hours,
    creator: Hours,
    period_start: datetime,
    period_end: datetime,
    rules: SlotRules,
    *,
    busy: Sequence[Interval] = (),
    not_before: datetime | None = None,
) -> SlotSearch:
    """Every grid start in [period_start, period_end) at which a check-in lies wholly
    inside the manager's and the creator's hours, keeps `buffer_minutes` from each of
    the `busy` intervals (the creator's matches, the manager's other check-ins) and
    starts no earlier than `not_before` (booking time plus the notice). Sorted by start.
    """
    shared = _intersect(
        expand(manager.windows, manager.timezone, period_start, period_end),
        expand(creator.windows, creator.timezone, period_start, period_end),
    )
    if not shared:
        return SlotSearch((), NO_SHARED_HOUR)
    ordered_busy = sorted(busy)
    slots = []
    for (start, end), manager_window, creator_window in shared:
        if not_before is not None and start < not_before:
            start = not_before
        moment = _grid_ceil(start, rules.step_minutes)
        step = timedelta(minutes=rules.step_minutes)
        while moment + rules.duration <= end:
            slot_end = moment + rules.duration
            if not _clashes(moment, slot_end, ordered_busy, rules.buffer):
                preference = min(
                    _centrality(moment, slot_end, manager_window),
                    _centrality(moment, slot_end, creator_window),
                )
                slots.append(Slot(moment, slot_end, round(preference, 6)))
            moment += step
    if not slots:
        return SlotSearch((), ALL_BUSY)
    return SlotSearch(tuple(slots))


def manager_day(moment: datetime, timezone: str) -> date:
    """The day on the manager's own clock on which a check-in starting at `moment` falls
    (what `max_per_day` counts)."""
    return moment.astimezone(ZoneInfo(timezone)).date()

"""Weekly availability windows: the `Mon 19:00-23:00; Fri 22:00-02:00` syntax, and their
expansion into concrete UTC intervals for a period.

STUB: signatures only; the implementation is being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


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


def parse_availability(text: str) -> tuple[Window, ...]:
    raise NotImplementedError


def format_availability(windows: tuple[Window, ...] | list[Window]) -> str:
    raise NotImplementedError


def expand(
    windows: tuple[Window, ...] | list[Window],
    timezone: str,
    period_start: datetime,
    period_end: datetime,
) -> list[tuple[datetime, datetime]]:
    raise NotImplementedError

"""A round's period: the week (Monday to Monday) or month (1st to 1st) from a start date,
in the program's time zone, as UTC instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from matchdesk import clock
from matchdesk.errors import InvalidInput

CADENCES = ("weekly", "monthly")
FIRST_START = date(2000, 1, 1)
LAST_START = date(2999, 12, 31)


def parse_start(text: str) -> date:
    """A `YYYY-MM-DD` start date; InvalidInput naming the value otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            "the round cannot be built", [f"start: {text!r} is not a date (YYYY-MM-DD)"]
        ) from None


def round_period(cadence: str, start: date, timezone: str) -> tuple[datetime, datetime]:
    """The period of a `cadence` round beginning on `start`: 00:00 of that date to 00:00
    of the next Monday (weekly) or next 1st (monthly), wall-clock time in `timezone`, as
    aware UTC datetimes. A week with a daylight-saving change is 167 or 169 hours long.

    Raises InvalidInput when the cadence is unknown, a weekly start is not a Monday or a
    monthly start is not the 1st."""
    problems = []
    if not FIRST_START <= start <= LAST_START:
        # Far dates overflow once shifted to UTC (0001-01-01, 9999-12-27).
        problems.append(
            f"start: {start.isoformat()} is out of range; a round starts between "
            f"{FIRST_START.isoformat()} and {LAST_START.isoformat()}"
        )
    elif cadence not in CADENCES:
        problems.append(f"cadence: {cadence!r} is not one of weekly, monthly")
    elif cadence == "weekly" and start.weekday() != 0:
        problems.append(
            f"start: {start.isoformat()} is a {start:%A}; a weekly round starts on a Monday"
        )
    elif cadence == "monthly" and start.day != 1:
        problems.append(
            f"start: {start.isoformat()} is not the 1st; a monthly round starts on the 1st"
        )
    if problems:
        raise InvalidInput("the round cannot be built", problems)
    end = next_start(cadence, start)
    zone = ZoneInfo(timezone)

    def instant(day: date) -> datetime:
        # Local midnight; where midnight falls in a DST gap (e.g. America/Santiago),
        # zoneinfo's fold=0 gives the instant just after the jump, which is what a wall
        # clock shows first that day.
        return datetime.combine(day, time(0), zone).astimezone(UTC)

    return instant(start), instant(end)


def next_start(cadence: str, today: date) -> date:
    """The first start date of a `cadence` round after `today`: next Monday (a week ahead
    on a Monday) or the 1st of next month."""
    if cadence == "weekly":
        return today + timedelta(days=7 - today.weekday())
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)


def program_today(timezone: str) -> date:
    """Today's date on the program's clock."""
    return clock.now().astimezone(ZoneInfo(timezone)).date()

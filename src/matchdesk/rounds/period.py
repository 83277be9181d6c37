"""A round's period: the week (Monday to Monday) or month (1st to 1st) from a start date,
in the program's time zone, as UTC instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from matchdesk.errors import InvalidInput

CADENCES = ("weekly", "monthly")


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
    if cadence not in CADENCES:
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
    if cadence == "weekly":
        end = date.fromordinal(start.toordinal() + 7)
    else:
        end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    zone = ZoneInfo(timezone)

    def instant(day: date) -> datetime:
        # Local midnight; where midnight falls in a DST gap (e.g. America/Santiago),
        # zoneinfo's fold=0 gives the instant just after the jump, which is what a wall
        # clock shows first that day.
        return datetime.combine(day, time(0), zone).astimezone(UTC)

    return instant(start), instant(end)

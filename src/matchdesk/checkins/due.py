"""Who is due a check-in: a creator whose tier has `checkin_every_weeks` > 0 is due that
many weeks after their last held check-in, and at once when they never had one (from the
day they joined the roster). Weeks and days are the program's (its zone, from Monday)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matchdesk.checkins.models import Checkin
from matchdesk.errors import InvalidInput
from matchdesk.program import Program
from matchdesk.roster.models import Creator

STATES = ("overdue", "due", "booked")


@dataclass(frozen=True)
class Week:
    """A program week: its Monday and its bounds as aware UTC instants."""

    monday: date
    start: datetime
    end: datetime


def program_week(monday: date | str, timezone: str) -> Week:
    """The week from `monday` 00:00 to the next Monday 00:00 on the program's clock;
    InvalidInput when the date is not a Monday or not a date."""
    if isinstance(monday, str):
        try:
            monday = date.fromisoformat(monday.strip())
        except ValueError:
            raise InvalidInput(
                "the week is not valid", [f"week: {monday!r} is not a date (YYYY-MM-DD)"]
            ) from None
    if not date(2000, 1, 3) <= monday <= date(2999, 12, 30):
        raise InvalidInput("the week is not valid", [f"week: {monday} is out of range"])
    if monday.weekday() != 0:
        raise InvalidInput(
            "the week is not valid", [f"week: {monday} is a {monday:%A}; a week starts on a Monday"]
        )
    zone = ZoneInfo(timezone)

    def instant(day: date) -> datetime:
        return datetime.combine(day, time(0), zone).astimezone(UTC)

    return Week(monday, instant(monday), instant(monday + timedelta(days=7)))


def this_monday(now: datetime, timezone: str) -> date:
    """The Monday of the program week that `now` falls in."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    return today - timedelta(days=today.weekday())


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DueEntry:
    """One creator on the due list. `state` is overdue (due before the week), due (during
    the week) or booked (an open check-in exists: `checkin_id`, `starts_at`)."""

    creator_id: int
    handle: str
    display_name: str
    tier: str
    manager: str
    due_on: date
    state: str
    last_held: datetime | None = None
    checkin_id: int | None = None
    starts_at: datetime | None = None


def due_list(
    session: Session,
    program: Program,
    week: Week,
    *,
    manager: str | None = None,
    state: str | None = None,
    tier: str | None = None,
) -> list[DueEntry]:
    """The creators whose check-in falls due by the end of `week` (overdue first, then by
    due day and handle), and those with a check-in booked in the week or already due;
    filtered by manager e-mail ("" for creators without one), state and tier."""
    if state is not None and state not in STATES:
        raise InvalidInput("the filter is not valid", [f"state: {state!r} is not one of {STATES}"])
    zone = ZoneInfo(program.program.timezone)
    every = {t.name: t.checkin_every_weeks for t in program.tiers if t.checkin_every_weeks > 0}
    last_held = dict(
        session.execute(
            select(Checkin.creator_id, func.max(Checkin.starts_at))
            .where(Checkin.status == "held")
            .group_by(Checkin.creator_id)
        ).all()
    )
    booked = {
        row.creator_id: row
        for row in session.execute(
            select(Checkin.creator_id, Checkin.id, Checkin.starts_at).where(
                Checkin.status == "booked"
            )
        )
    }
    query = select(
        Creator.id,
        Creator.handle,
        Creator.display_name,
        Creator.tier,
        Creator.manager,
        Creator.created_at,
    ).where(Creator.status == "active", Creator.tier.in_(list(every)))
    if manager is not None:
        query = query.where(Creator.manager == manager.strip().lower())
    if tier is not None:
        query = query.where(Creator.tier == tier)
    week_end_day = week.monday + timedelta(days=7)
    entries = []
    for row in session.execute(query):
        held = last_held.get(row.id)
        since = aware(held) + timedelta(weeks=every[row.tier]) if held else aware(row.created_at)
        due_on = since.astimezone(zone).date()
        open_checkin = booked.get(row.id)
        if open_checkin is not None:
            starts = aware(open_checkin.starts_at)
            if due_on >= week_end_day and not week.start <= starts < week.end:
                continue
            entry = DueEntry(
                row.id,
                row.handle,
                row.display_name,
                row.tier,
                row.manager,
                due_on,
                "booked",
                aware(held) if held else None,
                open_checkin.id,
                starts,
            )
        elif due_on < week_end_day:
            entry = DueEntry(
                row.id,
                row.handle,
                row.display_name,
                row.tier,
                row.manager,
                due_on,
                "overdue" if due_on < week.monday else "due",
                aware(held) if held else None,
            )
        else:
            continue
        if state is None or entry.state == state:
            entries.append(entry)
    entries.sort(key=lambda e: (STATES.index(e.state), e.due_on, e.handle))
    return entries

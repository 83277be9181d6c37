"""The creator and program reports (SPEC section 5), read from the ledger with set-based
SQL: one grouped query per figure, never a Python loop over sessions.

Days and weeks are the program's (its time zone, weeks from Monday); a week the range
touches counts only the range's days. Both backends bucket days into weeks in SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, and_, case, cast, distinct, func, select
from sqlalchemy.orm import Session, aliased

from matchdesk.errors import InvalidInput, NotFound
from matchdesk.program import Program
from matchdesk.results.models import LedgerDay, LiveSession, TierDay, WeekMask
from matchdesk.results.rollups import ALL_DAYS, mismatched, week_start
from matchdesk.roster.models import Creator
from matchdesk.rounds.models import Match

MAX_RANGE_DAYS = 3 * 366


def parse_range(start: str | None, end: str | None) -> tuple[date, date]:
    """`from` and `to` as dates (`YYYY-MM-DD`, both required, `from` <= `to`, at most
    three years apart); `InvalidInput` naming each bad one."""
    problems: list[str] = []
    days: list[date] = []
    for name, value in (("from", start), ("to", end)):
        if not value:
            problems.append(f"{name}: required (YYYY-MM-DD)")
            continue
        try:
            days.append(date.fromisoformat(value.strip()))
        except ValueError:
            problems.append(f"{name}: {value!r} is not a date (YYYY-MM-DD)")
    if problems:
        raise InvalidInput("Invalid report period.", problems)
    first, last = days
    if first > last:
        raise InvalidInput("Invalid report period.", [f"from: {first} is after to: {last}"])
    if (last - first).days >= MAX_RANGE_DAYS:
        raise InvalidInput("Invalid report period.", [f"to: at most {MAX_RANGE_DAYS} days"])
    return first, last


def program_midnight(day: date, program: Program) -> datetime:
    """00:00 of a program day, in UTC."""
    return datetime.combine(day, time(0), ZoneInfo(program.program.timezone)).astimezone(UTC)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of(session: Session, column: Any) -> ColumnElement[Any]:
    """The Monday of a day column's week, as SQL for the session's backend."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", column), Date)
    return func.date(column, "weekday 0", "-6 days")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def find_creator(session: Session, handle: str) -> Creator:
    creator = session.scalar(
        select(Creator).where(Creator.handle == handle.strip().removeprefix("@").lower())
    )
    if creator is None:
        raise NotFound(f"No creator with handle {handle!r}.")
    return creator


def creator_report(
    session: Session, program: Program, handle: str, start: date, end: date
) -> dict[str, Any]:
    """SPEC section 5's creator document for the program days `start` to `end`."""
    creator = find_creator(session, handle)
    totals = session.execute(
        select(
            func.coalesce(func.sum(LedgerDay.sessions), 0),
            func.coalesce(func.sum(LedgerDay.live_minutes), 0),
            func.coalesce(func.sum(LedgerDay.diamonds), 0),
            func.count().filter(LedgerDay.sessions > 0),
        ).where(LedgerDay.creator_id == creator.id, LedgerDay.day.between(start, end))
    ).one()
    since, until = program_midnight(start, program), program_midnight(end + timedelta(1), program)
    matched = session.execute(
        select(
            func.count(distinct(LiveSession.match_id)).filter(Match.status == "completed"),
            func.coalesce(func.sum(LiveSession.diamonds), 0),
        )
        .select_from(LiveSession)
        .join(Match, Match.id == LiveSession.match_id)
        .where(
            LiveSession.creator_id == creator.id,
            LiveSession.started_at >= since,
            LiveSession.started_at < until,
        )
    ).one()
    return {
        "handle": creator.handle,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "sessions": int(totals[0]),
        "live_minutes": int(totals[1]),
        "diamonds": int(totals[2]),
        "days_live": int(totals[3]),
        "matches_completed": int(matched[0]),
        "match_diamonds": int(matched[1]),
        "uplift": _uplift(session, program, creator.id, start, end),
    }


def _uplift(
    session: Session, program: Program, creator_id: int, start: date, end: date
) -> dict[str, Any] | None:
    try:
        from matchdesk.results.uplift import creator_uplift
    except ImportError:  # the uplift module has not landed: not enough data
        return None
    found = creator_uplift(session, program, creator_id, start, end)
    if found is None:
        return None
    return {
        "estimate": round(float(found.estimate), 4),
        "low": round(float(found.low), 4),
        "high": round(float(found.high), 4),
        "n": int(found.n),
    }


def range_days(week: date, start: date, end: date) -> int:
    """The week mask of the range's days in the week starting `week`."""
    first = start.weekday() if week == monday(start) else 0
    last = end.weekday() if week == monday(end) else 6
    return sum(1 << d for d in range(first, last + 1))


def program_weeks(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    """Every program week the range touches, counting only the range's days: sums from
    the day rollups, creators live from the week masks that meet the range's days."""
    week = week_start(session, TierDay.day).label("week")
    sums = {
        _as_date(row[0]): row
        for row in session.execute(
            select(
                week,
                func.sum(TierDay.sessions),
                func.sum(TierDay.live_minutes),
                func.sum(TierDay.diamonds),
            )
            .where(TierDay.day.between(start, end))
            .group_by(week)
        )
    }
    first, last = monday(start), monday(end)
    wanted = case(
        (WeekMask.week == first, range_days(first, start, end)),
        (WeekMask.week == last, range_days(last, start, end)),
        else_=ALL_DAYS,
    )
    live = {
        _as_date(w): int(n)
        for w, n in session.execute(
            select(WeekMask.week, func.sum(WeekMask.creators))
            .where(WeekMask.week.between(first, last), WeekMask.days.op("&")(wanted) != 0)
            .group_by(WeekMask.week)
        )
    }
    weeks: list[dict[str, Any]] = []
    cursor = first
    while cursor <= end:
        row = sums.get(cursor)
        weeks.append(
            {
                "week_start": cursor.isoformat(),
                "sessions": int(row[1]) if row else 0,
                "live_minutes": int(row[2]) if row else 0,
                "diamonds": int(row[3]) if row else 0,
                "creators_live": live.get(cursor, 0),
            }
        )
        cursor += timedelta(days=7)
    return weeks


def tier_diamonds(session: Session, start: date, end: date) -> dict[str, int]:
    """Each tier's diamonds over the range, by the tier its creators are in now: the day
    rollups, corrected for the creators whose tier changed since they were counted (their
    own ledger days moved from the counted tier to today's)."""
    totals: dict[str, int] = {
        tier: int(n)
        for tier, n in session.execute(
            select(TierDay.tier, func.sum(TierDay.diamonds))
            .where(TierDay.day.between(start, end))
            .group_by(TierDay.tier)
        )
    }
    found = mismatched()
    moved = session.execute(select(found.c.creator_id, found.c.old_tier, found.c.new_tier)).all()
    # Normally a handful (settled at each import and every day): their own days, by the
    # ledger's primary key, in chunks.
    for start_at in range(0, len(moved), 1000):
        chunk = {
            creator_id: (old, new) for creator_id, old, new in moved[start_at : start_at + 1000]
        }
        for creator_id, n in session.execute(
            select(LedgerDay.creator_id, func.sum(LedgerDay.diamonds))
            .where(LedgerDay.creator_id.in_(list(chunk)), LedgerDay.day.between(start, end))
            .group_by(LedgerDay.creator_id)
        ):
            old, new = chunk[creator_id]
            totals[old] = totals.get(old, 0) - int(n or 0)
            totals[new] = totals.get(new, 0) + int(n or 0)
    return totals


def program_tiers(
    session: Session, program: Program, start: date, end: date
) -> list[dict[str, Any]]:
    """Per tier of the program (its order): the creators now in it, their diamonds over
    the range, and the completed matches starting in the range that one of them was in
    (a match across two tiers counts in both)."""
    names = [tier.name for tier in program.tiers]
    creators: Mapping[str, int] = dict(
        session.execute(  # type: ignore[arg-type]
            select(Creator.tier, func.count())
            .where(Creator.tier.is_not(None))
            .group_by(Creator.tier)
        ).all()
    )
    diamonds = tier_diamonds(session, start, end)
    since, until = program_midnight(start, program), program_midnight(end + timedelta(1), program)
    in_range = and_(Match.status == "completed", Match.starts_at >= since, Match.starts_at < until)
    side_a, side_b = aliased(Creator), aliased(Creator)
    pairs = session.execute(
        select(side_a.tier, side_b.tier, func.count(Match.id))
        .join(side_a, side_a.id == Match.creator_a_id)
        .join(side_b, side_b.id == Match.creator_b_id)
        .where(in_range)
        .group_by(side_a.tier, side_b.tier)
    ).all()
    matches: dict[str, int] = {}
    for tier_a, tier_b, count in pairs:  # a few tier pairs, not matches
        for tier in {tier_a, tier_b}:
            if tier is not None:
                matches[tier] = matches.get(tier, 0) + int(count)
    return [
        {
            "tier": name,
            "creators": int(creators.get(name, 0)),
            "diamonds": int(diamonds.get(name) or 0),
            "matches_completed": matches.get(name, 0),
        }
        for name in names
    ]


def program_report(session: Session, program: Program, start: date, end: date) -> dict[str, Any]:
    """SPEC section 5's program document for the program days `start` to `end`."""
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "weeks": program_weeks(session, start, end),
        "tiers": program_tiers(session, program, start, end),
    }


__all__ = [
    "creator_report",
    "find_creator",
    "parse_range",
    "program_midnight",
    "program_report",
    "program_tiers",
    "program_weeks",
]

"""What the report pages and the dashboard show beyond SPEC section 5's documents: rounds'
rates, top movers, creators gone dark, tiers over time, a creator's days, matches,
reliability and tier distance. Set-based SQL over the ledger and the rounds' tables,
one grouped query per figure (never a Python loop over sessions or ledger days).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from matchdesk.program import Program
from matchdesk.results.models import LedgerDay, LiveSession
from matchdesk.results.reports import program_midnight, week_of
from matchdesk.results.staging import aware
from matchdesk.roster.models import Creator
from matchdesk.rounds.models import Bye, Match, Round

DARK_DAYS = 3  # a creator with no session in this many days or more has gone dark
MOVERS = 10
LISTED = 20
HELD = ("completed", "no_show")  # a match that took place (or should have)
ANSWERED = ("published", "confirmed", "declined", "completed", "no_show")


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def totals(session: Session, start: date, end: date) -> dict[str, int]:
    """Sessions, LIVE minutes, diamonds and creators live over the range."""
    row = session.execute(
        select(
            func.coalesce(func.sum(LedgerDay.sessions), 0),
            func.coalesce(func.sum(LedgerDay.live_minutes), 0),
            func.coalesce(func.sum(LedgerDay.diamonds), 0),
            func.count(func.distinct(LedgerDay.creator_id)),
        ).where(LedgerDay.day.between(start, end), LedgerDay.sessions > 0)
    ).one()
    return {
        "sessions": int(row[0]),
        "live_minutes": int(row[1]),
        "diamonds": int(row[2]),
        "creators_live": int(row[3]),
    }


def round_rates(session: Session, program: Program, start: date, end: date) -> list[dict[str, Any]]:
    """Per round whose period overlaps the range: matches published, held (completed),
    and the confirm, decline and no-show rates among the published matches."""
    since, until = program_midnight(start, program), program_midnight(end + timedelta(1), program)
    both_confirmed = and_(Match.a_response == "confirmed", Match.b_response == "confirmed")
    rows = session.execute(
        select(
            Round.id,
            Round.cadence,
            Round.tier,
            Round.period_start,
            func.count(Match.id),
            func.count().filter(Match.status == "completed"),
            func.count().filter(or_(both_confirmed, *(Match.status == s for s in HELD))),
            func.count().filter(Match.status == "declined"),
            func.count().filter(Match.status == "no_show"),
        )
        .join(Match, Match.round_id == Round.id)
        .where(Round.period_start < until, Round.period_end > since)
        # Each status a literal comparison, not an expanding IN: its parameters were
        # rendered anew on every request (a third of the report page's CPU when cached).
        .where(or_(*(Match.status == s for s in ANSWERED)))
        .group_by(Round.id, Round.cadence, Round.tier, Round.period_start)
        .order_by(Round.period_start, Round.id)
    ).all()
    zone = ZoneInfo(program.program.timezone)
    out = []
    for round_id, cadence, tier, period_start, n, held, confirmed, declined, no_show in rows:
        out.append(
            {
                "round_id": round_id,
                "cadence": cadence,
                "tier": tier or "all",
                "period_start": aware(period_start).astimezone(zone).date(),  # program day
                "matches": int(n),
                "held": int(held),
                "confirm_rate": round(confirmed / n, 4) if n else None,
                "decline_rate": round(declined / n, 4) if n else None,
                "no_show_rate": round(no_show / n, 4) if n else None,
            }
        )
    return out


def top_movers(
    session: Session, start: date, end: date, limit: int = MOVERS
) -> list[dict[str, Any]]:
    """The creators whose diamonds changed most against the previous period (either way)."""
    before, _ = previous_period(start, end)
    now = func.sum(case((LedgerDay.day >= start, LedgerDay.diamonds), else_=0))
    then = func.sum(case((LedgerDay.day < start, LedgerDay.diamonds), else_=0))
    change = (now - then).label("change")
    grouped = (
        select(LedgerDay.creator_id, now.label("now"), then.label("then"), change)
        .where(LedgerDay.day.between(before, end))
        .group_by(LedgerDay.creator_id)
        .subquery()
    )
    rows = session.execute(
        select(Creator.handle, Creator.tier, grouped.c.now, grouped.c.then, grouped.c.change)
        .join(Creator, Creator.id == grouped.c.creator_id)
        .order_by(func.abs(grouped.c.change).desc(), Creator.handle)
        .limit(limit)
    ).all()
    return [
        {
            "handle": handle,
            "tier": tier,
            "diamonds": int(now),
            "previous": int(then),
            "change": int(change),
            # int(): PostgreSQL's sums are numeric (Decimal), which would print "-0.2700"
            "change_rate": round((int(now) - int(then)) / int(then), 4) if then else None,
        }
        for handle, tier, now, then, change in rows
    ]


def gone_dark(
    session: Session, today: date, limit: int = LISTED
) -> tuple[int, list[dict[str, Any]]]:
    """Active creators with sessions before but none in the last DARK_DAYS days (today
    included): how many, and the most recently active first."""
    last = func.max(LedgerDay.day).label("last_day")
    latest = (
        select(LedgerDay.creator_id, last)
        .where(LedgerDay.sessions > 0)
        .group_by(LedgerDay.creator_id)
        .subquery()
    )
    cutoff = today - timedelta(days=DARK_DAYS - 1)
    base = (
        select(Creator.handle, Creator.tier, latest.c.last_day)
        .join(latest, latest.c.creator_id == Creator.id)
        .where(Creator.status == "active", latest.c.last_day < cutoff)
    )
    count = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(latest.c.last_day.desc(), Creator.handle).limit(limit)
    ).all()
    return int(count), [
        {
            "handle": handle,
            "tier": tier,
            "last_live": _day(last_day),
            "days_dark": (today - _day(last_day)).days,
        }
        for handle, tier, last_day in rows
    ]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def tiers_by_week(
    session: Session, program: Program, start: date, end: date
) -> list[dict[str, Any]]:
    """Creators live per program week and (current) tier, in the program's tier order."""
    week = week_of(session, LedgerDay.day).label("week")
    rows = session.execute(
        select(week, Creator.tier, func.count(func.distinct(LedgerDay.creator_id)))
        .join(Creator, Creator.id == LedgerDay.creator_id)
        .where(LedgerDay.day.between(start, end), LedgerDay.sessions > 0)
        .group_by(week, Creator.tier)
    ).all()
    order = {t.name: i for i, t in enumerate(program.tiers)}
    out = [
        {"week_start": _day(w).isoformat(), "tier": tier or "none", "creators_live": int(n)}
        for w, tier, n in rows
    ]
    out.sort(key=lambda r: (str(r["week_start"]), order.get(str(r["tier"]), len(order))))
    return out


def creator_days(session: Session, creator_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """A creator's ledger days with sessions in the range."""
    rows = session.execute(
        select(
            LedgerDay.day,
            LedgerDay.sessions,
            LedgerDay.live_minutes,
            LedgerDay.diamonds,
            LedgerDay.new_followers,
            LedgerDay.match_sessions,
        )
        .where(LedgerDay.creator_id == creator_id, LedgerDay.day.between(start, end))
        .where(LedgerDay.sessions > 0)
        .order_by(LedgerDay.day)
    ).all()
    return [
        {
            "day": _day(day),
            "sessions": int(n),
            "live_minutes": int(minutes),
            "diamonds": int(diamonds),
            "new_followers": int(followers),
            "match_sessions": int(matched),
        }
        for day, n, minutes, diamonds, followers, matched in rows
    ]


def creator_matches(
    session: Session, program: Program, creator_id: int, start: date, end: date
) -> list[dict[str, Any]]:
    """The creator's matches starting in the range (published or later): partner, status,
    their session's diamonds and outcome, and their uplift in it when known."""
    since, until = program_midnight(start, program), program_midnight(end + timedelta(1), program)
    partner = aliased(Creator)
    mine = and_(LiveSession.match_id == Match.id, LiveSession.creator_id == creator_id)
    rows = session.execute(
        select(
            Match.id,
            Match.starts_at,
            partner.handle,
            Match.status,
            func.sum(LiveSession.diamonds),
            func.max(LiveSession.outcome),
        )
        .join(
            partner,
            partner.id
            == case(
                (Match.creator_a_id == creator_id, Match.creator_b_id), else_=Match.creator_a_id
            ),
        )
        .outerjoin(LiveSession, mine)
        .where(or_(Match.creator_a_id == creator_id, Match.creator_b_id == creator_id))
        .where(Match.starts_at >= since, Match.starts_at < until, Match.status.in_(ANSWERED))
        .group_by(Match.id, Match.starts_at, partner.handle, Match.status)
        .order_by(Match.starts_at)
    ).all()
    uplifts = _match_uplifts(
        session, program, creator_id, [r[0] for r in rows if r[3] == "completed"]
    )
    return [
        {
            "match_id": match_id,
            "starts_at": starts_at,
            "partner": handle,
            "status": status,
            "diamonds": int(diamonds) if diamonds is not None else None,
            "outcome": outcome,
            "uplift": uplifts.get(match_id),
        }
        for match_id, starts_at, handle, status, diamonds, outcome in rows
    ]


def _match_uplifts(
    session: Session, program: Program, creator_id: int, match_ids: list[int]
) -> dict[int, float | None]:
    try:
        from matchdesk.results.uplift import match_uplifts
    except ImportError:  # uplift not available: not enough data
        return {}
    out: dict[int, float | None] = {}
    for match_id in match_ids[:LISTED]:  # a page's worth; each is one indexed query
        found = match_uplifts(session, program, match_id).get(creator_id)
        out[match_id] = round(float(found.estimate), 4) if found is not None else None
    return out


def reliability(session: Session, creator_id: int) -> dict[str, int]:
    """The creator's record over all published matches: confirmed, declined, no-show."""
    is_a = Match.creator_a_id == creator_id
    answer = case((is_a, Match.a_response), else_=Match.b_response)
    no_show = case((is_a, Match.a_no_show), else_=Match.b_no_show)
    row = session.execute(
        select(
            func.count(Match.id),
            func.count().filter(answer == "confirmed"),
            func.count().filter(answer == "declined"),
            func.count().filter(no_show.is_(True)),
        )
        .where(or_(is_a, Match.creator_b_id == creator_id))
        .where(Match.status.in_(ANSWERED))
    ).one()
    return {
        "invited": int(row[0]),
        "confirmed": int(row[1]),
        "declined": int(row[2]),
        "no_show": int(row[3]),
    }


def tier_distance(program: Program, creator: Creator) -> dict[str, Any]:
    """The creator's tier and what the next tier up asks (revenue and followers short)."""
    names = [t.name for t in program.tiers]
    index = names.index(creator.tier) if creator.tier in names else len(names)
    if index == 0:
        return {"tier": creator.tier, "next": None, "revenue_short": 0, "followers_short": 0}
    nxt = program.tiers[index - 1]
    return {
        "tier": creator.tier,
        "next": nxt.name,
        "revenue_short": max(0, nxt.min_revenue_30d - creator.revenue_30d),
        "followers_short": max(0, nxt.min_followers - creator.followers),
    }


def open_round_attention(session: Session, now: Any) -> list[dict[str, Any]]:
    """The open rounds (published, their period not over at `now`; nothing closes a round
    when its period ends, so a past round stays published): per round, the matches with
    an unanswered invitation, the declined ones and the byes."""
    pending = or_(Match.a_response == "pending", Match.b_response == "pending")
    is_open = and_(Round.status == "published", Round.period_end > now)
    rows = session.execute(
        select(
            Round.id,
            Round.cadence,
            Round.tier,
            Round.period_start,
            func.count().filter(and_(Match.status == "published", pending)),
            func.count().filter(Match.status == "declined"),
        )
        .outerjoin(Match, Match.round_id == Round.id)
        .where(is_open)
        .group_by(Round.id, Round.cadence, Round.tier, Round.period_start)
        .order_by(Round.period_start.desc())
    ).all()
    byes = dict(
        session.execute(
            select(Bye.round_id, func.count())
            .join(Round, Round.id == Bye.round_id)
            .where(is_open)
            .group_by(Bye.round_id)
        ).all()
    )
    return [
        {
            "round_id": rid,
            "cadence": cadence,
            "tier": tier or "all",
            "period_start": start,
            "unanswered": int(unanswered),
            "declined": int(declined),
            "byes": int(byes.get(rid, 0)),
        }
        for rid, cadence, tier, start, unanswered, declined in rows
    ]


def matches_missing_results(session: Session, now: Any) -> int:
    """Published or confirmed matches whose slot has ended with no session linked."""
    linked = select(LiveSession.id).where(LiveSession.match_id == Match.id).exists()
    return int(
        session.scalar(
            select(func.count(Match.id))
            .where(Match.status.in_(("published", "confirmed")), Match.ends_at <= now)
            .where(~linked)
        )
        or 0
    )

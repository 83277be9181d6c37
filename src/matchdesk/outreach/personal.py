"""The personal fields of many creators at once (one query per kind of figure, never one
per creator): what a newsletter's template is rendered with."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, ColumnElement, any_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from matchdesk.results import creator_stats
from matchdesk.results.models import CreatorResults
from matchdesk.roster.models import Creator
from matchdesk.rounds.models import Match
from matchdesk.rounds.queries import local_date_time

UPCOMING = ("published", "confirmed")


def id_in(session: Session, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL `column = ANY(array)`, one parameter instead of a
    thousand (the driver parses every placeholder of every statement)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))  # type: ignore[no-any-return]
    return column.in_(list(ids))  # type: ignore[no-any-return]


def personal_values(
    session: Session,
    creator_ids: Sequence[int],
    today: date,
    now: datetime,
    ranks: dict[int, int] | None = None,
) -> dict[int, dict[str, Any]]:
    """Each creator's personal fields (without `unsubscribe_url`), by id; `ranks` are
    the campaign ranks (`campaigns.running_ranks`), read here when not given."""
    if not creator_ids:
        return {}
    ids = list(creator_ids)
    values: dict[int, dict[str, Any]] = {}
    zones: dict[int, str] = {}
    for cid, handle, name, tier, zone in session.execute(
        select(
            Creator.id, Creator.handle, Creator.display_name, Creator.tier, Creator.timezone
        ).where(id_in(session, Creator.id, ids))
    ):
        zones[cid] = zone
        values[cid] = {
            "display_name": name or handle,
            "handle": handle,
            "tier": tier or "",
            "diamonds_30d": 0,
            "live_days_30d": 0,
            "next_match": "",
            "next_partner": "",
            "next_checkin": "",
            "campaign_rank": "",
        }
    # The maintained figures (`results.creator_stats`), made today's first if they are
    # another day's.
    creator_stats.ensure_current(session, today)
    for cid, diamonds, days in session.execute(
        select(
            CreatorResults.creator_id, CreatorResults.diamonds_30d, CreatorResults.live_days_30d
        ).where(id_in(session, CreatorResults.creator_id, ids))
    ):
        if cid in values:
            values[cid]["diamonds_30d"] = int(diamonds)
            values[cid]["live_days_30d"] = int(days)
    if ranks is None:
        from matchdesk.outreach.campaigns import running_ranks

        ranks = running_ranks(session, today)
    for cid, rank in ranks.items():
        if cid in values:
            values[cid]["campaign_rank"] = rank
    _next_matches(session, ids, now, values, zones)
    _next_checkins(session, ids, now, values, zones)
    return values


def _next_matches(
    session: Session,
    ids: list[int],
    now: datetime,
    values: dict[int, dict[str, Any]],
    zones: dict[int, str],
) -> None:
    rows = session.execute(
        select(Match.creator_a_id, Match.creator_b_id, Match.starts_at)
        .where(
            or_(id_in(session, Match.creator_a_id, ids), id_in(session, Match.creator_b_id, ids)),
            Match.starts_at > now,
            Match.status.in_(UPCOMING),
        )
        .order_by(Match.starts_at, Match.id)
    ).all()
    partners = {cid for a, b, _ in rows for cid in (a, b)} - set(values)
    names = (
        {
            cid: name or handle
            for cid, handle, name in session.execute(
                select(Creator.id, Creator.handle, Creator.display_name).where(
                    Creator.id.in_(partners)
                )
            )
        }
        if partners
        else {}
    )
    names.update({cid: v["display_name"] for cid, v in values.items()})
    for a, b, starts in rows:
        for me, other in ((a, b), (b, a)):
            if me in values and not values[me]["next_match"]:
                values[me]["next_match"] = local_date_time(starts, zones[me])
                values[me]["next_partner"] = names.get(other, "")


def _next_checkins(
    session: Session,
    ids: list[int],
    now: datetime,
    values: dict[int, dict[str, Any]],
    zones: dict[int, str],
) -> None:
    try:
        from matchdesk.checkins.models import Checkin
    except ImportError:  # check-ins not installed in this build
        return
    rows = session.execute(
        select(Checkin.creator_id, func.min(Checkin.starts_at))
        .where(
            id_in(session, Checkin.creator_id, ids),
            Checkin.starts_at > now,
            Checkin.status == "booked",
        )
        .group_by(Checkin.creator_id)
    )
    for cid, starts in rows:
        values[cid]["next_checkin"] = local_date_time(starts, zones[cid])

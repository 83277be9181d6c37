"""Each creator's record beside their pair on the board: how they answer and turn up
(`lifecycle.reliability`) and whom they met last, read for a page of matches at once
(two grouped queries and one of recent matches for the page's 200 creators, not a
query per creator)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from matchdesk.rounds.lifecycle import Reliability, reliability
from matchdesk.rounds.models import Match
from matchdesk.rounds.queries import BoardMatch
from matchdesk.rounds.service import handles_of

RECENT = 3  # partners shown per creator


@dataclass(frozen=True)
class Record:
    """A creator's answers record and their latest partners (newest first) from other
    rounds (this round's partner is beside them already)."""

    reliability: Reliability
    recent_partners: list[str]


def creator_records(
    session: Session, creator_ids: Iterable[int], *, round_id: int | None = None
) -> dict[int, Record]:
    """The record of each of `creator_ids` (every id gets one); `round_id`'s own matches
    are left out of the recent partners."""
    ids = sorted(set(creator_ids))
    if not ids:
        return {}
    partners: dict[int, list[int]] = defaultdict(list)
    query = (
        select(Match.creator_a_id, Match.creator_b_id)
        .where(or_(Match.creator_a_id.in_(ids), Match.creator_b_id.in_(ids)))
        .where(Match.status != "proposed")
        .order_by(Match.starts_at.desc(), Match.id.desc())
    )
    if round_id is not None:
        query = query.where(Match.round_id != round_id)
    wanted = set(ids)
    for a, b in session.execute(query):
        for me, other in ((a, b), (b, a)):
            if me in wanted and len(partners[me]) < RECENT:
                partners[me].append(other)
    handle = handles_of(session, {p for met in partners.values() for p in met})
    records = reliability(session, ids)
    return {
        i: Record(records[i], [handle[p] for p in partners.get(i, []) if p in handle]) for i in ids
    }


def page_records(session: Session, round_id: int, matches: list[BoardMatch]) -> dict[int, Record]:
    """The record of both creators of each of `matches` (a page or a row of the board)."""
    return creator_records(
        session, [i for m in matches for i in (m.a_id, m.b_id)], round_id=round_id
    )

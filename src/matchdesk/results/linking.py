"""Sessions and matches: a session names its match (`match_id`, refused when its creator
is not in that match) or overlaps one of its creator's matches; a match both of whose
creators have a linked session is completed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, insert, or_, select, update

from matchdesk.audit import AuditEntry
from matchdesk.results.staging import CREATED, STAGING, UNCHANGED, L, S, Stage, aware
from matchdesk.rounds.models import Match
from matchdesk.tabular import Problems

# A session overlapping one of these matches of its creator is that match. Completed
# matches count too, so a re-import keeps the link it made (unchanged) and a creator's
# second session of the same match (a dropped stream restarted) joins it.
LINKABLE = ("published", "confirmed", "completed")
COMPLETABLE = ("published", "confirmed")
M = Match.__table__.c


def membership_problems(stage: Stage, problems: Problems) -> None:
    """A row naming a match that does not exist, or one its creator is not in."""
    query = (
        select(S.row_number, S.creator_id, S.match_id, M.id)
        .outerjoin(Match.__table__, M.id == S.match_id)
        .where(S.match_id.is_not(None))
        .where(
            or_(
                M.id.is_(None),
                and_(M.creator_a_id != S.creator_id, M.creator_b_id != S.creator_id),
            )
        )
    )
    for number, creator_id, match_id, found in stage.session.execute(query):
        if found is None:
            problems.add(number, "match_id", f"match {match_id} does not exist")
        else:
            problems.add(
                number,
                "match_id",
                f"'{stage.handles[creator_id]}' is not in match {match_id}",
            )


def link_by_overlap(stage: Stage) -> None:
    """Give each staged session without a match id the creator's linkable match it
    overlaps ([start, start + duration) against the match's slot); with several, the one
    it overlaps most, then the earliest."""
    best: dict[int, tuple[timedelta, datetime, int]] = {}
    ended = stage.ended_at()
    for side in (M.creator_a_id, M.creator_b_id):
        query = (
            select(S.row_number, S.started_at, S.duration_minutes, M.id, M.starts_at, M.ends_at)
            .join(Match.__table__, side == S.creator_id)
            .where(S.match_id.is_(None), M.status.in_(LINKABLE))
            .where(M.starts_at < ended, M.ends_at > S.started_at)
        )
        for number, started, minutes, match_id, starts, ends in stage.session.execute(query):
            end = aware(started) + timedelta(minutes=minutes)
            overlap = min(end, aware(ends)) - max(aware(started), aware(starts))
            key = (-overlap, aware(starts), match_id)
            if number not in best or key < best[number]:
                best[number] = key
    if best:
        stage.session.execute(
            update(STAGING)
            .where(S.row_number == bindparam("number"))
            .values(match_id=bindparam("match"))
            .execution_options(synchronize_session=False),
            [{"number": number, "match": key[2]} for number, key in best.items()],
        )


def complete_matches(stage: Stage, actor: str) -> list[int]:
    """Complete every published or confirmed match the import gave a session to, once
    both of its creators have one; each completion is in its round's audit log."""
    session = stage.session
    sessions = L

    def has_session(creator: Any) -> Any:
        return exists().where(sessions.match_id == M.id, sessions.creator_id == creator)

    candidates = select(S.match_id).where(S.match_id.is_not(None), S.state != UNCHANGED)
    rows: Sequence[Any] = session.execute(
        select(M.id, M.round_id)
        .where(M.id.in_(candidates), M.status.in_(COMPLETABLE))
        .where(has_session(M.creator_a_id), has_session(M.creator_b_id))
        .order_by(M.id)
    ).all()
    if not rows:
        return []
    ids = [match_id for match_id, _ in rows]
    for start in range(0, len(ids), 1000):
        session.execute(
            update(Match.__table__)  # type: ignore[arg-type]
            .where(M.id.in_(ids[start : start + 1000]))
            .values(status="completed")
        )
    session.execute(
        insert(AuditEntry),
        [
            {
                "actor": actor,
                "action": "match.completed",
                "subject_type": "round",
                "subject_id": str(round_id),
                "before": None,
                "after": {"match_id": match_id},
            }
            for match_id, round_id in rows
        ],
    )
    return ids


__all__ = ["CREATED", "complete_matches", "link_by_overlap", "membership_problems"]

"""Match uplift from the database: per match, per creator over a date range, and per
round and tier (difference-in-differences against the round's byes).

This module only gathers arrays with set-based SQL (one indexed query for a creator or a
match, one grouped query per group for a round) and hands them to the pure estimators in
`results.bootstrap`, where the method and its minimums are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import ColumnElement, and_, case, func, select, union
from sqlalchemy.orm import Session

from matchdesk.errors import NotFound
from matchdesk.program import Program
from matchdesk.results.bootstrap import (
    BASELINE_DAYS,
    GroupSums,
    Uplift,
    baseline_membership,
    did_uplift,
    session_uplift,
)
from matchdesk.results.models import LiveSession
from matchdesk.roster.models import Creator
from matchdesk.rounds.models import Bye, Match, Round
from matchdesk.rounds.pool import pool_tiers

__all__ = [
    "TierUplift",
    "Uplift",
    "creator_uplift",
    "match_uplifts",
    "round_uplift",
    "tier_uplift",
]

# Byes that are no control: the manager left the creator out, or the creator declined.
NOT_CONTROL = ("excluded", "declined")
_BASELINE = timedelta(days=BASELINE_DAYS)


@dataclass(frozen=True)
class TierUplift:
    """A round's uplift for one tier: difference-in-differences of its matched creators'
    match sessions against its byes (None when either group is below the minimum)."""

    tier: str
    estimate: float | None
    low: float | None
    high: float | None
    n_matched: int
    n_control: int


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _program_midnight(day: date, program: Program) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(program.program.timezone)).astimezone(UTC)


@dataclass(frozen=True)
class _Sessions:
    """One creator's sessions as arrays: start (seconds), local start minute, minutes,
    diamonds, whether a match session, and which match."""

    start: np.ndarray
    minute: np.ndarray
    minutes: np.ndarray
    diamonds: np.ndarray
    match_id: np.ndarray  # 0 for a session that is no match session
    day: list[date]

    @classmethod
    def of(cls, rows: Sequence[Any], timezone: str) -> _Sessions:
        zone = ZoneInfo(timezone)
        starts = [_utc(r.started_at) for r in rows]
        local = [s.astimezone(zone) for s in starts]
        return cls(
            np.array([s.timestamp() for s in starts], dtype=np.float64),
            np.array([t.hour * 60 + t.minute for t in local], dtype=np.int64),
            np.array([r.duration_minutes for r in rows], dtype=np.float64),
            np.array([r.diamonds for r in rows], dtype=np.float64),
            np.array([r.match_id or 0 for r in rows], dtype=np.int64),
            [r.day for r in rows],
        )

    def uplift(self, chosen: np.ndarray) -> Uplift | None:
        """The uplift of the match sessions `chosen` (a mask) against this creator's
        non-match sessions."""
        base = self.match_id == 0
        membership = baseline_membership(
            self.start[chosen], self.minute[chosen], self.start[base], self.minute[base]
        )
        return session_uplift(
            self.diamonds[chosen],
            self.minutes[chosen],
            membership,
            self.diamonds[base],
            self.minutes[base],
        )


_COLUMNS = (
    LiveSession.creator_id,
    LiveSession.started_at,
    LiveSession.duration_minutes,
    LiveSession.diamonds,
    LiveSession.match_id,
    LiveSession.day,
)


def _timezone(session: Session, creator_id: int) -> str:
    zone = session.scalar(select(Creator.timezone).where(Creator.id == creator_id))
    if zone is None:
        raise NotFound(f"No creator {creator_id}.")
    return zone


def creator_uplift(
    session: Session, program: Program, creator_id: int, start: date, end: date
) -> Uplift | None:
    """A creator's uplift over the program days `start` to `end` (both included): their
    match sessions starting on those days against their baselines (SPEC section 5's
    `uplift`). None when no match session has enough baseline."""
    timezone = _timezone(session, creator_id)
    since = _program_midnight(start, program) - _BASELINE
    rows = session.execute(
        select(*_COLUMNS)
        .where(LiveSession.creator_id == creator_id)
        .where(LiveSession.started_at >= since)
        .where(LiveSession.day <= end)
        .order_by(LiveSession.started_at)
    ).all()
    if not rows:
        return None
    sessions = _Sessions.of(rows, timezone)
    in_range = np.array([d >= start for d in sessions.day], dtype=bool)
    chosen = in_range & (sessions.match_id != 0)
    if not chosen.any():
        return None
    return sessions.uplift(chosen)


def match_uplifts(session: Session, program: Program, match_id: int) -> dict[int, Uplift | None]:
    """Each creator's uplift in one match (keyed by creator id; None for a creator with
    no session linked to the match or too small a baseline)."""
    match = session.get(Match, match_id)
    if match is None:
        raise NotFound(f"No match {match_id}.")
    out: dict[int, Uplift | None] = {match.creator_a_id: None, match.creator_b_id: None}
    first, last = session.execute(
        select(func.min(LiveSession.started_at), func.max(LiveSession.started_at)).where(
            LiveSession.match_id == match_id
        )
    ).one()
    if first is None:
        return out
    query = select(Creator.id, Creator.timezone).where(Creator.id.in_(list(out)))
    zones: dict[int, str] = dict(session.execute(query).all())
    rows = session.execute(
        select(*_COLUMNS)
        .where(LiveSession.creator_id.in_(list(out)))
        .where(LiveSession.started_at >= _utc(first) - _BASELINE)
        .where(LiveSession.started_at <= _utc(last))
        .order_by(LiveSession.creator_id, LiveSession.started_at)
    ).all()
    for creator_id in out:
        mine = [r for r in rows if r.creator_id == creator_id]
        sessions = _Sessions.of(mine, zones[creator_id])
        chosen = sessions.match_id == match_id
        if chosen.any():
            out[creator_id] = sessions.uplift(chosen)
    return out


def _group_sums(
    session: Session,
    creators: Any,
    post: ColumnElement[bool],
    period_start: datetime,
    period_end: datetime,
) -> dict[str | None, GroupSums]:
    """Per tier, the summed figures of the creators `creators` (a select of ids): their
    non-match sessions of the 8 weeks before the period, and the sessions `post`."""
    s = LiveSession
    pre = and_(s.started_at < period_start, s.match_id.is_(None))

    def total(condition: ColumnElement[bool], value: Any) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    rows = session.execute(
        select(
            Creator.tier,
            Creator.id,
            total(pre, 1),
            total(pre, s.diamonds),
            total(pre, s.duration_minutes),
            total(post, s.diamonds),
            total(post, s.duration_minutes),
        )
        .select_from(Creator)
        .join(s, s.creator_id == Creator.id)
        .where(Creator.id.in_(creators))
        .where(s.started_at >= period_start - _BASELINE)
        .where(s.started_at < period_end)
        .group_by(Creator.id, Creator.tier)
        .order_by(Creator.id)
    ).all()
    by_tier: dict[str | None, list[Any]] = {}
    for row in rows:
        by_tier.setdefault(row[0], []).append(row[1:])
    out = {}
    for tier, values in by_tier.items():
        table = np.array(values, dtype=np.float64)
        out[tier] = GroupSums.of(
            table[:, 1], table[:, 2], table[:, 3], table[:, 4], table[:, 5], table[:, 0]
        )
    return out


def _round_groups(
    session: Session, round_: Round
) -> tuple[dict[str | None, GroupSums], dict[str | None, GroupSums]]:
    """A round's matched creators and its byes (the control), per tier."""
    start, end = _utc(round_.period_start), _utc(round_.period_end)
    completed = select(Match.id).where(Match.round_id == round_.id, Match.status == "completed")
    matched_ids = union(
        select(Match.creator_a_id).where(Match.id.in_(completed)),
        select(Match.creator_b_id).where(Match.id.in_(completed)),
    )
    bye_ids = select(Bye.creator_id).where(
        Bye.round_id == round_.id, Bye.reason.not_in(NOT_CONTROL)
    )
    matched = _group_sums(
        session, select(matched_ids.subquery()), LiveSession.match_id.in_(completed), start, end
    )
    control = _group_sums(
        session,
        bye_ids,
        and_(LiveSession.started_at >= start, LiveSession.match_id.is_(None)),
        start,
        end,
    )
    return matched, control


def _tier_uplifts(
    program: Program,
    tiers: list[str],
    matched: dict[str | None, GroupSums],
    control: dict[str | None, GroupSums],
) -> list[TierUplift]:
    # Creators whose tier has changed since (to one outside `tiers`) keep a row of their own.
    found = set(matched) | set(control)
    tiers = tiers + [t.name for t in program.tiers if t.name in found and t.name not in tiers]
    empty = GroupSums.of([], [], [], [], [])
    out = []
    for tier in tiers:
        estimate = did_uplift(matched.get(tier, empty), control.get(tier, empty))
        out.append(
            TierUplift(
                tier,
                estimate.estimate,
                estimate.low,
                estimate.high,
                estimate.n_matched,
                estimate.n_control,
            )
        )
    return out


def round_uplift(session: Session, program: Program, round_id: int) -> list[TierUplift]:
    """Per tier of the round's pool (program order): the matched creators' diamonds per
    minute in the round's completed match sessions against their own pre-period (their
    non-match sessions of the 8 weeks before the round), less the same change of the
    round's byes (their non-match sessions in the round's period), with an interval.
    Tiers are the creators' current ones."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound(f"No round {round_id}.")
    matched, control = _round_groups(session, round_)
    tiers = [round_.tier] if round_.tier else pool_tiers(program, round_.cadence, None)
    return _tier_uplifts(program, tiers, matched, control)


def tier_uplift(session: Session, program: Program, start: date, end: date) -> list[TierUplift]:
    """Per tier of the program (program order): `round_uplift` pooled over the published
    rounds whose period starts on the program days `start` to `end` (both included).
    Every (creator, round) counts once (`n_matched`, `n_control` count those); the
    interval resamples creators, so a creator's rounds stay together."""
    return period_uplift(session, program, start, end)[0]


def period_uplift(
    session: Session, program: Program, start: date, end: date
) -> tuple[list[TierUplift], list[tuple[Round, list[TierUplift]]]]:
    """`tier_uplift` of the range, and each of its rounds' `round_uplift` (by period
    start), from one read of each round's groups."""
    rounds = session.scalars(
        select(Round)
        .where(Round.status.in_(("published", "closed")))
        .where(Round.period_start >= _program_midnight(start, program))
        .where(Round.period_start < _program_midnight(end + timedelta(days=1), program))
        .order_by(Round.period_start, Round.id)
    ).all()
    matched: dict[str | None, list[GroupSums]] = {}
    control: dict[str | None, list[GroupSums]] = {}
    each = []
    for round_ in rounds:
        groups = _round_groups(session, round_)
        tiers = [round_.tier] if round_.tier else pool_tiers(program, round_.cadence, None)
        each.append((round_, _tier_uplifts(program, tiers, *groups)))
        for found, into in zip(groups, (matched, control), strict=True):
            for tier, group in found.items():
                into.setdefault(tier, []).append(group)
    pooled = _tier_uplifts(
        program,
        [t.name for t in program.tiers],
        {tier: GroupSums.joined(groups) for tier, groups in matched.items()},
        {tier: GroupSums.joined(groups) for tier, groups in control.items()},
    )
    return pooled, each

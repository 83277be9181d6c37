"""The demo program's history: a few past weekly rounds, played, and the roster's LIVE
sessions of those weeks, with a planted, known match effect.

Each creator goes live on most of their availability days, near the start of the window
(their own clock), for about an hour and a half; a session earns their own rate of
diamonds a minute (set so that 30 days of sessions make about their roster revenue) times
a log-normal day-to-day factor of mean 1. A match session earns `effect` more a minute
(0.30: +30%), which the uplift estimators should find again. Most matches are confirmed
and played; a few are declined or end in a no-show. A few creators have gone dark (no
session in their last days). The same roster and seed always give the same history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from matchdesk.program import Program
from matchdesk.results.records import SessionRecord
from matchdesk.results.service import save_sessions
from matchdesk.roster.models import AvailabilityWindow, Creator
from matchdesk.rounds.lifecycle import DECLINED, PARTNER_DECLINED
from matchdesk.rounds.models import Bye, Match, Round
from matchdesk.rounds.period import program_today
from matchdesk.rounds.service import aware, build_round

EFFECT = 0.30  # the planted match effect on diamonds a minute
WEEKS = 6  # past weekly rounds
LEAD_WEEKS = 2  # weeks of sessions before the first round, so its matches have a baseline
GO_LIVE = 0.8  # chance a creator goes live on an availability day
SESSION_MINUTES = 95.0  # median session length
SPREAD = 0.5  # sigma of the log-normal day-to-day factor
DECLINE = 0.05
NO_SHOW = 0.04
GONE_DARK = 0.05
ACTOR = "demo"


@dataclass(frozen=True)
class History:
    """What `fill_history` made."""

    rounds: list[int]
    sessions: int
    match_sessions: int
    effect: float


@dataclass(frozen=True)
class _Creator:
    id: int
    handle: str
    zone: ZoneInfo
    rate: float  # diamonds a minute
    followers: int
    windows: tuple[tuple[int, int], ...]  # (weekday, local start minute)


def _creators(session: Session) -> list[_Creator]:
    windows: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for creator_id, weekday, start in session.execute(
        select(
            AvailabilityWindow.creator_id,
            AvailabilityWindow.weekday,
            AvailabilityWindow.start_minute,
        ).order_by(
            AvailabilityWindow.creator_id,
            AvailabilityWindow.weekday,
            AvailabilityWindow.start_minute,
        )
    ):
        windows[creator_id].append((weekday, start))
    out = []
    for row in session.execute(
        select(
            Creator.id, Creator.handle, Creator.timezone, Creator.revenue_30d, Creator.followers
        ).order_by(Creator.id)
    ):
        # Creators who gave no availability still stream: three evenings a week.
        mine = tuple(windows[row.id]) or ((1, 1200), (3, 1200), (5, 1230))
        days = len({w for w, _ in mine})
        minutes_30d = days * GO_LIVE * SESSION_MINUTES * np.exp(0.4**2 / 2) * 30 / 7
        rate = max(row.revenue_30d, 30) / minutes_30d
        out.append(_Creator(row.id, row.handle, ZoneInfo(row.timezone), rate, row.followers, mine))
    return out


def _habitual(
    creators: list[_Creator], first: date, last: date, before: datetime, rng: np.random.Generator
) -> list[SessionRecord]:
    """Sessions on the days `first` to `last` of each creator's own clock that start
    before `before`; a creator's sessions never overlap."""
    out = []
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    dark_from = last - timedelta(days=10)
    for c in creators:
        dark = rng.random() < GONE_DARK
        stop = dark_from + timedelta(days=int(rng.integers(0, 7))) if dark else last
        free_from = datetime.min.replace(tzinfo=UTC)
        for day in days:
            if day > stop:
                break
            starts = [s for w, s in c.windows if w == day.weekday()]
            if not starts or rng.random() >= GO_LIVE:
                continue
            local = starts[0] + 5 * int(rng.integers(0, 13))  # up to an hour after the start
            moment = datetime.combine(day, time(0), c.zone) + timedelta(minutes=local)
            started = moment.astimezone(UTC)
            minutes = int(np.clip(rng.lognormal(np.log(SESSION_MINUTES), 0.4), 20, 360))
            # A late window runs into the next day's early one: the first session wins.
            if started < free_from or started >= before:
                continue
            out.append(_session(c, started, minutes, 1.0, rng))
            free_from = started + timedelta(minutes=minutes)
    return out


def _session(
    c: _Creator,
    started_at: datetime,
    minutes: int,
    lift: float,
    rng: np.random.Generator,
    match_id: int | None = None,
) -> SessionRecord:
    factor = float(rng.lognormal(-(SPREAD**2) / 2, SPREAD))
    viewers = int(max(c.followers, 50) * 0.03 * rng.lognormal(0, 0.3))
    return SessionRecord(
        handle=c.handle,
        started_at=started_at,
        duration_minutes=minutes,
        diamonds=round(c.rate * lift * factor * minutes),
        viewers_peak=viewers,
        new_followers=int(rng.poisson(max(c.followers, 50) * 0.0005 * minutes / 60)),
        match_id=match_id,
    )


def _play_round(
    session: Session, round_: Round, rng: np.random.Generator
) -> list[tuple[Match, bool]]:
    """Publish a past round as it happened: most matches confirmed, a few declined (both
    freed, byes as a decline leaves them) or a no-show. Returns the matches played and
    whether as confirmed. No invitations: they would have gone out weeks ago."""
    round_.status = "published"
    round_.published_at = aware(round_.period_start) - timedelta(days=3)
    session.execute(
        update(Match)
        .where(Match.round_id == round_.id)
        .values(status="confirmed", a_response="confirmed", b_response="confirmed")
    )
    matches = list(
        session.scalars(select(Match).where(Match.round_id == round_.id).order_by(Match.id))
    )
    played = []
    for match in matches:
        draw = rng.random()
        if draw < DECLINE:
            match.status = "declined"
            match.b_response = "declined"
            session.add(Bye(round_id=round_.id, creator_id=match.creator_b_id, reason=DECLINED))
            session.add(
                Bye(round_id=round_.id, creator_id=match.creator_a_id, reason=PARTNER_DECLINED)
            )
        elif draw < DECLINE + NO_SHOW:
            match.status = "no_show"
            match.a_no_show = True
            played.append((match, False))
        else:
            played.append((match, True))
    return played


def _match_sessions(
    played: list[tuple[Match, bool]],
    creators: dict[int, _Creator],
    effect: float,
    rng: np.random.Generator,
) -> list[SessionRecord]:
    """Both creators' sessions of each played match (only the partner's of a no-show,
    and not as a match session), starting at the slot, a little longer than it."""
    out = []
    for match, confirmed in played:
        start = aware(match.starts_at)
        slot = int((aware(match.ends_at) - start).total_seconds() // 60)
        a, b = creators[match.creator_a_id], creators[match.creator_b_id]
        if not confirmed:
            out.append(_session(b, start, slot, 1.0, rng))
            continue
        pair = [
            _session(c, start, slot + 5 * int(rng.integers(0, 7)), 1 + effect, rng, match.id)
            for c in (a, b)
        ]
        first, second = pair
        outcome_a = (
            "draw"
            if first.diamonds == second.diamonds
            else ("win" if first.diamonds > second.diamonds else "loss")
        )
        outcome_b = {"win": "loss", "loss": "win", "draw": "draw"}[outcome_a]
        out += [replace(first, outcome=outcome_a), replace(second, outcome=outcome_b)]
    return out


def _without_overlaps(
    habitual: list[SessionRecord], matched: list[SessionRecord]
) -> list[SessionRecord]:
    """Drop a creator's habitual session on the evening of their match (within 8 hours)."""
    taken: dict[str, list[datetime]] = defaultdict(list)
    for s in matched:
        taken[s.handle].append(s.started_at)
    near = timedelta(hours=8)
    return [s for s in habitual if not any(abs(s.started_at - t) < near for t in taken[s.handle])]


def generate_history(
    session: Session,
    program: Program,
    *,
    weeks: int = WEEKS,
    effect: float = EFFECT,
    seed: int = 1,
    today: date | None = None,
) -> tuple[list[int], list[SessionRecord]]:
    """Build and play the `weeks` weekly rounds before this week (program time) and
    generate the roster's sessions from `LEAD_WEEKS` before the first round to the start
    of today.
    Returns the rounds' ids and the sessions, sorted by handle and start (not saved)."""
    if today is None:
        today = program_today(program.program.timezone)
    if weeks <= 0 or not any(t.cadence == "weekly" for t in program.tiers):
        return [], []
    rng = np.random.default_rng(seed)
    monday = today - timedelta(days=today.weekday())
    creators = _creators(session)
    by_id = {c.id: c for c in creators}
    rounds, played = [], []
    for k in range(weeks, 0, -1):
        start = monday - timedelta(weeks=k)
        round_ = build_round(
            session, program, cadence="weekly", start=start, actor=ACTOR, seed=seed + k
        )
        played += _play_round(session, round_, rng)
        session.flush()
        rounds.append(round_.id)
    first = monday - timedelta(weeks=weeks + LEAD_WEEKS)
    matched = _match_sessions(played, by_id, effect, rng)
    midnight = datetime.combine(today, time(0), ZoneInfo(program.program.timezone))
    habitual = _habitual(creators, first, today - timedelta(days=1), midnight.astimezone(UTC), rng)
    habitual = _without_overlaps(habitual, matched)
    sessions = sorted(habitual + matched, key=lambda s: (s.handle, s.started_at))
    return rounds, sessions


def fill_history(
    session: Session,
    program: Program,
    *,
    weeks: int = WEEKS,
    effect: float = EFFECT,
    seed: int = 1,
    today: date | None = None,
) -> History:
    """Give the demo roster its past: rounds played and sessions saved through the
    results import (`save_sessions`: matches linked and completed, the ledger kept,
    `revenue_30d` refreshed), in the caller's transaction."""
    if today is None:
        today = program_today(program.program.timezone)
    rounds, sessions = generate_history(
        session, program, weeks=weeks, effect=effect, seed=seed, today=today
    )
    save_sessions(session, program, sessions, actor=ACTOR, today=today)
    matched = sum(1 for s in sessions if s.match_id is not None)
    return History(rounds, len(sessions), matched, effect)

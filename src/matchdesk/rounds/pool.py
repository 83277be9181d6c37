"""From the database to the engine's input: a round's pool as a `MatchProblem`.

The pool is every active creator whose tier has the round's cadence (or the one tier
asked for). Each creator's weekly windows are expanded to UTC for the period (once per
distinct time zone and set of windows: a real roster repeats them a lot), blocks come
from the block lists, and the history of earlier rounds of the same cadence gives the
cooldown (pairs that met recently), novelty and fairness.

Fairness credit (the engine's `recent_byes`), over the last `FAIRNESS_ROUNDS` rounds: each
bye the creator ended a round with (a partner's decline that no rematch made up for is
one), plus each match lost to a partner's no-show, minus each of their own declines and
no-shows, never below 0; a bye for having declined or been excluded earns nothing. So a
creator left out through no fault of their own is matched first next time, and an
unreliable one does not jump the queue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from matchdesk.errors import InvalidInput
from matchdesk.matching import CreatorTable, MatchProblem, Rules
from matchdesk.matching.problem import offsets_in_period
from matchdesk.program import Program
from matchdesk.roster.availability import Window, expand
from matchdesk.roster.models import AvailabilityWindow, Creator, CreatorBlock
from matchdesk.rounds.models import Bye, Match, Round

# Earlier rounds of the cadence read for novelty (pairs met there score lower) and the
# cooldown; the cooldown itself is the program's `rematch_cooldown_rounds`.
HISTORY_ROUNDS = 12
FAIRNESS_ROUNDS = 4
MET = ("published", "confirmed", "completed", "no_show")
NO_CREDIT_BYES = ("declined", "excluded")
SMALL_POOL = 1_000  # up to this many creators, history is read for them alone


@dataclass(frozen=True)
class PoolCreator:
    """What the rounds layer needs to know of a pool member beside the engine's input."""

    id: int
    handle: str
    tier: str
    timezone: str


@dataclass(frozen=True)
class Pool:
    """A round's pool: members by handle, and the engine's problem."""

    members: dict[str, PoolCreator]
    problem: MatchProblem

    def by_id(self) -> dict[int, PoolCreator]:
        """Members by creator id."""
        return {m.id: m for m in self.members.values()}


def pool_tiers(program: Program, cadence: str, tier: str | None) -> list[str]:
    """The tiers a `cadence` round draws from (just `tier` if given). InvalidInput when the
    tier is unknown or has another cadence."""
    if tier is None:
        return [t.name for t in program.tiers if t.cadence == cadence]
    known = {t.name: t for t in program.tiers}
    if tier not in known:
        raise InvalidInput(
            "the round cannot be built",
            [f"tier: {tier!r} is not a tier of the program ({', '.join(known)})"],
        )
    if known[tier].cadence != cadence:
        raise InvalidInput(
            "the round cannot be built",
            [f"tier: {tier} is matched {known[tier].cadence}, not {cadence}"],
        )
    return [tier]


def pool_creator_ids(session: Session, tiers: Collection[str]) -> list[int]:
    """Ids of the active creators in `tiers`."""
    return list(
        session.scalars(
            select(Creator.id).where(Creator.status == "active").where(Creator.tier.in_(tiers))
        )
    )


def rules_of(program: Program) -> Rules:
    """The engine's hard rules from the program file."""
    m = program.matching
    return Rules(
        duration_minutes=m.duration_minutes,
        max_tier_distance=m.max_tier_distance,
        require_shared_language=m.require_shared_language,
        rematch_cooldown_rounds=m.rematch_cooldown_rounds,
        slot_step_minutes=m.slot_step_minutes,
    )


def _chunks(ids: list[int], size: int = 20_000) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _history(session: Session, cadence: str, before: datetime) -> list[int]:
    """Ids of the published or closed rounds of `cadence` before `before`, newest first."""
    return list(
        session.scalars(
            select(Round.id)
            .where(Round.cadence == cadence)
            .where(Round.status.in_(("published", "closed")))
            .where(Round.period_start < before)
            .order_by(Round.period_start.desc(), Round.id.desc())
            .limit(HISTORY_ROUNDS)
        )
    )


def _fairness_and_pairs(
    session: Session, history: list[int], members: dict[int, str]
) -> tuple[dict[int, int], list[tuple[str, str, int]]]:
    ago = {round_id: i + 1 for i, round_id in enumerate(history)}
    credit: dict[int, int] = defaultdict(int)
    met: dict[frozenset[str], int] = {}
    if not history:
        return credit, []
    recent = {r for r, n in ago.items() if n <= FAIRNESS_ROUNDS}
    byes = (
        select(Bye.creator_id)
        .where(Bye.round_id.in_(recent))
        .where(Bye.reason.not_in(NO_CREDIT_BYES))
    )
    matches = select(
        Match.round_id,
        Match.creator_a_id,
        Match.creator_b_id,
        Match.status,
        Match.a_response,
        Match.b_response,
        Match.a_no_show,
        Match.b_no_show,
    ).where(Match.round_id.in_(history))
    if len(members) <= SMALL_POOL:
        # A board edit checks a pair or two: read their history, not the whole rounds'.
        ids = list(members)
        byes = byes.where(Bye.creator_id.in_(ids))
        matches = matches.where(or_(Match.creator_a_id.in_(ids), Match.creator_b_id.in_(ids)))
    for creator_id in session.scalars(byes):
        if creator_id in members:
            credit[creator_id] += 1
    rows = session.execute(matches)
    for round_id, a, b, status, a_resp, b_resp, a_ns, b_ns in rows:
        if a in members and b in members and status in MET:
            key = frozenset((members[a], members[b]))
            met[key] = min(met.get(key, HISTORY_ROUNDS + 1), ago[round_id])
        if round_id not in recent:
            continue
        for me, my_resp, my_ns, their_ns in ((a, a_resp, a_ns, b_ns), (b, b_resp, b_ns, a_ns)):
            if me not in members:
                continue
            if my_resp == "declined" or my_ns:
                credit[me] -= 1
            elif their_ns:
                credit[me] += 1
    pairs: list[tuple[str, str, int]] = []
    for key, n in met.items():
        first, second = sorted(key)
        pairs.append((first, second, n))
    return credit, sorted(pairs)


@lru_cache(maxsize=4096)
def _offsets(
    timezone: str, period_start: datetime, period_end: datetime
) -> tuple[int, tuple[tuple[int, int], ...]]:
    """`offsets_in_period`, kept per zone and period: ~700 zoneinfo calls each, and every
    board edit and rematch of a round asks again for the same period."""
    return offsets_in_period(timezone, period_start, period_end)


def _merged(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted intervals with overlapping or touching ones joined (as `expand` does)."""
    pieces.sort()
    out: list[tuple[int, int]] = []
    for start, end in pieces:
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def load_pool(
    session: Session,
    program: Program,
    *,
    cadence: str,
    creator_ids: Collection[int],
    period_start: datetime,
    period_end: datetime,
    locked_pairs: Iterable[tuple[str, str]] = (),
    excluded: Iterable[str] = (),
    extra_blocks: Iterable[tuple[str, str]] = (),
    not_before: datetime | None = None,
) -> Pool:
    """The engine's problem for these creators and this period, with blocks, cooldown,
    novelty and fairness from the database. `extra_blocks` are pairs kept apart in this
    round only (a pair one of whom declined the other). With `not_before` (a round built
    once its period had begun), availability before that moment is left out, so no match
    starts in the past."""
    cut = 0 if not_before is None else max(0, (not_before - period_start) // timedelta(minutes=1))
    ids = sorted(set(creator_ids))
    rows: list[tuple[int, str, str | None, str, str, int, int]] = []
    windows: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows.extend(
            session.execute(
                select(
                    Creator.id,
                    Creator.handle,
                    Creator.tier,
                    Creator.languages,
                    Creator.timezone,
                    Creator.followers,
                    Creator.revenue_30d,
                ).where(Creator.id.in_(chunk))
            ).all()
        )
        for creator_id, weekday, start, end in session.execute(
            select(
                AvailabilityWindow.creator_id,
                AvailabilityWindow.weekday,
                AvailabilityWindow.start_minute,
                AvailabilityWindow.end_minute,
            ).where(AvailabilityWindow.creator_id.in_(chunk))
        ):
            windows[creator_id].append((weekday, start, end))
    rows.sort(key=lambda r: r[1])
    members = {
        handle: PoolCreator(cid, handle, tier or "", tz)
        for cid, handle, tier, _l, tz, _f, _r in rows
    }
    handle_of = {m.id: m.handle for m in members.values()}

    minute = timedelta(minutes=1)
    # Expanded per (zone, window), then merged per creator: the union of the windows'
    # pieces, sorted and merged, is exactly what `expand` gives for all of them at once,
    # and a roster repeats the same windows in the same zones over and over.
    piece_cache: dict[tuple[str, int, int, int], list[tuple[int, int]]] = {}
    offsets: dict[str, tuple[int, tuple[tuple[int, int], ...]]] = {}
    vocabulary = sorted({lang for r in rows for lang in r[3].split(";") if lang})
    code = {lang: i for i, lang in enumerate(vocabulary)}
    lang_ptr, avail_ptr, change_ptr = [0], [0], [0]
    lang_code: list[int] = []
    avail_start: list[int] = []
    avail_end: list[int] = []
    change_at: list[int] = []
    change_offset: list[int] = []
    utc_offset: list[int] = []
    for cid, _handle, _tier, languages, tz, _f, _r in rows:
        pieces: list[tuple[int, int]] = []
        for weekday, start, end in windows.get(cid, ()):
            key = (tz, weekday, start, end)
            cached = piece_cache.get(key)
            if cached is None:
                cached = piece_cache[key] = [
                    ((s - period_start) // minute, (e - period_start) // minute)
                    for s, e in expand((Window(weekday, start, end),), tz, period_start, period_end)
                ]
            pieces.extend(cached)
        if tz not in offsets:
            offsets[tz] = _offsets(tz, period_start, period_end)
        lang_code.extend(code[lang] for lang in languages.split(";") if lang)
        lang_ptr.append(len(lang_code))
        for s, e in _merged(pieces):
            if e > cut:
                avail_start.append(max(s, cut))
                avail_end.append(e)
        avail_ptr.append(len(avail_start))
        first, changes = offsets[tz]
        utc_offset.append(first)
        for at, offset in changes:
            change_at.append(at)
            change_offset.append(offset)
        change_ptr.append(len(change_at))

    history = _history(session, cadence, period_start)
    credit, recent_pairs = _fairness_and_pairs(session, history, handle_of)
    tier_position = {t.name: i for i, t in enumerate(program.tiers)}
    table = CreatorTable.from_arrays(
        ids=[r[1] for r in rows],
        tier=np.array([tier_position.get(r[2] or "", 0) for r in rows], dtype=np.int64),
        vocabulary=vocabulary,
        lang_ptr=lang_ptr,
        lang_code=np.array(lang_code, dtype=np.int64),
        followers=np.array([r[5] for r in rows], dtype=np.int64),
        revenue=np.array([r[6] for r in rows], dtype=np.int64),
        avail_ptr=avail_ptr,
        avail_start=np.array(avail_start, dtype=np.int64),
        avail_end=np.array(avail_end, dtype=np.int64),
        utc_offset=np.array(utc_offset, dtype=np.int64),
        change_ptr=change_ptr,
        change_at=np.array(change_at, dtype=np.int64),
        change_offset=np.array(change_offset, dtype=np.int64),
        recent_byes=np.array([max(0, credit.get(r[0], 0)) for r in rows], dtype=np.int64),
    )
    blocks = set(extra_blocks)
    for chunk in _chunks(ids):
        for a, b in session.execute(
            select(CreatorBlock.creator_id, CreatorBlock.blocked_id).where(
                CreatorBlock.creator_id.in_(chunk)
            )
        ):
            if a in handle_of and b in handle_of:
                blocks.add((handle_of[a], handle_of[b]))
    problem = MatchProblem(
        period_start,
        period_end,
        table,
        blocks=tuple(sorted(blocks)),
        recent_pairs=tuple(recent_pairs),
        locked_pairs=tuple(locked_pairs),
        excluded=frozenset(excluded),
        rules=rules_of(program),
    )
    return Pool(members, problem)

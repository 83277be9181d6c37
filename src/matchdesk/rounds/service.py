"""Building a round and reading it back.

`build_round` takes the pool from the database, runs the engine and stores the matches
and byes as a draft round, all in the caller's transaction. A large pool runs the same
function as a background job (`rounds.jobs`), with its progress on the page and in the
CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from matchdesk import audit
from matchdesk.db import bulk_insert
from matchdesk.errors import Conflict, InvalidInput, NotFound
from matchdesk.matching import Result, solve
from matchdesk.matching.result import ByeReason
from matchdesk.program import Program
from matchdesk.roster.models import Creator, utcnow
from matchdesk.rounds.models import Bye, Match, Round
from matchdesk.rounds.period import round_period
from matchdesk.rounds.pool import Pool, load_pool, pool_creator_ids, pool_tiers

NO_AVAILABILITY = "no availability"  # a bye's reason: no weekly window falls in the period
Step = Callable[[int, str], None]  # (step number 1..3, what is happening)
BUILD_STEPS = 3


def _no_step(_step: int, _message: str) -> None:
    return None


@dataclass(frozen=True)
class RoundPlan:
    """What a round to build covers, before it is built."""

    cadence: str
    tier: str | None
    start: date
    period_start: datetime
    period_end: datetime
    tiers: tuple[str, ...]
    pool_size: int


def aware(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime (SQLite gives naive UTC back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def first_slot(moment: datetime, step_minutes: int) -> datetime:
    """The first start on the slot grid (multiples of `step_minutes` from 00:00 UTC) at
    or after `moment`."""
    midnight = aware(moment).replace(hour=0, minute=0, second=0, microsecond=0)
    step = timedelta(minutes=step_minutes)
    return midnight + -(-(aware(moment) - midnight) // step) * step


def plan_round(
    session: Session,
    program: Program,
    *,
    cadence: str,
    start: date,
    tier: str | None,
    not_before: datetime | None = None,
) -> RoundPlan:
    """Check a round request and size its pool. Raises InvalidInput for a bad cadence,
    start date or tier, or (with `not_before`, the moment of building) a period that has
    ended; Conflict when a round for that period and pool exists already."""
    period_start, period_end = round_period(cadence, start, program.program.timezone)
    if not_before is not None and first_slot(
        not_before, program.matching.slot_step_minutes
    ) + timedelta(minutes=program.matching.duration_minutes) > aware(period_end):
        period = "week" if cadence == "weekly" else "month"
        raise InvalidInput(
            "the round cannot be built",
            [
                f"start: the {period} starting {start.isoformat()} has ended, or has no "
                f"time left for a match; build a round for a later {period}"
            ],
        )
    tiers = pool_tiers(program, cadence, tier)
    existing = session.scalars(
        select(Round)
        .where(Round.cadence == cadence)
        .where(Round.period_start == period_start)
        .where(Round.status != "discarded")
        .order_by(Round.id)
    ).all()
    for other in existing:
        if other.tier is None or tier is None or other.tier == tier:
            pool = f"tier {other.tier}" if other.tier else "every tier"
            raise Conflict(
                f"Round {other.id} ({cadence}, {pool}) already covers the period starting "
                f"{start.isoformat()}. Open it, or discard it before building another.",
                links=[(f"/rounds/{other.id}", f"Open round {other.id}")],
            )
    size = len(pool_creator_ids(session, tiers))
    return RoundPlan(cadence, tier, start, period_start, period_end, tuple(tiers), size)


def build_round(
    session: Session,
    program: Program,
    *,
    cadence: str,
    start: date,
    tier: str | None = None,
    actor: str,
    seed: int = 0,
    step: Step = _no_step,
    not_before: datetime | None = None,
) -> Round:
    """Build and store a draft round (see the module docstring). `step` hears of each of
    the three steps (load the pool, match, store) as it starts. `not_before` (the web
    and the command line pass the present moment; the demo's history passes none): a
    period that has ended is refused, and in one that has begun no match starts before
    the first slot after it (`statistics["not_before"]`, kept for later edits)."""
    plan = plan_round(
        session, program, cadence=cadence, start=start, tier=tier, not_before=not_before
    )
    cut = None
    if not_before is not None:
        cut = first_slot(not_before, program.matching.slot_step_minutes)
        if cut <= plan.period_start:
            cut = None
    step(1, f"Loading {plan.pool_size:,} creators")
    pool = load_pool(
        session,
        program,
        cadence=cadence,
        creator_ids=pool_creator_ids(session, plan.tiers),
        period_start=plan.period_start,
        period_end=plan.period_end,
        not_before=cut,
    )
    step(2, f"Matching {plan.pool_size:,} creators")
    result = solve(pool.problem, seed=seed)
    step(3, f"Storing {len(result.pair_a):,} matches")
    now = utcnow()
    round_ = Round(
        cadence=cadence,
        tier=tier,
        period_start=plan.period_start,
        period_end=plan.period_end,
        status="draft",
        seed=seed,
        statistics={**statistics_of(result), **({"not_before": isoformat_z(cut)} if cut else {})},
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(round_)
    session.flush()
    store_result(session, round_, pool, result)
    audit.record(
        session,
        actor,
        "round.built",
        "round",
        round_.id,
        after={
            "cadence": cadence,
            "tier": tier,
            "start": start.isoformat(),
            "matches": len(result.pair_a),
            "byes": len(result.bye_rows),
        },
    )
    return round_


def statistics_of(result: Result) -> dict[str, Any]:
    """The engine's figures kept on the round."""
    s = result.statistics
    return {
        "status": str(result.status),
        "creators": s.creators,
        "eligible": s.eligible,
        "matched": s.matched,
        "candidate_edges": s.candidate_edges,
        "weight": round(s.weight, 4),
        "upper_bound": round(s.upper_bound, 4),
        "bound": s.bound,
        "seconds": {k: round(v, 3) for k, v in s.phase_seconds.items()},
    }


def score_columns(
    revenue: float, audience: float, slot: float, novelty: float, fairness: float, total: float
) -> dict[str, float]:
    """A match's score columns from the engine's parts (in `ScoreParts` order)."""
    return {
        "score": total,
        "revenue": revenue,
        "audience": audience,
        "slot": slot,
        "novelty": novelty,
        "fairness": fairness,
    }


def store_result(
    session: Session,
    round_: Round,
    pool: Pool,
    result: Result,
    *,
    status: str = "proposed",
    reuse: dict[tuple[int, int], int] | None = None,
) -> list[tuple[int, int]]:
    """Insert the result's matches (skipping locked pairs, which are stored already) and
    replace the byes of the result's creators. Returns the result's (unlocked) matches'
    creator id pairs. `reuse` ({(creator a id, creator b id): match id}, a below b by
    handle) are the round's standing unlocked matches: a pair found again keeps its row
    (its time and score updated), the others are deleted."""
    reuse = dict(reuse or {})
    kept: list[dict[str, Any]] = []
    problem = pool.problem
    ids = problem.creators.ids
    members = pool.members
    duration = timedelta(minutes=problem.rules.duration_minutes)
    origin = aware(problem.period_start)
    locked = result.locked
    parts = [p.tolist() for p in result.parts]
    rows: list[dict[str, Any]] = []
    pairs: list[tuple[int, int]] = []
    for i, (a, b, minute) in enumerate(
        zip(
            result.pair_a.tolist(),
            result.pair_b.tolist(),
            result.start_minute.tolist(),
            strict=True,
        )
    ):
        if bool(locked[i]):
            continue
        first, second = members[str(ids[a])], members[str(ids[b])]
        if first.handle > second.handle:
            first, second = second, first
        starts = origin + timedelta(minutes=minute)
        pairs.append((first.id, second.id))
        scores = score_columns(*(part[i] for part in parts))
        reused = reuse.pop((first.id, second.id), None)
        if reused is not None:
            kept.append({"id": reused, "starts_at": starts, "ends_at": starts + duration, **scores})
            continue
        rows.append(
            {
                "round_id": round_.id,
                "creator_a_id": first.id,
                "creator_b_id": second.id,
                "starts_at": starts,
                "ends_at": starts + duration,
                **scores,
                "status": status,
                "locked": False,
                "manual": False,
                "a_response": "pending",
                "b_response": "pending",
                "a_no_show": False,
                "b_no_show": False,
            }
        )
    gone = sorted(reuse.values())
    for i in range(0, len(gone), 20_000):
        session.execute(delete(Match).where(Match.id.in_(gone[i : i + 20_000])))
    if kept:
        session.execute(update(Match), kept)  # one executemany by primary key
    bulk_insert(session, Match.__table__, rows)  # type: ignore[arg-type]
    pool_ids = [m.id for m in members.values()]
    for i in range(0, len(pool_ids), 20_000):
        session.execute(
            delete(Bye)
            .where(Bye.round_id == round_.id)
            .where(Bye.creator_id.in_(pool_ids[i : i + 20_000]))
        )
    # The engine says "no feasible partner" also for a creator with no time at all in the
    # period; the manager needs to hear the real reason.
    has_time = np.diff(problem.creators.avail_ptr) > 0
    bulk_insert(
        session,
        Bye.__table__,  # type: ignore[arg-type]
        [
            {
                "round_id": round_.id,
                "creator_id": members[str(ids[row])].id,
                "reason": NO_AVAILABILITY
                if reason == ByeReason.NO_FEASIBLE_PARTNER and not has_time[row]
                else str(reason),
            }
            for row, reason in zip(result.bye_rows.tolist(), result.bye_reasons, strict=True)
        ],
    )
    return pairs


def round_not_before(round_: Round) -> datetime | None:
    """The moment before which no match of the round may start: set when the round was
    built after its period had begun (edits and re-optimising keep to it)."""
    value = (round_.statistics or {}).get("not_before")
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def late_build_note(round_: Round, timezone: str) -> str:
    """A sentence for a round built after its period began ("" otherwise)."""
    cut = round_not_before(round_)
    if cut is None:
        return ""
    local = cut.astimezone(ZoneInfo(timezone))
    return (
        f"The period had already begun: matches start from {local:%a} {local.day} "
        f"{local:%b %H:%M} ({timezone}); earlier times are left out."
    )


def get_round(session: Session, round_id: int) -> Round:
    """The round, or NotFound."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound(f"No round {round_id}.")
    return round_


def list_rounds(session: Session, limit: int = 100) -> list[tuple[Round, int, int]]:
    """Recent rounds (newest period first) with their match and bye counts."""
    rounds = session.scalars(
        select(Round)
        .where(Round.status != "discarded")
        .order_by(Round.period_start.desc(), Round.id.desc())
        .limit(limit)
    ).all()
    ids = [r.id for r in rounds]
    matches = _counts(session, Match.round_id, ids)
    byes = _counts(session, Bye.round_id, ids)
    return [(r, matches.get(r.id, 0), byes.get(r.id, 0)) for r in rounds]


def key_counts(session: Session, statement: Select[*tuple[Any, ...]]) -> dict[Any, int]:
    """`{key: count}` from a `SELECT key, count(*) ... GROUP BY key`, sorted by key."""
    return dict(sorted((key, count) for key, count in session.execute(statement)))


def _counts(session: Session, column: Any, ids: list[int]) -> dict[int, int]:
    return key_counts(session, select(column, func.count()).where(column.in_(ids)).group_by(column))


def count_matches(session: Session, round_id: int, status: str) -> int:
    """How many of the round's matches have `status`."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Match)
            .where(Match.round_id == round_id)
            .where(Match.status == status)
        )
        or 0
    )


def round_pool_ids(session: Session, round_id: int) -> list[int]:
    """Every creator of the round's pool: in a match (any status) or with a bye."""
    ids: set[int] = set()
    for a, b in session.execute(
        select(Match.creator_a_id, Match.creator_b_id).where(Match.round_id == round_id)
    ):
        ids.update((a, b))
    ids.update(session.scalars(select(Bye.creator_id).where(Bye.round_id == round_id)))
    return sorted(ids)


def in_round_pool(session: Session, round_id: int, creator_id: int) -> bool:
    """Whether the creator is in the round's pool (`round_pool_ids`, for one creator: two
    indexed look-ups, not the whole round read)."""
    in_match = session.scalar(
        select(Match.id)
        .where(Match.round_id == round_id)
        .where((Match.creator_a_id == creator_id) | (Match.creator_b_id == creator_id))
        .limit(1)
    )
    if in_match is not None:
        return True
    bye = select(Bye.id).where(Bye.round_id == round_id).where(Bye.creator_id == creator_id)
    return session.scalar(bye.limit(1)) is not None


def bump_version(session: Session, round_: Round, expected_version: int | None) -> None:
    """Raise the round's version, refusing with Conflict when it is no longer
    `expected_version` (another manager changed the round since this edit's page was
    drawn). The check and the raise are one UPDATE, so two concurrent edits cannot both
    pass it. `None` skips the check (the CLI, background work)."""
    query = update(Round).where(Round.id == round_.id)
    if expected_version is not None:
        query = query.where(Round.version == expected_version)
    changed = session.execute(
        query.values(version=Round.version + 1, updated_at=utcnow()).execution_options(
            synchronize_session=False
        )
    )
    if getattr(changed, "rowcount", 1) == 0:
        session.refresh(round_)
        last = audit.entries_for(session, "round", round_.id)[:1]
        who = f" by {last[0].actor.removeprefix('operator:')}" if last else ""
        raise Conflict(
            f"Round {round_.id} was changed{who} since you opened it "
            f"(your version {expected_version}, now {round_.version}). "
            "Reload the board to see the change, then try again; nothing was saved."
        )
    session.refresh(round_)


def open_round(
    session: Session,
    round_id: int,
    expected_version: int | None,
    allowed: tuple[str, ...],
    refusal: str,
) -> Round:
    """The round for an edit: its status must be one of `allowed` (else Conflict "Round N
    is <status>; <refusal>"), and its version is raised (`bump_version`)."""
    round_ = get_round(session, round_id)
    if round_.status not in allowed:
        raise Conflict(f"Round {round_id} is {round_.status}; {refusal}")
    bump_version(session, round_, expected_version)
    return round_


def discard_round(
    session: Session, round_id: int, *, actor: str, expected_version: int | None
) -> Round:
    """Discard a draft round (a published one has invitations out: it cannot be)."""
    round_ = open_round(
        session, round_id, expected_version, ("draft",), "only a draft can be discarded."
    )
    round_.status = "discarded"
    audit.record(session, actor, "round.discarded", "round", round_id)
    return round_


def handles_of(session: Session, ids: set[int] | list[int]) -> dict[int, str]:
    """Handle by creator id."""
    out: dict[int, str] = {}
    ordered = sorted(ids)
    for i in range(0, len(ordered), 20_000):
        # (A Result has .keys(), so dict.update would take it for a mapping.)
        out.update(
            (creator_id, handle)
            for creator_id, handle in session.execute(
                select(Creator.id, Creator.handle).where(Creator.id.in_(ordered[i : i + 20_000]))
            )
        )
    return out


def isoformat_z(moment: datetime) -> str:
    """`2026-03-09T01:00:00Z`."""
    return aware(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def round_document(session: Session, round_id: int) -> dict[str, Any]:
    """The round as `matchdesk rounds show ID --json` prints it (SPEC section 3): matches
    by start time then id, byes by handle."""
    round_ = get_round(session, round_id)
    matches = session.execute(
        select(
            Match.id,
            Match.creator_a_id,
            Match.creator_b_id,
            Match.starts_at,
            Match.ends_at,
            Match.score,
            Match.status,
        )
        .where(Match.round_id == round_id)
        .order_by(Match.starts_at, Match.id)
    ).all()
    byes = session.execute(select(Bye.creator_id, Bye.reason).where(Bye.round_id == round_id)).all()
    handles = handles_of(
        session,
        {m.creator_a_id for m in matches}
        | {m.creator_b_id for m in matches}
        | {b[0] for b in byes},
    )
    return {
        "round_id": round_.id,
        "cadence": round_.cadence,
        "period_start": isoformat_z(round_.period_start),
        "period_end": isoformat_z(round_.period_end),
        "matches": [
            {
                "match_id": m.id,
                "creator_a": handles[m.creator_a_id],
                "creator_b": handles[m.creator_b_id],
                "starts_at": isoformat_z(m.starts_at),
                "ends_at": isoformat_z(m.ends_at),
                "score": round(float(m.score), 4),
                "status": m.status,
            }
            for m in matches
        ],
        "byes": sorted(
            ({"creator": handles[cid], "reason": reason} for cid, reason in byes),
            key=lambda b: b["creator"],
        ),
    }

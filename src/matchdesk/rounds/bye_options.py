"""Who a creator with a bye could be paired with, and why not each of the others.

The round's other creators without a match are checked against the engine's hard rules
(`matching.pairs.pair_violations`: tier distance, shared language, a shared slot, blocks,
the rematch cooldown), each with their reliability and recent partners, so a manager can
pair two from the board knowing what they get.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchdesk.errors import InvalidInput, NotFound
from matchdesk.matching.pairs import pair_violations
from matchdesk.program import Program
from matchdesk.roster.models import Creator
from matchdesk.roster.service import get_creator
from matchdesk.rounds.lifecycle import Reliability, reliability
from matchdesk.rounds.models import Bye, Round
from matchdesk.rounds.pool import load_pool
from matchdesk.rounds.queries import match_history
from matchdesk.rounds.service import aware, round_not_before

MAX_OPTIONS = 200  # other byes checked; a round with more asks for a search
RECENT = 3


@dataclass(frozen=True)
class Option:
    """Another creator without a match: why they may not be paired (empty: they may)."""

    handle: str
    tier: str | None
    bye_reason: str
    problems: list[str]
    reliability: Reliability
    recent_partners: list[str]


@dataclass(frozen=True)
class ByeOptions:
    """A creator's bye, their record, and every other free creator checked against them."""

    handle: str
    tier: str | None
    bye_reason: str
    reliability: Reliability
    recent_partners: list[str]
    options: list[Option]  # the possible ones first, then by handle
    others_total: int  # other creators without a match (options holds at most MAX_OPTIONS)


def _recent(session: Session, creator: Creator) -> list[str]:
    out: list[str] = []
    for m in match_history(session, creator.id, limit=RECENT):
        out.append(m.b if m.a == creator.handle else m.a)
    return out


def bye_options(session: Session, program: Program, round_id: int, handle: str) -> ByeOptions:
    """The options of `handle`, who has a bye in round `round_id`. Raises `NotFound`, or
    `InvalidInput` when the creator is not without a match in the round."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound(f"No round {round_id}.")
    creator = get_creator(session, handle)
    if creator is None:
        raise NotFound(f"No creator with handle @{handle.lstrip('@')}.")
    mine = session.scalar(
        select(Bye.reason).where(Bye.round_id == round_id, Bye.creator_id == creator.id)
    )
    if mine is None:
        raise InvalidInput(
            "no options to show", [f"@{creator.handle} has no bye in round {round_id}"]
        )
    others = session.execute(
        select(Creator, Bye.reason)
        .join(Bye, Bye.creator_id == Creator.id)
        .where(Bye.round_id == round_id, Creator.id != creator.id)
        .order_by(Creator.handle)
    ).all()
    shown = others[:MAX_OPTIONS]
    pool = load_pool(
        session,
        program,
        cadence=round_.cadence,
        creator_ids=[creator.id, *(c.id for c, _ in shown)],
        period_start=aware(round_.period_start),
        period_end=aware(round_.period_end),
        not_before=round_not_before(round_),
    )
    records = reliability(session, [creator.id, *(c.id for c, _ in shown)])
    options = []
    for other, reason in shown:
        problems = [
            f"the pair {v.message}"
            for v in pair_violations(pool.problem, creator.handle, other.handle)
        ]
        if reason == "excluded":
            problems.insert(0, f"@{other.handle} is excluded from the round")
        options.append(
            Option(
                other.handle,
                other.tier,
                reason,
                problems,
                records[other.id],
                _recent(session, other),
            )
        )
    options.sort(key=lambda o: (bool(o.problems), o.handle))
    return ByeOptions(
        creator.handle,
        creator.tier,
        mine,
        records[creator.id],
        _recent(session, creator),
        options,
        len(others),
    )

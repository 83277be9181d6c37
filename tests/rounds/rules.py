"""The check every edit test ends with: the round's standing matches keep every hard rule."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.matching.pairs import pair_violations
from matchdesk.rounds.board import LIVE
from matchdesk.rounds.models import Bye, Match, Round
from matchdesk.rounds.pool import load_pool
from matchdesk.rounds.service import aware, handles_of, round_pool_ids


def assert_hard_rules_hold(md: Matchdesk, round_id: int) -> None:
    """Each creator in at most one standing match and not also a bye; every standing pair
    allowed by every hard rule, at a start both can make, lasting the match length."""
    with md.transaction() as session:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        ids = round_pool_ids(session, round_id)
        handle = handles_of(session, ids)
        pool = load_pool(
            session,
            md.program,
            cadence=round_.cadence,
            creator_ids=ids,
            period_start=aware(round_.period_start),
            period_end=aware(round_.period_end),
        )
        standing = session.scalars(
            select(Match).where(Match.round_id == round_id).where(Match.status.in_(LIVE))
        ).all()
        byes = set(session.scalars(select(Bye.creator_id).where(Bye.round_id == round_id)))
    problem = pool.problem
    seen = Counter(c for m in standing for c in (m.creator_a_id, m.creator_b_id))
    assert [c for c, n in seen.items() if n > 1] == []
    assert set(seen) & byes == set()
    assert set(seen) | byes == set(ids)
    for m in standing:
        a, b = handle[m.creator_a_id], handle[m.creator_b_id]
        assert a < b
        assert pair_violations(problem, a, b) == []
        start = int((aware(m.starts_at) - problem.period_start).total_seconds() // 60)
        table = problem.creators
        assert start in problem.shared_starts(table.index_of(a), table.index_of(b))
        assert (
            aware(m.ends_at) - aware(m.starts_at)
        ).total_seconds() == 60 * problem.rules.duration_minutes

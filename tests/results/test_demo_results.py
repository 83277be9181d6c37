"""The demo's history (past rounds played, sessions with a planted match effect) and the
uplift estimators finding that effect again, or none when none was planted (both
backends)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from matchdesk.context import Matchdesk
from matchdesk.results.demo import fill_history, generate_history
from matchdesk.results.models import LiveSession
from matchdesk.results.uplift import TierUplift, creator_uplift, tier_uplift
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.models import Creator
from matchdesk.roster.service import save_records
from matchdesk.rounds.models import Match, Round

TODAY = date(2026, 12, 2)  # a Wednesday: six past rounds from Monday 19 October
HISTORY = (date(2026, 10, 1), date(2026, 12, 1))


def _demo(md: Matchdesk, effect: float, creators: int = 200) -> None:
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(creators, 1))
        fill_history(session, md.program, effect=effect, seed=1, today=TODAY)


def _holds(row: TierUplift, value: float) -> bool:
    return row.low is not None and row.high is not None and row.low <= value <= row.high


def _near(row: TierUplift, value: float, tolerance: float) -> bool:
    return row.estimate is not None and abs(row.estimate - value) <= tolerance


def test_history_rounds_and_sessions(md: Matchdesk) -> None:
    _demo(md, 0.30)
    with md.transaction() as session:
        rounds = session.execute(
            select(Round.id, Round.status, Round.period_start).order_by(Round.id)
        ).all()
        assert [(r.id, r.status, r.period_start.date()) for r in rounds] == [
            (1, "published", date(2026, 10, 19)),
            (2, "published", date(2026, 10, 26)),
            (3, "published", date(2026, 11, 2)),
            (4, "published", date(2026, 11, 9)),
            (5, "published", date(2026, 11, 16)),
            (6, "published", date(2026, 11, 23)),
        ]
        statuses = Counter(session.scalars(select(Match.status)))
        assert statuses == {"completed": 329, "declined": 19, "no_show": 18}
        # Both creators of every completed match have one session linked to it, with
        # outcomes that agree (a win against a loss, or two draws).
        linked = session.execute(
            select(LiveSession.match_id, LiveSession.outcome, LiveSession.diamonds)
            .where(LiveSession.match_id.is_not(None))
            .order_by(LiveSession.match_id, LiveSession.outcome)
        ).all()
        by_match: dict[int | None, list[tuple[str | None, int]]] = {}
        for match_id, outcome, diamonds in linked:
            by_match.setdefault(match_id, []).append((outcome, diamonds))
        completed = set(session.scalars(select(Match.id).where(Match.status == "completed")))
        assert set(by_match) == completed
        for (outcome_1, d1), (outcome_2, d2) in by_match.values():
            assert (outcome_1, outcome_2) == (("draw", "draw") if d1 == d2 else ("loss", "win"))
            assert d1 <= d2  # the loser earned less
        first, last, count = session.execute(
            select(
                func.min(LiveSession.started_at),
                func.max(LiveSession.started_at),
                func.count(),
            )
        ).one()
        assert (first.date(), last.date(), count) == (date(2026, 10, 5), date(2026, 12, 2), 4785)
        assert session.scalar(select(func.count()).select_from(Creator)) == 200


def test_same_seed_same_history(md: Matchdesk) -> None:
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(60, 3))
        _rounds, sessions = generate_history(session, md.program, seed=3, today=TODAY)
        session.rollback()
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(60, 3))
        _rounds, again = generate_history(session, md.program, seed=3, today=TODAY)
    # Match ids are the database's (PostgreSQL's sequences do not roll back).
    assert [replace(s, match_id=None) for s in again] == [
        replace(s, match_id=None) for s in sessions
    ]
    assert all(s.started_at < datetime(2026, 12, 2, 8, tzinfo=UTC) for s in sessions)


def test_uplift_finds_the_planted_effect(md: Matchdesk) -> None:
    """+30% planted: the interval of each matched tier holds 0.30, and the estimates are
    within about one and a half standard errors of it: B (about 85 matched creators a
    round) within 0.1, A (about 15) within 0.2. Most creators' own intervals hold it too."""
    _demo(md, 0.30)
    with md.transaction() as session:
        tiers = tier_uplift(session, md.program, *HISTORY)
    assert tiers == [
        TierUplift("S", None, None, None, 0, 0),  # matched monthly: no round in the demo
        TierUplift("A", 0.479749, 0.263172, 0.719347, 88, 123),
        TierUplift("B", 0.276327, 0.089537, 0.467302, 501, 217),
    ]
    assert [_holds(row, 0.30) for row in tiers] == [False, True, True]
    tolerances = (0.0, 0.2, 0.1)
    near = [_near(row, 0.30, tolerance) for row, tolerance in zip(tiers, tolerances, strict=True)]
    assert near == [False, True, True]
    with md.transaction() as session:
        ids = session.scalars(select(Creator.id).order_by(Creator.id)).all()
        found = [creator_uplift(session, md.program, i, *HISTORY) for i in ids]
    measured = [u for u in found if u is not None]
    covered = sum(1 for u in measured if u.low <= 0.30 <= u.high)
    # 154 creators have a measured uplift; 136 of their intervals (88%) hold the planted
    # effect: a few match sessions against a few weeks of baseline is a small sample.
    assert (len(measured), covered) == (154, 136)


def test_uplift_finds_nothing_when_nothing_was_planted(md: Matchdesk) -> None:
    _demo(md, 0.0)
    with md.transaction() as session:
        tiers = tier_uplift(session, md.program, *HISTORY)
    assert tiers == [
        TierUplift("S", None, None, None, 0, 0),
        TierUplift("A", 0.147297, -0.024041, 0.337398, 88, 123),
        TierUplift("B", -0.021522, -0.183509, 0.138228, 501, 217),
    ]
    assert [_holds(row, 0.0) for row in tiers] == [False, True, True]


def test_demo_command_fills_history(run) -> None:  # type: ignore[no-untyped-def]
    outcome = run("demo", "--creators", "60", "--seed", "5", "--weeks", "2")
    assert outcome.code == 0
    lines = outcome.stdout.splitlines()
    assert lines[1].startswith("Demo history: 2 past weekly rounds played, ")
    assert lines[1].endswith("with a planted match effect of +30% diamonds a minute).")
    none = run("demo", "--weeks", "0")  # refused: the database has creators
    assert none.code == 1

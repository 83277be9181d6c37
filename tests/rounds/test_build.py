"""Building rounds from the database: the pool, the period, blocks, cooldown, fairness."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from matchdesk import audit
from matchdesk.context import Matchdesk
from matchdesk.errors import Conflict, InvalidInput
from matchdesk.jobs import service as jobs
from matchdesk.jobs.catalog import default_registry
from matchdesk.matching import Weights
from matchdesk.rounds.lifecycle import publish
from matchdesk.rounds.models import Match, Round
from matchdesk.rounds.service import discard_round, plan_round
from tests.rounds.conftest import (
    MANAGER,
    NEXT_WEEK,
    NEXT_WEEK_START,
    WEEK,
    WEEK_START,
    add_roster,
    build,
    byes,
    creator,
    document,
    fairness_credit,
    pairs,
    weekly_pool,
)


def small_roster(md: Matchdesk) -> None:
    add_roster(
        md,
        creator("ana"),
        creator("ben"),
        # Berlin is UTC+1 in December: Tuesday 20:00 local is 19:00 UTC.
        creator("cat", languages="de", timezone="Europe/Berlin", availability="Tue 20:00-21:00"),
        creator("dan", languages="de;en", timezone="Europe/Berlin", availability="Tue 20:00-21:00"),
        creator("eve", languages="fr"),  # nobody else speaks French
        creator("fay", availability="Wed 18:00-19:00", blocked=("gus",)),
        creator("gus", availability="Wed 18:00-19:00"),
        creator("sam", revenue=300_000),  # tier S: matched monthly, not in a weekly round
        creator("pia", status="paused"),
    )


def test_a_round_pairs_who_can_meet_and_says_why_the_others_cannot(md: Matchdesk) -> None:
    small_roster(md)
    round_id = build(md)
    doc = document(md, round_id)
    assert (doc["round_id"], doc["cadence"], doc["period_start"], doc["period_end"]) == (
        round_id,
        "weekly",
        "2026-11-30T08:00:00Z",
        "2026-12-07T08:00:00Z",
    )
    assert pairs(md, round_id) == [
        ("ana", "ben", "2026-11-30T18:00:00Z", "proposed"),
        ("cat", "dan", "2026-12-01T19:00:00Z", "proposed"),
    ]
    assert [m["ends_at"] for m in doc["matches"]] == [
        "2026-11-30T19:00:00Z",
        "2026-12-01T20:00:00Z",
    ]
    assert byes(md, round_id) == {
        "eve": "no feasible partner",
        "fay": "no feasible partner",  # fay blocks gus
        "gus": "no feasible partner",
    }
    with md.transaction() as session:
        matches = session.scalars(select(Match).order_by(Match.id)).all()
        weights = Weights()
        for m in matches:
            parts = (m.revenue, m.audience, m.slot, m.novelty, m.fairness)
            total = (
                sum(
                    w * p
                    for w, p in zip(
                        (
                            weights.revenue,
                            weights.audience,
                            weights.slot,
                            weights.novelty,
                            weights.fairness,
                        ),
                        parts,
                        strict=True,
                    )
                )
                / weights.maximum
            )
            assert m.score == pytest.approx(total)
            assert m.novelty == 1.0  # never met before
        (entry,) = audit.entries_for(session, "round", round_id)
        assert (entry.actor, entry.action, entry.after) == (
            "test",
            "round.built",
            {"cadence": "weekly", "tier": None, "start": "2026-11-30", "matches": 2, "byes": 3},
        )


def test_a_tier_round_takes_only_that_tier(md: Matchdesk) -> None:
    add_roster(
        md,
        creator("ana", revenue=50_000),  # tier A
        creator("ben", revenue=60_000),  # tier A
        creator("cyd"),  # tier B
    )
    round_id = build(md, tier="A")
    assert pairs(md, round_id) == [("ana", "ben", "2026-11-30T18:00:00Z", "proposed")]
    assert byes(md, round_id) == {}


def test_bad_requests_are_refused_with_the_reason(md: Matchdesk) -> None:
    small_roster(md)
    with md.transaction() as session:
        with pytest.raises(InvalidInput) as refused:
            plan_round(session, md.program, cadence="weekly", start=WEEK, tier="S")
        assert refused.value.details == ["tier: S is matched monthly, not weekly"]
        with pytest.raises(InvalidInput) as refused:
            plan_round(session, md.program, cadence="weekly", start=WEEK, tier="Z")
        assert refused.value.details == ["tier: 'Z' is not a tier of the program (S, A, B)"]
    first = build(md)
    with pytest.raises(Conflict) as clash:
        build(md, tier="B")
    assert clash.value.message == (
        f"Round {first} (weekly, every tier) already covers the period starting 2026-11-30. "
        "Open it, or discard it before building another."
    )
    with md.transaction() as session:
        discard_round(session, first, actor="test", expected_version=1)
    assert pairs(md, build(md, tier="B"))[0][:2] == ("ana", "ben")


def test_pairs_that_met_in_a_published_round_wait_out_the_cooldown(md: Matchdesk) -> None:
    small_roster(md)
    first = build(md)
    # A draft is not history: next week could pair the same creators again.
    assert weekly_pool(md).problem.recent_pairs == ()
    with md.transaction() as session:
        publish(session, md.settings, md.program, first, MANAGER)
    second = build(md, NEXT_WEEK)
    assert pairs(md, second) == []
    assert byes(md, second) == {
        "ana": "no feasible partner",  # met ana 1 round ago; cooldown is 4
        "ben": "no feasible partner",
        "cat": "no feasible partner",
        "dan": "no feasible partner",
        "eve": "no feasible partner",
        "fay": "no feasible partner",
        "gus": "no feasible partner",
    }
    pool = weekly_pool(md)
    assert pool.problem.recent_pairs == (("ana", "ben", 1), ("cat", "dan", 1))
    # Fairness: a bye in a recent round is credit for the next one.
    credit = fairness_credit(pool)
    assert credit == {"ana": 0, "ben": 0, "cat": 0, "dan": 0, "eve": 1, "fay": 1, "gus": 1}


def test_a_big_pool_builds_as_a_job_with_progress(md: Matchdesk) -> None:
    small_roster(md)
    with md.transaction() as session:
        job = jobs.submit(
            session,
            "round.build",
            {
                "cadence": "weekly",
                "start": "2026-11-30",
                "tier": None,
                "actor": "operator:x",
                "seed": 0,
            },
        )
        job_id = job.id
    finished = jobs.run_inline(md, job_id, default_registry())
    assert (finished.status, finished.error) == ("done", None)
    assert (finished.progress_done, finished.progress_total, finished.message) == (3, 3, "Done")
    round_id = finished.result["round_id"]
    assert [p[:2] for p in pairs(md, round_id)] == [("ana", "ben"), ("cat", "dan")]


def test_the_pool_holds_each_creators_availability_exactly_as_expand_gives_it(
    md: Matchdesk,
) -> None:
    # Overlapping and touching windows, windows crossing midnight, a +05:45 zone, and a
    # window cut by the period's start (Auckland's Monday morning is Sunday in UTC).
    text = "Mon 22:00-02:00; Tue 01:00-03:00; Sat 23:30-00:30; Sun 09:00-10:00; Sun 10:00-11:00"
    add_roster(
        md,
        creator("ana", timezone="Europe/Berlin", availability=text),
        creator("ben", timezone="Asia/Kathmandu", availability=text),
        creator("cyd", timezone="Pacific/Auckland", availability="Mon 08:00-09:00"),
    )
    from matchdesk.roster.availability import expand, parse_availability

    pool = weekly_pool(md, WEEK_START)
    table = pool.problem.creators
    for handle, zone, windows in (
        ("ana", "Europe/Berlin", text),
        ("ben", "Asia/Kathmandu", text),
        ("cyd", "Pacific/Auckland", "Mon 08:00-09:00"),
    ):
        expected = [
            (
                int((s - WEEK_START).total_seconds() // 60),
                int((e - WEEK_START).total_seconds() // 60),
            )
            for s, e in expand(parse_availability(windows), zone, WEEK_START, NEXT_WEEK_START)
        ]
        assert list(table.availability_of(table.index_of(handle))) == expected


def test_a_round_built_once_its_week_began_has_no_match_in_the_past(md: Matchdesk) -> None:
    """Issue 13, defect 5: no slot before the moment of building, now or after edits."""
    from datetime import UTC, datetime

    from matchdesk.rounds import board

    add_roster(
        md,
        creator("ana", availability="Mon 18:00-19:00; Wed 18:00-19:00"),
        creator("ben", availability="Mon 18:00-19:00; Wed 18:00-19:00"),
        creator("cyd", availability="Mon 18:00-19:00"),
    )
    tuesday = datetime(2026, 12, 1, 9, 10, tzinfo=UTC)
    round_id = build(md, not_before=tuesday)
    assert pairs(md, round_id) == [("ana", "ben", "2026-12-02T18:00:00Z", "proposed")]
    assert byes(md, round_id) == {"cyd": "no availability"}  # Monday is over
    with md.transaction() as session:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        assert round_.statistics["not_before"] == "2026-12-01T09:30:00Z"  # the next slot
    # Pairing by hand and re-optimising keep to it: Monday is gone for cyd.
    with md.transaction() as session:
        board.unpair(session, md.settings, md.program, round_id, _only_match(md, round_id), MANAGER)
    with pytest.raises(InvalidInput) as refused, md.transaction() as session:
        board.pair(session, md.settings, md.program, round_id, "ben", "cyd", MANAGER)
    assert refused.value.details == ["duration_minutes: the pair has no shared slot of 60 minutes"]
    with md.transaction() as session:
        board.reoptimise(session, md.program, round_id, MANAGER)
    assert pairs(md, round_id) == [("ana", "ben", "2026-12-02T18:00:00Z", "proposed")]
    # A week that is over is refused.
    with pytest.raises(InvalidInput) as ended, md.transaction() as session:
        plan_round(
            session,
            md.program,
            cadence="weekly",
            start=WEEK,
            tier=None,
            not_before=datetime(2026, 12, 7, 7, 30, tzinfo=UTC),  # the last hour has begun
        )
    assert ended.value.details == [
        "start: the week starting 2026-11-30 has ended, or has no time left for a match; "
        "build a round for a later week"
    ]


def _only_match(md: Matchdesk, round_id: int) -> int:
    (only,) = document(md, round_id)["matches"]
    return int(only["match_id"])


def test_the_xlsx_export_has_real_dates_local_times_and_the_byes(md: Matchdesk) -> None:
    """Issue 13, defect 14: times were written as text, without local times or byes."""
    import io
    from datetime import datetime

    from openpyxl import load_workbook

    from matchdesk.rounds.export import export_round

    add_roster(
        md,
        creator("ana"),
        creator("kai", timezone="Asia/Kolkata", availability="Mon 23:30-00:30"),
        creator("eve", languages="fr"),
    )
    round_id = build(md)
    with md.transaction() as session:
        book = load_workbook(io.BytesIO(export_round(session, round_id, "xlsx")))
    (header, row) = book["matches"].iter_rows(values_only=True)
    assert dict(zip(header, row, strict=True)) == {
        "match_id": row[0],
        "creator_a": "ana",
        "creator_b": "kai",
        "starts_at": datetime(2026, 11, 30, 18, 0),
        "ends_at": datetime(2026, 11, 30, 19, 0),
        "score": row[5],
        "status": "proposed",
        "creator_a_timezone": "UTC",
        "creator_a_local_start": datetime(2026, 11, 30, 18, 0),
        "creator_b_timezone": "Asia/Kolkata",
        "creator_b_local_start": datetime(2026, 11, 30, 23, 30),
    }
    assert isinstance(row[0], int)
    assert isinstance(row[5], float)
    assert list(book["byes"].iter_rows(values_only=True)) == [
        ("creator", "reason", "timezone"),
        ("eve", "no feasible partner", "UTC"),
    ]

"""Match uplift: the pure estimators on hand-made arrays, and the database queries on
hand-made sessions (both backends), with exact expected figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy.orm import Session

from matchdesk.context import Matchdesk
from matchdesk.errors import NotFound
from matchdesk.results.bootstrap import (
    DidEstimate,
    GroupSums,
    Uplift,
    baseline_membership,
    did_uplift,
    session_uplift,
    similar_hour,
)
from matchdesk.results.models import LiveSession
from matchdesk.results.report_tables import program_page
from matchdesk.results.uplift import (
    TierUplift,
    creator_uplift,
    match_uplifts,
    period_uplift,
    round_uplift,
    tier_uplift,
)
from matchdesk.roster.availability import parse_availability
from matchdesk.roster.models import Creator
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.service import save_records
from matchdesk.rounds.models import Bye, Match, Round

PROGRAM_ZONE = ZoneInfo("America/Los_Angeles")
BASELINE = [600, 1200, 900, 600, 1200, 900]  # 5,400 diamonds in 360 minutes: 15 a minute

# --- the pure estimators -------------------------------------------------------------


def test_similar_hour_is_two_hours_either_way_around_the_clock() -> None:
    assert similar_hour([1290, 1290, 1290, 30, 1410], [1410, 1411, 1170, 1410, 90]).tolist() == [
        True,  # 21:30 and 23:30: exactly 120 minutes
        False,  # 21:30 and 23:31
        True,  # 21:30 and 19:30
        True,  # 00:30 and 23:30 (60 minutes across midnight)
        True,  # 23:30 and 01:30 (120 minutes across midnight)
    ]


def test_baseline_is_the_eight_weeks_before_at_a_similar_hour() -> None:
    day = 86_400
    member = baseline_membership(
        [100 * day],
        [1290],
        [100 * day - 1, 100 * day, 44 * day, 44 * day - 1, 99 * day, 50 * day],
        [1290, 1290, 1290, 1290, 1291 + 120, 1170],
    )
    # Before the match (not at it), 56 days back at most, within 2 h of its local start.
    assert member.tolist() == [[True, False, True, False, False, True]]


def test_one_match_session_against_its_baseline() -> None:
    # 1,170 diamonds in 60 minutes is 19.5 a minute against a baseline of 15: +30%.
    uplift = session_uplift([1170], [60], [[True] * 6], BASELINE, [60] * 6)
    assert uplift == Uplift(estimate=0.3, low=-0.257143, high=1.08, n=1)


def test_sessions_weigh_by_their_minutes() -> None:
    # Baseline 3,000 diamonds in 300 minutes (10 a minute) whatever the session lengths;
    # two match sessions of 30 and 90 minutes with 420 and 1,080 diamonds: 1,500 against
    # an expected 1,200, so +25%.
    uplift = session_uplift(
        [420, 1080],
        [30, 90],
        [[True] * 5, [True] * 5],
        [150, 450, 800, 550, 1050],
        [10, 50, 80, 60, 100],
    )
    assert uplift == Uplift(estimate=0.25, low=0.088346, high=0.627604, n=2)


def test_not_enough_data_below_five_baseline_sessions() -> None:
    assert session_uplift([1170], [60], [[True] * 4], BASELINE[:4], [60] * 4) is None
    assert session_uplift([1170], [60], [[False] * 6], BASELINE, [60] * 6) is None
    assert session_uplift([], [], np.zeros((0, 0)), [], []) is None
    # A baseline without a single diamond gives no relative change.
    assert session_uplift([1170], [60], [[True] * 6], [0] * 6, [60] * 6) is None


def test_a_match_session_without_baseline_is_left_out() -> None:
    # The second match session has four baseline sessions: only the first one counts.
    uplift = session_uplift(
        [1170, 5000], [60, 60], [[True] * 6, [True] * 4 + [False] * 2], BASELINE, [60] * 6
    )
    assert uplift == Uplift(estimate=0.3, low=-0.257143, high=1.08, n=1)


def test_difference_in_differences_of_relative_changes() -> None:
    # Matched creators, 10 diamonds a minute before each: 1,560 diamonds in 120 minutes
    # after, against 1,200 expected (x1.3). Byes, 5 a minute before: 330 in 60 minutes
    # after, against 300 expected (x1.1). DiD 0.2.
    matched = GroupSums.of(
        [5, 6, 7, 5, 8], [500, 700, 600, 400, 800], [50, 70, 60, 40, 80],
        [300, 360, 240, 390, 270], [20, 30, 20, 30, 20],
    )  # fmt: skip
    control = GroupSums.of(
        [5, 5, 9, 6, 5, 7], [100, 300, 200, 150, 50, 200], [20, 60, 40, 30, 10, 40],
        [60, 70, 40, 50, 55, 55], [10, 12, 8, 10, 10, 10],
    )  # fmt: skip
    assert did_uplift(matched, control) == DidEstimate(
        estimate=0.2, low=0.106388, high=0.323804, n_matched=5, n_control=6
    )


def test_difference_in_differences_resamples_creators_with_all_their_rounds() -> None:
    # The same figures, the matched rows being two creators' rounds (7, 7, 9, 9, 9): the
    # same estimate, an interval from resampling two creators instead of five rows.
    matched = GroupSums.of(
        [5, 6, 7, 5, 8], [500, 700, 600, 400, 800], [50, 70, 60, 40, 80],
        [300, 360, 240, 390, 270], [20, 30, 20, 30, 20], [7, 7, 9, 9, 9],
    )  # fmt: skip
    control = GroupSums.of(
        [5, 5, 9, 6, 5, 7], [100, 300, 200, 150, 50, 200], [20, 60, 40, 30, 10, 40],
        [60, 70, 40, 50, 55, 55], [10, 12, 8, 10, 10, 10],
    )  # fmt: skip
    assert did_uplift(matched, control) == DidEstimate(
        estimate=0.2, low=0.140507, high=0.266429, n_matched=5, n_control=6
    )


def test_difference_in_differences_needs_five_creators_a_group() -> None:
    matched = GroupSums.of([5] * 5, [100] * 5, [10] * 5, [13] * 5, [1] * 5)
    control = GroupSums.of([5, 5, 5, 5, 4], [100] * 5, [10] * 5, [11] * 5, [1] * 5)
    # The fifth bye has four pre-period sessions only: four byes count.
    assert did_uplift(matched, control) == DidEstimate(None, None, None, 5, 4)
    no_post = GroupSums.of([5] * 5, [100] * 5, [10] * 5, [0] * 5, [0, 1, 1, 1, 1])
    assert did_uplift(no_post, matched) == DidEstimate(None, None, None, 4, 5)
    assert did_uplift(matched, matched) == DidEstimate(0.0, 0.0, 0.0, 5, 5)


# --- the database side ---------------------------------------------------------------


def _creator(handle: str, timezone: str) -> CreatorRecord:
    return CreatorRecord(
        handle=handle,
        timezone=timezone,
        languages=("en",),
        followers=1_000,
        revenue_30d=1_000,
        availability=parse_availability("Mon 18:00-23:00"),
    )


def _ids(session: Session) -> dict[str, int]:
    return {c.handle: c.id for c in session.query(Creator)}


def _session(
    creator_id: int,
    started_at: datetime,
    diamonds: int,
    minutes: int = 60,
    match: int | None = None,
) -> LiveSession:
    return LiveSession(
        creator_id=creator_id,
        started_at=started_at,
        day=started_at.astimezone(PROGRAM_ZONE).date(),
        duration_minutes=minutes,
        diamonds=diamonds,
        match_id=match,
    )


def _round(session: Session, start: datetime) -> Round:
    round_ = Round(
        cadence="weekly",
        period_start=start,
        period_end=start + timedelta(days=7),
        status="published",
    )
    session.add(round_)
    session.flush()
    return round_


def _match(session: Session, round_: Round, a: int, b: int, starts_at: datetime) -> Match:
    match = Match(
        round_id=round_.id,
        creator_a_id=a,
        creator_b_id=b,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        score=1.0,
        status="completed",
    )
    session.add(match)
    session.flush()
    return match


ROUND_1 = datetime(2026, 11, 30, 8, tzinfo=UTC)  # Monday 30 November, Los Angeles
MATCH_1 = datetime(2026, 12, 1, 16, tzinfo=UTC)  # 21:30 in Kolkata
MATCH_2 = datetime(2026, 12, 8, 16, tzinfo=UTC)


def _two_matches(md: Matchdesk) -> tuple[dict[str, int], int, int]:
    """Ana (Kolkata) has six baseline sessions at 20:00 her time (15 diamonds a minute),
    one at 08:00 and one nine weeks back (both far richer, both outside her baseline),
    and two match sessions with Ben (UTC), who has four sessions before them."""
    with md.transaction() as session:
        save_records(session, md.program, [_creator("ana", "Asia/Kolkata"), _creator("ben", "UTC")])
        ids = _ids(session)
        ana, ben = ids["ana"], ids["ben"]
        first = _match(session, _round(session, ROUND_1), ana, ben, MATCH_1)
        second = _match(session, _round(session, ROUND_1 + timedelta(days=7)), ana, ben, MATCH_2)
        weekly = [datetime(2026, 10, 20, 14, 30, tzinfo=UTC) + timedelta(weeks=k) for k in range(6)]
        rows = [_session(ana, t, d) for t, d in zip(weekly, BASELINE, strict=True)]
        rows += [
            _session(ana, datetime(2026, 11, 25, 2, 30, tzinfo=UTC), 99_999),  # 08:00 IST
            _session(ana, datetime(2026, 10, 1, 14, 30, tzinfo=UTC), 99_999),  # 61 days back
            _session(ana, MATCH_1, 1170, match=first.id),
            _session(ana, MATCH_2, 1350, match=second.id),
            _session(ben, MATCH_1, 900, match=first.id),
            _session(ben, MATCH_2, 900, match=second.id),
        ]
        rows += [_session(ben, MATCH_1 - timedelta(days=k), 600) for k in (1, 2, 3, 4)]
        session.add_all(rows)
        return ids, first.id, second.id


def test_match_uplifts_of_each_creator(md: Matchdesk) -> None:
    ids, first, second = _two_matches(md)
    with md.transaction() as session:
        assert match_uplifts(session, md.program, first) == {
            ids["ana"]: Uplift(estimate=0.3, low=-0.257143, high=1.08, n=1),
            ids["ben"]: None,  # four baseline sessions: not enough data
        }
        # A week later Ben still has four: his first match session is no baseline.
        assert match_uplifts(session, md.program, second) == {
            ids["ana"]: Uplift(estimate=0.5, low=-0.142857, high=1.4, n=1),
            ids["ben"]: None,
        }
        with pytest.raises(NotFound):
            match_uplifts(session, md.program, 999)


def test_creator_uplift_over_a_range(md: Matchdesk) -> None:
    ids, _first, _second = _two_matches(md)
    ana = ids["ana"]
    with md.transaction() as session:
        one = creator_uplift(session, md.program, ana, date(2026, 11, 30), date(2026, 12, 6))
        both = creator_uplift(session, md.program, ana, date(2026, 11, 30), date(2026, 12, 13))
        none = creator_uplift(session, md.program, ana, date(2026, 11, 1), date(2026, 11, 29))
        ben = creator_uplift(session, md.program, ids["ben"], date(2026, 11, 1), date(2026, 12, 31))
        with pytest.raises(NotFound):
            creator_uplift(session, md.program, 999, date(2026, 11, 1), date(2026, 12, 31))
    assert one == Uplift(estimate=0.3, low=-0.257143, high=1.08, n=1)
    # 2,520 diamonds in two hours against 2 x 900 expected: +40%.
    assert both == Uplift(estimate=0.4, low=-0.115789, high=1.1, n=2)
    assert none is None  # no match session in the range
    assert ben is None


def test_the_creator_report_shows_each_match_with_its_uplift(md: Matchdesk) -> None:
    """The creator report's matches table (issue 10: "their matches with results and
    uplift"): each of Ana's two matches with her uplift in it; Ben has too little data."""
    from matchdesk.results.report_tables import creator_page

    _, first, second = _two_matches(md)
    span = (date(2026, 11, 30), date(2026, 12, 13))
    with md.transaction() as session:
        ana = creator_page(session, md.program, "ana", *span)
        ben = creator_page(session, md.program, "ben", *span)
    assert [
        (r["match_id"], r["partner"], r["diamonds"], r["uplift"])
        for r in ana.tables["matches"].rows
    ] == [(first, "ben", 1170, 0.3), (second, "ben", 1350, 0.5)]
    assert [r["uplift"] for r in ben.tables["matches"].rows] == [None, None]
    assert ana.figures["document"]["uplift"] == {
        "estimate": 0.4,
        "low": -0.1158,
        "high": 1.1,
        "n": 2,
    }


def test_round_uplift_against_the_byes_of_the_tier(md: Matchdesk) -> None:
    """Ten tier-B creators matched in pairs, six byes (one of them excluded, so no
    control), each with five weekly sessions before the round: matched 10 diamonds a
    minute before and 13 in their match sessions (x1.3), byes 10 before and 11 in the
    round's week (x1.1): 0.2."""
    records = [_creator(f"m{i}", "UTC") for i in range(10)]
    records += [_creator(f"b{i}", "UTC") for i in range(6)]
    with md.transaction() as session:
        save_records(session, md.program, records)
        ids = _ids(session)
        round_ = _round(session, ROUND_1)
        rows = []
        for i in range(0, 10, 2):
            a, b = ids[f"m{i}"], ids[f"m{i + 1}"]
            match = _match(session, round_, a, b, MATCH_1)
            rows += [_session(a, MATCH_1, 780, match=match.id)]
            rows += [_session(b, MATCH_1, 390 + 130 * i, 30 + 10 * i, match=match.id)]
        for i in range(6):
            reason = "excluded" if i == 5 else "odd one out"
            session.add(Bye(round_id=round_.id, creator_id=ids[f"b{i}"], reason=reason))
            rows += [_session(ids[f"b{i}"], MATCH_1 + timedelta(hours=3), 660)]
        for handle, creator_id in ids.items():
            for week in range(1, 6):
                minutes = 60 + 10 * int(handle[1:])
                at = ROUND_1 - timedelta(weeks=week, hours=-12)
                rows += [_session(creator_id, at, 10 * minutes, minutes)]
        # Outside the comparison: a session nine weeks before and one after the round.
        rows += [_session(ids["m0"], ROUND_1 - timedelta(weeks=9), 99_999)]
        rows += [_session(ids["b0"], ROUND_1 + timedelta(days=8), 99_999)]
        session.add_all(rows)
        session.flush()
        found = round_uplift(session, md.program, round_.id)
        pooled = tier_uplift(session, md.program, date(2026, 11, 30), date(2026, 12, 6))
        before = tier_uplift(session, md.program, date(2026, 11, 1), date(2026, 11, 29))
        both = period_uplift(session, md.program, date(2026, 11, 30), date(2026, 12, 6))
        table = program_page(
            session, md.program, date(2026, 11, 30), date(2026, 12, 6), date(2026, 12, 7)
        ).tables["round_uplift"]
    assert found == [
        TierUplift("A", None, None, None, 0, 0),
        TierUplift("B", 0.2, 0.2, 0.2, 10, 5),
    ]
    assert pooled == [TierUplift("S", None, None, None, 0, 0), *found]
    assert both == (pooled, [(round_, found)])
    # The program report's table of each round and tier (the round from its program day).
    common = {"round_id": round_.id, "cadence": "weekly", "period_start": date(2026, 11, 30)}
    assert table.rows == [
        {**common, "tier": "A", "estimate": None, "low": None, "high": None}
        | {"n_matched": 0, "n_control": 0},
        {**common, "tier": "B", "estimate": 0.2, "low": 0.2, "high": 0.2}
        | {"n_matched": 10, "n_control": 5},
    ]
    assert before == [TierUplift(t, None, None, None, 0, 0) for t in ("S", "A", "B")]


def test_similar_hour_is_on_the_creators_own_clock_across_summer_time(md: Matchdesk) -> None:
    """Cleo (New York) streamed at 18:30 her time in October (22:30 UTC, summer time);
    her match is at 20:00 her time after the clocks went back (01:00 UTC). 90 minutes
    apart on her clock, so all five are her baseline (2.5 hours apart in UTC)."""
    with md.transaction() as session:
        save_records(
            session, md.program, [_creator("cleo", "America/New_York"), _creator("dan", "UTC")]
        )
        ids = _ids(session)
        at = datetime(2026, 11, 10, 1, tzinfo=UTC)  # Monday 9 November, 20:00 EST
        match = _match(
            session,
            _round(session, datetime(2026, 11, 9, 8, tzinfo=UTC)),
            ids["cleo"],
            ids["dan"],
            at,
        )
        october = [datetime(2026, 10, 5 + 4 * k, 22, 30, tzinfo=UTC) for k in range(5)]
        session.add_all([_session(ids["cleo"], t, 600) for t in october])
        session.add(_session(ids["cleo"], at, 780, match=match.id))
        session.flush()
        found = match_uplifts(session, md.program, match.id)
    assert found == {
        ids["cleo"]: Uplift(estimate=0.3, low=0.3, high=0.3, n=1),
        ids["dan"]: None,
    }

"""Figures kept as results are imported (issue 12): campaign points per creator-local day
and per enrolment, and the creators' 30-day results figures, always equal to the same
figures computed from scratch (both backends)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from matchdesk.context import Matchdesk
from matchdesk.outreach.campaigns import (
    computed_points,
    create_campaign,
    get_campaign,
    leaderboard,
    points,
    read_campaign_file,
    scoring_of,
)
from matchdesk.outreach.models import CampaignDay, Enrolment
from matchdesk.outreach.segments import parse_segment, preview_segment, segment_ids
from matchdesk.outreach.standings import backfill
from matchdesk.results import creator_stats
from matchdesk.results.daily import refresh
from matchdesk.results.models import CreatorResults
from matchdesk.results.records import SessionRecord
from matchdesk.results.service import save_sessions
from matchdesk.roster.models import Creator
from tests.outreach.samples import TODAY, add_roster

PROGRAM = ZoneInfo("America/Los_Angeles")  # the built-in program's zone
CAMPAIGN = """
name = "Batches"
starts = 2026-03-07
ends = 2026-03-10
segment = { match = "all", rules = [{ field = "tier", op = "=", value = "A" }] }

[scoring]
points_per_diamond = 1.5
points_per_live_hour = 500
max_live_points_per_day = 2500.5
bonus_hours = "22:00-02:30"
bonus_multiplier = 2
points_per_match_win = 1000

[[leagues]]
name = "All"
min_diamonds_7d = 0
"""
ZONES = {
    "nyc": "America/New_York",  # the DST change of 8 March
    "jkt": "Asia/Jakarta",
    "ktm": "Asia/Kathmandu",  # +05:45
    "lon": "Europe/London",
    "utc": "UTC",
}
IMPORT_DAY = date(2026, 3, 12)

Sessions = dict[str, dict[datetime, tuple[int, int, str | None]]]


def _creators(md: Matchdesk) -> None:
    with md.transaction() as session:
        for handle, zone in ZONES.items():
            session.add(
                Creator(handle=handle, timezone=zone, languages="en", followers=1,
                        revenue_30d=1, tier="A")
            )  # fmt: skip
        session.add(
            Creator(handle="off", timezone="UTC", languages="en", followers=1, revenue_30d=1,
                    tier="B")
        )  # fmt: skip


def _import(md: Matchdesk, known: Sessions, batch: Sessions) -> None:
    records = [
        SessionRecord(handle, started, minutes, diamonds, outcome=outcome)
        for handle, sessions in batch.items()
        for started, (minutes, diamonds, outcome) in sessions.items()
    ]
    with md.transaction() as session:
        save_sessions(session, md.program, records, actor="t", today=IMPORT_DAY)
    for handle, sessions in batch.items():
        known.setdefault(handle, {}).update(sessions)


def _expected(md: Matchdesk, known: Sessions, spec: Any) -> dict[str, int]:
    """The points `campaigns.points` gives from the sessions imported (program days)."""
    scoring = scoring_of(spec.scoring)
    with md.transaction() as session:
        zones = dict(session.execute(select(Creator.handle, Creator.timezone)).all())
    return {
        handle: points(
            scoring,
            zones[handle],
            [
                (started, *figures)
                for started, figures in known.get(handle, {}).items()
                if spec.starts <= started.astimezone(PROGRAM).date() <= spec.ends
            ],
        )
        for handle in ZONES
    }


def _kept(md: Matchdesk, campaign_id: int) -> dict[str, int]:
    with md.transaction() as session:
        return {s.handle: s.points for s in leaderboard(session, campaign_id, today=IMPORT_DAY)}


def _from_scratch(md: Matchdesk, campaign_id: int) -> dict[str, int]:
    with md.transaction() as session:
        handles = dict(session.execute(select(Creator.id, Creator.handle)).all())
        found = computed_points(session, get_campaign(session, campaign_id))
    return {handles[cid]: value for cid, value in found.items()}


def _days(md: Matchdesk, campaign_id: int) -> list[tuple[Any, ...]]:
    with md.transaction() as session:
        d = CampaignDay
        return [
            tuple(row)
            for row in session.execute(
                select(d.creator_id, d.day, d.diamonds, d.bonus_diamonds, d.minutes, d.wins,
                       d.live_points, d.capped)
                .where(d.campaign_id == campaign_id)
                .order_by(d.creator_id, d.day)
            )
        ]  # fmt: skip


def _sums(md: Matchdesk, campaign_id: int) -> dict[int, tuple[int, ...]]:
    """Each ranked enrolment's kept sums (diamonds, bonus diamonds, wins, uncapped LIVE
    points, capped days)."""
    e = Enrolment
    with md.transaction() as session:
        return {
            cid: tuple(sums)
            for cid, *sums in session.execute(
                select(e.creator_id, e.kept_diamonds, e.kept_bonus_diamonds, e.kept_wins,
                       e.kept_live_points, e.kept_capped_days)
                .where(e.campaign_id == campaign_id, e.league.is_not(None))
            )
        }  # fmt: skip


def _sums_of_days(days: list[tuple[Any, ...]], ranked: Any) -> dict[int, tuple[int, ...]]:
    """The same sums from the day rows (`_days`), 0 for a ranked creator without days."""
    found = {cid: [0, 0, 0, 0, 0] for cid in ranked}
    for cid, _day, diamonds, bonus, _minutes, wins, live, capped in days:
        sums = found[cid]
        sums[0] += diamonds
        sums[1] += bonus
        sums[2] += wins
        sums[3] += 0 if capped else live
        sums[4] += 1 if capped else 0
    return {cid: tuple(sums) for cid, sums in found.items()}


def _random_batch(rng: random.Random, used: set[tuple[str, datetime]], count: int) -> Sessions:
    batch: Sessions = {}
    while sum(len(s) for s in batch.values()) < count:
        handle = rng.choice(sorted(ZONES))
        # 6 March to 12 March UTC: some sessions before and after the campaign's days
        started = datetime(2026, 3, 6, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 6 * 1440))
        if (handle, started) in used:
            continue
        used.add((handle, started))
        batch.setdefault(handle, {})[started] = (
            rng.randint(1, 400), rng.randint(0, 5_000), rng.choice(("win", "loss", None))
        )  # fmt: skip
    return batch


def _local(handle: str, y: int, m: int, d: int, hh: int, mm: int) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(ZONES[handle])).astimezone(UTC)


def test_kept_points_follow_imports_in_batches(md: Matchdesk, tmp_path: Path) -> None:
    _creators(md)
    path = tmp_path / "batches.toml"
    path.write_text(CAMPAIGN)
    spec = read_campaign_file(path)
    rng = random.Random(7)
    used: set[tuple[str, datetime]] = set()
    known: Sessions = {}
    _import(md, known, _random_batch(rng, used, 40))  # before the campaign exists
    with md.transaction() as session:
        campaign_id = create_campaign(session, spec, today=date(2026, 3, 7), actor="t").id
    assert _kept(md, campaign_id) == _from_scratch(md, campaign_id) == _expected(md, known, spec)

    # A day that only gains a new session (its row plus the session, no session read
    # again on PostgreSQL) and goes over the daily cap with it.
    with md.transaction() as session:
        ids = dict(session.execute(select(Creator.id, Creator.handle)).all())
    cid, day, *_figures, minutes, _wins, _live, _capped = next(
        row for row in _days(md, campaign_id)
        if not row[7] and date(2026, 3, 8) <= row[1] <= date(2026, 3, 10)
    )  # fmt: skip
    handle = ids[cid]
    moment = _local(handle, day.year, day.month, day.day, 12, 0) + timedelta(seconds=17)
    used.add((handle, moment))
    _import(md, known, {handle: {moment: (301 - minutes, 10, "win")}})
    assert _kept(md, campaign_id) == _expected(md, known, spec)
    after = {(row[0], row[1]): row for row in _days(md, campaign_id)}[(cid, day)]
    assert (after[4], after[6], after[7]) == (301, 2508, True)
    kept_sums = _sums(md, campaign_id)
    assert kept_sums == _sums_of_days(_days(md, campaign_id), kept_sums)

    # New sessions, some either side of a creator's local midnight and inside the bonus
    # window that crosses it, and on the day of New York's DST change.
    edge: Sessions = {
        "nyc": {
            _local("nyc", 2026, 3, 7, 23, 50): (30, 1_000, "win"),
            _local("nyc", 2026, 3, 8, 0, 10): (600, 10, None),
            _local("nyc", 2026, 3, 8, 3, 15): (500, 100, None),  # after the jump
        },
        "ktm": {
            _local("ktm", 2026, 3, 8, 23, 59): (700, 7, None),
            _local("ktm", 2026, 3, 9, 0, 0): (700, 9, "win"),
        },
    }
    for handle, sessions in edge.items():
        used.update((handle, started) for started in sessions)
    _import(md, known, edge)
    assert _kept(md, campaign_id) == _from_scratch(md, campaign_id) == _expected(md, known, spec)
    for _ in range(2):
        _import(md, known, _random_batch(rng, used, 50))
        assert _kept(md, campaign_id) == _expected(md, known, spec)
        # The sums the points are the floor of moved by each import's days' difference:
        # always those of the creator's days.
        kept_sums = _sums(md, campaign_id)
        assert kept_sums == _sums_of_days(_days(md, campaign_id), kept_sums)
        assert len(kept_sums) == 5
        assert all(s[0] > 0 and s[3] + s[4] > 0 for s in kept_sums.values())

    # A re-import: some sessions' figures changed (minutes, diamonds, outcome), others as
    # they were, and one new session.
    again: Sessions = {}
    for handle, sessions in sorted(known.items()):
        for started in sorted(sessions)[:4]:
            minutes, diamonds, outcome = sessions[started]
            again.setdefault(handle, {})[started] = (
                (minutes % 400) + 1, diamonds + 77, "win" if outcome != "win" else None
            ) if rng.random() < 0.7 else (minutes, diamonds, outcome)  # fmt: skip
    again["nyc"][_local("nyc", 2026, 3, 9, 22, 30)] = (120, 3_000, None)
    _import(md, known, again)
    kept = _kept(md, campaign_id)
    assert kept == _from_scratch(md, campaign_id) == _expected(md, known, spec)
    assert len(set(kept.values())) == len(kept)  # nothing equal by accident
    kept_sums = _sums(md, campaign_id)
    assert kept_sums == _sums_of_days(_days(md, campaign_id), kept_sums)
    assert any(s[4] for s in kept_sums.values())  # a capped day among them

    # A session moved across a local midnight: imported again at its new start (a new
    # session, the key being the start), and a creator's zone changed, which moves their
    # sessions to other local days (rescored when the leaderboard is next read).
    _import(md, known, {"utc": {datetime(2026, 3, 8, 0, 5, tzinfo=UTC): (200, 50, None)}})
    with md.transaction() as session:
        session.execute(
            update(Creator).where(Creator.handle == "lon").values(timezone="Pacific/Auckland")
        )
    assert _kept(md, campaign_id) == _from_scratch(md, campaign_id) == _expected(md, known, spec)

    # The kept days are exactly those a backfill from scratch computes.
    kept_days = _days(md, campaign_id)
    kept_sums = _sums(md, campaign_id)
    assert kept_sums == _sums_of_days(kept_days, kept_sums)
    with md.transaction() as session:
        backfill(session, get_campaign(session, campaign_id))
    assert _days(md, campaign_id) == kept_days
    assert _sums(md, campaign_id) == kept_sums
    with md.transaction() as session:
        zones = dict(session.execute(select(Creator.handle, Creator.timezone)).all())
    assert len(kept_days) == len(
        {
            (handle, started.astimezone(ZoneInfo(zones[handle])).date())
            for handle, sessions in known.items()
            for started in sessions
            if spec.starts <= started.astimezone(PROGRAM).date() <= spec.ends
        }
    )


def test_rules_changed_rescores_and_the_unranked_are_not_kept(
    md: Matchdesk, tmp_path: Path
) -> None:
    _creators(md)
    path = tmp_path / "batches.toml"
    path.write_text(CAMPAIGN)
    spec = read_campaign_file(path)
    known: Sessions = {}
    _import(md, known, _random_batch(random.Random(3), set(), 60))
    with md.transaction() as session:
        campaign_id = create_campaign(session, spec, today=date(2026, 3, 8), actor="t").id
    assert _kept(md, campaign_id) == _expected(md, known, spec)
    with md.transaction() as session:  # the scoring edited: the kept points are stale
        campaign = get_campaign(session, campaign_id)
        campaign.scoring = {**campaign.scoring, "points_per_diamond": 3, "bonus_hours": None}
    path.write_text(
        CAMPAIGN.replace("points_per_diamond = 1.5", "points_per_diamond = 3").replace(
            'bonus_hours = "22:00-02:30"', ""
        )
    )
    assert _kept(md, campaign_id) == _expected(md, known, read_campaign_file(path))
    with md.transaction() as session:
        off = session.scalar(select(Creator.id).where(Creator.handle == "off"))
        assert session.get(Enrolment, (campaign_id, off)) is None  # not in the segment
        assert session.scalar(
            select(func.count()).select_from(CampaignDay).where(CampaignDay.creator_id == off)
        ) == 0  # fmt: skip


# --- the creators' 30-day results figures ------------------------------------------------

RULES = [
    ("diamonds_30d", ">=", 1_000),
    ("diamonds_30d", "<", 1_000),
    ("diamonds_30d", "not in", [0]),
    ("live_days_30d", "=", 0),
    ("live_days_30d", ">=", 2),
    ("days_since_live", "<=", 2),
    ("days_since_live", ">", 5),
    ("days_since_live", "in", [0, 40]),
    ("days_since_live", "not in", [2, 40]),
    ("days_since_live", "!=", 5),
]


def _both_ways(md: Matchdesk, day: date) -> dict[tuple[Any, ...], set[int]]:
    """Each rule's creators read from the kept figures (made current for `day`), after
    checking they are those the ledger's grouping gives."""
    found = {}
    with md.transaction() as session:
        creator_stats.ensure_current(session, day)
        for field, op, value in RULES:
            segment = parse_segment({"match": "all", "rules": [{"field": field, "op": op,
                                                               "value": value}]})  # fmt: skip
            stored = set(session.scalars(segment_ids(segment, day, stats=True)))
            grouped = set(session.scalars(segment_ids(segment, day)))
            assert stored == grouped, (field, op, value)
            found[(field, op, str(value))] = stored
    return found


def test_results_figures_kept_by_imports_and_the_program_day(md: Matchdesk) -> None:
    ids = add_roster(md)
    diamonds = parse_segment(
        {"match": "all", "rules": [{"field": "diamonds_30d", "op": ">=", "value": 15_001}]}
    )
    with md.transaction() as session:
        assert preview_segment(session, diamonds, TODAY).handles == ("ana",)  # 16,000
        assert creator_stats.stored_day(session) == TODAY  # computed on first use
    _both_ways(md, TODAY)

    # An import on the day the figures are for: only its creators' rows recomputed.
    noon = datetime(2026, 3, 20, 19, tzinfo=UTC)  # 20 March, program time
    with md.transaction() as session:
        save_sessions(session, md.program, [SessionRecord("eli", noon, 60, 20_000)],
                      actor="t", today=TODAY)  # fmt: skip
        assert creator_stats.stored_day(session) == TODAY
        row = session.get(CreatorResults, ids["eli"])
        assert (row.diamonds_30d, row.live_days_30d, row.last_live_day) == (20_000, 1, TODAY)
        assert preview_segment(session, diamonds, TODAY).handles == ("ana", "eli")
    found = _both_ways(md, TODAY)
    assert found[("days_since_live", "<=", "2")] == {ids["ana"], ids["ben"], ids["eli"]}

    # The program day moves on with no import: the next use recomputes the figures for
    # it (ana's 1,000 of 29 days ago leaves the window).
    tomorrow = TODAY + timedelta(days=1)
    with md.transaction() as session:
        assert preview_segment(session, diamonds, tomorrow).handles == ("eli",)
        assert creator_stats.stored_day(session) == tomorrow
        assert session.get(CreatorResults, ids["ana"]).diamonds_30d == 15_000
    _both_ways(md, TODAY + timedelta(days=45))

    # An import for another day than the figures' leaves them to be recomputed on use.
    with md.transaction() as session:
        save_sessions(session, md.program, [SessionRecord("cai", noon, 30, 5)],
                      actor="t", today=TODAY)  # fmt: skip
        assert creator_stats.stored_day(session) == TODAY + timedelta(days=45)
    found = _both_ways(md, TODAY)
    assert ids["cai"] in found[("days_since_live", "in", "[0, 40]")]

    # The daily refresh makes them the new day's at once.
    with md.transaction() as session:
        refresh(session, md.program, tomorrow)
        assert creator_stats.stored_day(session) == tomorrow


def test_the_points_job_backfills_with_progress(md: Matchdesk, tmp_path: Path) -> None:
    from matchdesk.jobs.catalog import default_registry
    from matchdesk.jobs.service import run_inline, submit
    from matchdesk.outreach.jobs import POINTS

    _creators(md)
    path = tmp_path / "batches.toml"
    path.write_text(CAMPAIGN)
    spec = read_campaign_file(path)
    known: Sessions = {}
    _import(md, known, _random_batch(random.Random(5), set(), 30))
    with md.transaction() as session:
        campaign_id = create_campaign(session, spec, today=date(2026, 3, 8), actor="t").id
        session.execute(update(Enrolment).values(points=None))  # as if never scored
        get_campaign(session, campaign_id).points_rules = None
        job_id = submit(session, POINTS, {"campaign_id": campaign_id}).id
    job = run_inline(md, job_id, default_registry())
    assert (job.status, job.result) == ("done", {"campaign_id": campaign_id, "scored": 5})
    assert (job.progress_done, job.progress_total) == (5, 5)
    with md.transaction() as session:
        points_now = dict(
            session.execute(
                select(Creator.handle, Enrolment.points)
                .join(Enrolment, Enrolment.creator_id == Creator.id)
                .where(Enrolment.campaign_id == campaign_id)
            ).all()
        )
    assert points_now == _expected(md, known, spec)


def test_a_creators_own_rank_is_their_place_on_the_leaderboard(
    md: Matchdesk, tmp_path: Path
) -> None:
    from matchdesk.outreach.campaigns import MyStanding, creator_standings

    _creators(md)
    path = tmp_path / "batches.toml"
    path.write_text(CAMPAIGN.replace("points_per_live_hour = 500", "points_per_live_hour = 0"))
    spec = read_campaign_file(path)
    _import(md, {}, _random_batch(random.Random(9), set(), 12))
    with md.transaction() as session:
        campaign_id = create_campaign(session, spec, today=date(2026, 3, 8), actor="t").id
        # A tie: two creators with the same points rank by handle.
        session.execute(
            update(Enrolment)
            .where(Enrolment.creator_id.in_(select(Creator.id).where(Creator.handle.in_(
                ["jkt", "ktm"]))))
            .values(points=777)
        )  # fmt: skip
        board = leaderboard(session, campaign_id, today=date(2026, 3, 9))
        ids = dict(session.execute(select(Creator.handle, Creator.id)).all())
        for standing in board:
            assert creator_standings(session, ids[standing.handle], today=date(2026, 3, 9)) == [
                MyStanding("Batches", spec.starts, spec.ends, "All", standing.rank,
                           standing.points, len(board))
            ]  # fmt: skip
        assert creator_standings(session, ids["off"], today=date(2026, 3, 9)) == []
    assert [(s.handle, s.points) for s in board if s.points == 777] == [("jkt", 777), ("ktm", 777)]

"""Campaigns (SPEC section 8): the file, enrolment at the start, leagues by the 7 days
before it, and exact points across the creator's midnight, a bonus window crossing
midnight, the daily cap, a DST change and the program-day rule."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.outreach.campaigns import (
    create_campaign,
    leaderboard,
    read_campaign_file,
)
from matchdesk.results.models import LedgerDay, LiveSession
from matchdesk.roster.models import Creator

PROGRAM = ZoneInfo("America/Los_Angeles")  # the built-in program's zone
FILE = """
name = "Spring push"
starts = 2026-03-07
ends = 2026-03-09
segment = { match = "all", rules = [{ field = "tier", op = "=", value = "A" }] }

[scoring]
points_per_diamond = 2
points_per_live_hour = 500
max_live_points_per_day = 3000
bonus_hours = "22:00-02:30"
bonus_multiplier = 2
points_per_match_win = 1000

[[leagues]]
name = "Glow"
min_diamonds_7d = 28000

[[leagues]]
name = "Spark"
min_diamonds_7d = 100
"""

CREATORS = {  # handle: (zone, tier, diamonds over the 7 days before the start)
    "nyc": ("America/New_York", "A", 30_000),
    "bkk": ("Asia/Bangkok", "A", 28_000),
    "low": ("UTC", "A", 100),
    "amy": ("UTC", "A", 0),  # meets no league: not ranked
    "out": ("UTC", "C", 90_000),  # not in the segment
}

# handle: [(UTC start, minutes, diamonds, outcome)]
SESSIONS: dict[str, list[tuple[datetime, int, int, str | None]]] = {
    "nyc": [
        # 23:30 EST on the 7th: bonus; LIVE on the 7th (its own clock).
        (datetime(2026, 3, 8, 4, 30, tzinfo=UTC), 60, 1_000, None),
        # 01:30 EST on the 8th: in the window that crossed midnight; a win.
        (datetime(2026, 3, 8, 6, 30, tzinfo=UTC), 90, 500, "win"),
        # 03:15 EDT on the 8th, after the clocks jumped (02:15 on a fixed offset,
        # which would be in the bonus window): no bonus.
        (datetime(2026, 3, 8, 7, 15, tzinfo=UTC), 400, 100, None),
        # Program day 6 March (LA 23:00), though 7 March in New York: not counted.
        (datetime(2026, 3, 7, 7, 0, tzinfo=UTC), 60, 10_000, "win"),
        # After the campaign's last program day: not counted.
        (datetime(2026, 3, 10, 14, 0, tzinfo=UTC), 60, 500, None),
    ],
    "bkk": [
        (datetime(2026, 3, 8, 14, 0, tzinfo=UTC), 120, 3_000, None),  # 21:00 on the 8th
        (datetime(2026, 3, 8, 16, 0, tzinfo=UTC), 30, 200, None),  # 23:00: bonus
        (datetime(2026, 3, 8, 17, 30, tzinfo=UTC), 45, 100, "loss"),  # 00:30 on the 9th
    ],
    "low": [(datetime(2026, 3, 9, 12, 0, tzinfo=UTC), 600, 0, "win")],  # capped at 3,000
    "amy": [(datetime(2026, 3, 8, 12, 0, tzinfo=UTC), 60, 9_999, None)],
    "out": [(datetime(2026, 3, 8, 12, 0, tzinfo=UTC), 60, 9_999, None)],
}


def setup(md: Matchdesk) -> None:
    with md.transaction() as session:
        for handle, (zone, tier, _) in CREATORS.items():
            session.add(
                Creator(
                    handle=handle,
                    timezone=zone,
                    languages="en",
                    followers=1,
                    revenue_30d=1,
                    tier=tier,
                )
            )
        session.flush()
        ids = dict(session.execute(select(Creator.handle, Creator.id)).all())
        for handle, (_, _, week) in CREATORS.items():
            if week:
                session.add(
                    LedgerDay(
                        creator_id=ids[handle],
                        day=date(2026, 3, 2),
                        sessions=1,
                        live_minutes=60,
                        diamonds=week,
                        new_followers=0,
                        match_sessions=0,
                    )
                )
        for handle, sessions in SESSIONS.items():
            for started, minutes, diamonds, outcome in sessions:
                session.add(
                    LiveSession(creator_id=ids[handle], started_at=started,
                                day=started.astimezone(PROGRAM).date(),
                                duration_minutes=minutes, diamonds=diamonds, outcome=outcome)
                )  # fmt: skip


def board(md: Matchdesk, campaign_id: int, today: date) -> list[dict[str, Any]]:
    with md.transaction() as session:
        return [s.as_json() for s in leaderboard(session, campaign_id, today=today)]


def test_points_and_leagues_exactly(md: Matchdesk, tmp_path: Path) -> None:
    setup(md)
    path = tmp_path / "spring.toml"
    path.write_text(FILE)
    with md.transaction() as session:
        campaign_id = create_campaign(
            session, read_campaign_file(path), today=date(2026, 3, 5), actor="t"
        ).id
    assert board(md, campaign_id, date(2026, 3, 6)) == []  # not started: nobody enrolled
    with md.transaction() as session:  # joins the segment before the start: enrolled
        session.execute(Creator.__table__.update().where(Creator.handle == "amy").values(tier="A"))
    expected = [
        # nyc: diamonds 1,000x2x2 + 500x2x2 + 100x2 = 6,200; win 1,000; LIVE 500 on the
        # 7th (60 min) + min(3,000, 490 min -> 4,083) on the 8th = 3,500.
        {"rank": 1, "handle": "nyc", "league": "Glow", "points": 10_700},
        # bkk: 3,000x2 + 200x2x2 + 100x2x2 = 7,200; LIVE 150 min -> 1,250 on the 8th
        # and 45 min -> 375 on the 9th.
        {"rank": 2, "handle": "bkk", "league": "Glow", "points": 8_825},
        {"rank": 1, "handle": "low", "league": "Spark", "points": 4_000},
    ]
    assert board(md, campaign_id, date(2026, 3, 7)) == expected
    with md.transaction() as session:  # joining the segment after the start changes nothing
        session.execute(Creator.__table__.update().where(Creator.handle == "out").values(tier="A"))
    assert board(md, campaign_id, date(2026, 3, 9)) == expected


def test_ties_rank_by_handle_and_created_after_the_start(md: Matchdesk, tmp_path: Path) -> None:
    setup(md)
    path = tmp_path / "tie.toml"
    path.write_text(
        FILE.replace("min_diamonds_7d = 28000", "min_diamonds_7d = 0")
        .replace("points_per_diamond = 2", "points_per_diamond = 0")
        .replace("points_per_match_win = 1000", "points_per_match_win = 0")
    )
    with md.transaction() as session:  # created after its start: enrolled at once
        campaign_id = create_campaign(
            session, read_campaign_file(path), today=date(2026, 3, 8), actor="t"
        ).id
    got = board(md, campaign_id, date(2026, 3, 8))
    # LIVE points only: nyc 3,500; low 3,000 (the cap); bkk 1,625; amy 60 min -> 500.
    assert got == [
        {"rank": 1, "handle": "nyc", "league": "Glow", "points": 3_500},
        {"rank": 2, "handle": "low", "league": "Glow", "points": 3_000},
        {"rank": 3, "handle": "bkk", "league": "Glow", "points": 1_625},
        {"rank": 4, "handle": "amy", "league": "Glow", "points": 500},
    ]
    zero = tmp_path / "zero.toml"
    zero.write_text(
        path.read_text().replace("points_per_live_hour = 500", "points_per_live_hour = 0")
    )
    with md.transaction() as session:
        zero_id = create_campaign(
            session, read_campaign_file(zero), today=date(2026, 3, 8), actor="t"
        ).id
    assert [(r["rank"], r["handle"]) for r in board(md, zero_id, date(2026, 3, 8))] == [
        (1, "amy"), (2, "bkk"), (3, "low"), (4, "nyc"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("starts = 2026-03-07", 'starts = "soon"'), "starts: 'soon' is not a date"),
        (("ends = 2026-03-09", "ends = 2026-03-01"), "ends: before starts"),
        (('bonus_hours = "22:00-02:30"', 'bonus_hours = "22:00-26:00"'), "scoring.bonus_hours"),
        (("points_per_diamond = 2", "points_per_diamond = -2"), "scoring.points_per_diamond"),
        (('value = "A"', "value = 1"), "segment: rules[0]"),
        (("min_diamonds_7d = 100", 'min_diamonds_7d = "x"'), "leagues[1].min_diamonds_7d"),
    ],
)
def test_a_bad_campaign_file_is_refused(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(FILE.replace(*change))
    with pytest.raises(InvalidInput) as refused:
        read_campaign_file(path)
    assert any(d.startswith(problem) for d in refused.value.details), refused.value.details


def test_cli_create_and_leaderboard(md: Matchdesk, run: Any, tmp_path: Path) -> None:
    setup(md)
    segment = tmp_path / "tier-a.json"
    segment.write_text('{"match": "all", "rules": [{"field": "tier", "op": "=", "value": "A"}]}')
    path = tmp_path / "spring.toml"
    path.write_text(
        FILE.replace(
            'segment = { match = "all", rules = [{ field = "tier", op = "=", value = "A" }] }',
            'segment = "tier-a.json"',
        )
    )
    outcome = run("campaigns", "create", str(path))
    assert outcome.code == 0, outcome.stderr
    campaign_id = int(outcome.stdout.strip().splitlines()[-1])
    outcome = run("campaigns", "leaderboard", str(campaign_id), "--json")
    assert outcome.code == 0, outcome.stderr
    assert [r["handle"] for r in json.loads(outcome.stdout)] == ["nyc", "bkk", "low"]
    outcome = run("campaigns", "leaderboard", str(campaign_id), "--csv")
    assert outcome.stdout.splitlines()[:2] == ["league,rank,handle,points", "Glow,1,nyc,10700"]


def test_a_segment_of_the_campaigns_participants(md: Matchdesk, tmp_path: Path) -> None:
    from matchdesk.outreach.segments import parse_segment, preview_segment

    setup(md)
    path = tmp_path / "spring.toml"
    path.write_text(FILE)
    with md.transaction() as session:
        campaign_id = create_campaign(
            session, read_campaign_file(path), today=date(2026, 3, 7), actor="t"
        ).id
        found = preview_segment(
            session,
            parse_segment(
                {"match": "all", "rules": [{"field": "campaign", "op": "=", "value": campaign_id}]}
            ),
            date(2026, 3, 7),
        )
        others = preview_segment(
            session,
            parse_segment(
                {"match": "all", "rules": [{"field": "campaign", "op": "!=", "value": campaign_id}]}
            ),
            date(2026, 3, 7),
        )
    assert found.handles == ("amy", "bkk", "low", "nyc")  # amy is enrolled, if unranked
    assert others.handles == ("out",)


@pytest.mark.parametrize(
    "bonus", ['bonus_hours = "22:00-02:30"', 'bonus_hours = "18:30-24:00"', ""]
)
def test_points_equal_the_reference_for_many_sessions(
    md: Matchdesk, tmp_path: Path, bonus: str
) -> None:
    """The leaderboard's points (one query on PostgreSQL) are those `points` gives from
    the same sessions, for sessions at every hour over a DST change in three zones."""
    import random

    from matchdesk.outreach.campaigns import points, scoring_of

    rng = random.Random(12)
    zones = ("America/New_York", "Asia/Jakarta", "Europe/London")
    made: dict[str, tuple[str, list[tuple[datetime, int, int, str | None]]]] = {}
    with md.transaction() as session:
        for i in range(9):
            handle = f"p{i}"
            session.add(
                Creator(handle=handle, timezone=zones[i % 3], languages="en", followers=1,
                        revenue_30d=1, tier="A")
            )  # fmt: skip
            starts = sorted(rng.sample(range(0, 9 * 24 * 60), 40))
            made[handle] = (
                zones[i % 3],
                [
                    (datetime(2026, 3, 4, tzinfo=UTC) + timedelta(minutes=m),
                     rng.randint(1, 300), rng.randint(0, 5000),
                     rng.choice(("win", "loss", None)))
                    for m in starts
                ],
            )  # fmt: skip
        session.flush()
        ids = dict(session.execute(select(Creator.handle, Creator.id)).all())
        for handle, (_zone, sessions) in made.items():
            for started, minutes, diamonds, outcome in sessions:
                session.add(
                    LiveSession(creator_id=ids[handle], started_at=started,
                                day=started.astimezone(PROGRAM).date(),
                                duration_minutes=minutes, diamonds=diamonds, outcome=outcome)
                )  # fmt: skip
    text = FILE.replace('bonus_hours = "22:00-02:30"', bonus).replace(  # all in Spark
        "min_diamonds_7d = 100", "min_diamonds_7d = 0"
    )
    path = tmp_path / "many.toml"
    path.write_text(text)
    spec = read_campaign_file(path)
    with md.transaction() as session:
        campaign_id = create_campaign(session, spec, today=date(2026, 3, 7), actor="t").id
    scoring = scoring_of(spec.scoring)
    expected = {
        handle: points(
            scoring,
            zone,
            [s for s in sessions if spec.starts <= s[0].astimezone(PROGRAM).date() <= spec.ends],
        )
        for handle, (zone, sessions) in made.items()
    }
    found = {row["handle"]: row["points"] for row in board(md, campaign_id, date(2026, 3, 9))}
    assert found == expected
    assert len(set(expected.values())) == len(expected)  # nothing equal by accident


def test_the_standings_export_as_csv_and_xlsx(
    md: Matchdesk, tmp_path: Path, client_as: Callable[[str | None], TestClient]
) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    setup(md)
    path = tmp_path / "spring.toml"
    path.write_text(FILE)
    with md.transaction() as session:  # created after its start: enrolled at once
        campaign_id = create_campaign(
            session, read_campaign_file(path), today=date(2026, 3, 10), actor="t"
        ).id
    viewer = client_as("viewer")
    csv = viewer.get(f"/outreach/campaigns/{campaign_id}/standings.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == [
        "League,Rank,Creator,Points",
        "Glow,1,nyc,10700",
        "Glow,2,bkk,8825",
        "Spark,1,low,4000",
    ]
    xlsx = viewer.get(f"/outreach/campaigns/{campaign_id}/standings.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(BytesIO(xlsx.content)).active
    assert sheet is not None
    assert list(sheet.iter_rows(values_only=True)) == [
        ("League", "Rank", "Creator", "Points"),
        ("Glow", 1, "nyc", 10700),
        ("Glow", 2, "bkk", 8825),
        ("Spark", 1, "low", 4000),
    ]
    refused = viewer.get(f"/outreach/campaigns/{campaign_id}/standings.pdf")
    assert refused.status_code == 404
    assert "there is no 'pdf' export (csv or xlsx)" in html.unescape(refused.text)

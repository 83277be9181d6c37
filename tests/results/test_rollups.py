"""The program rollups (day x tier sums, week x tier x weekday-mask counts) follow the
ledger exactly as results arrive, as tiers change and as creators leave; both backends,
exact values, and always equal to a rebuild from the ledger."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update

from matchdesk.context import Matchdesk
from matchdesk.results import rollups
from matchdesk.results.models import LedgerDay, LiveSession, TierDay, WeekMask
from matchdesk.results.reports import program_report
from matchdesk.roster.editing import delete_creator
from matchdesk.roster.models import Creator
from tests.results.samples import add_creators, count, csv, load


def snapshot(md: Matchdesk) -> dict[str, list[tuple[Any, ...]]]:
    with md.transaction() as session:
        return {
            "days": [
                (
                    r.day.isoformat(),
                    r.tier,
                    r.sessions,
                    r.live_minutes,
                    r.diamonds,
                    r.match_sessions,
                )
                for r in session.scalars(select(TierDay).order_by(TierDay.day, TierDay.tier))
            ],
            "masks": [
                (r.week.isoformat(), r.tier, r.days, r.creators)
                for r in session.scalars(
                    select(WeekMask).order_by(WeekMask.week, WeekMask.tier, WeekMask.days)
                )
            ],
            "counted": [
                (handle, tier)
                for handle, tier in session.execute(
                    select(Creator.handle, Creator.counted_tier)
                    .where(Creator.counted_tier.is_not(None))
                    .order_by(Creator.handle)
                )
            ],
        }


def rebuilt(md: Matchdesk) -> dict[str, list[tuple[Any, ...]]]:
    """The rollups recomputed from the ledger (in a transaction that is rolled back)."""
    with md.transaction() as session:
        rollups.rebuild(session)
        session.flush()
        found = {
            "days": [
                (
                    r.day.isoformat(),
                    r.tier,
                    r.sessions,
                    r.live_minutes,
                    r.diamonds,
                    r.match_sessions,
                )
                for r in session.scalars(select(TierDay).order_by(TierDay.day, TierDay.tier))
            ],
            "masks": [
                (r.week.isoformat(), r.tier, r.days, r.creators)
                for r in session.scalars(
                    select(WeekMask).order_by(WeekMask.week, WeekMask.tier, WeekMask.days)
                )
            ],
        }
        session.rollback()
    return found


def _two_weeks(md: Matchdesk) -> None:
    # UTC creators; the program's days are Los Angeles days (UTC-8 in February).
    add_creators(md, "luna", "mira")  # tier B
    add_creators(md, "sol", revenue=50_000)  # tier A
    load(
        md,
        csv(
            "luna,2026-02-02T20:00:00Z,60,100,,,,",  # Mon 2nd
            "luna,2026-02-02T22:00:00Z,30,50,,,,",  # Mon 2nd again
            "luna,2026-02-04T20:00:00Z,45,10,,,,",  # Wed 4th
            "mira,2026-02-02T07:00:00Z,20,7,,,,",  # 23:00 PST Sun 1st: the week before
            "mira,2026-02-08T20:00:00Z,40,9,,,,",  # Sun 8th
            "sol,2026-02-10T20:00:00Z,90,5000,,,,",  # Tue 10th
        ),
    )


def test_imports_keep_the_rollups_exactly(md: Matchdesk) -> None:
    _two_weeks(md)
    first = snapshot(md)
    assert first == {
        "days": [
            ("2026-02-01", "B", 1, 20, 7, 0),
            ("2026-02-02", "B", 2, 90, 150, 0),
            ("2026-02-04", "B", 1, 45, 10, 0),
            ("2026-02-08", "B", 1, 40, 9, 0),
            ("2026-02-10", "A", 1, 90, 5000, 0),
        ],
        "masks": [
            ("2026-01-26", "B", 64, 1),  # mira: Sunday
            ("2026-02-02", "B", 1 + 4, 1),  # luna: Monday and Wednesday
            ("2026-02-02", "B", 64, 1),  # mira: Sunday
            ("2026-02-09", "A", 2, 1),  # sol: Tuesday
        ],
        "counted": [("luna", "B"), ("mira", "B"), ("sol", "A")],
    }
    assert {k: v for k, v in first.items() if k != "counted"} == rebuilt(md)
    # The same file again changes nothing; then new figures for one session, a second
    # session on a live day, and a new day that joins mira's two masks of one week.
    load(md, csv("luna,2026-02-02T20:00:00Z,60,100,,,,", "sol,2026-02-10T20:00:00Z,90,5000,,,,"))
    assert snapshot(md) == first
    load(
        md,
        csv(
            "luna,2026-02-04T20:00:00Z,45,15,,,,",  # updated: 10 -> 15 diamonds
            "luna,2026-02-04T23:00:00Z,10,1,,,,",  # Wed 4th again
            "mira,2026-02-03T20:00:00Z,30,3,,,,",  # Tue 3rd
        ),
    )
    second = snapshot(md)
    assert second["days"] == [
        ("2026-02-01", "B", 1, 20, 7, 0),
        ("2026-02-02", "B", 2, 90, 150, 0),
        ("2026-02-03", "B", 1, 30, 3, 0),
        ("2026-02-04", "B", 2, 55, 16, 0),
        ("2026-02-08", "B", 1, 40, 9, 0),
        ("2026-02-10", "A", 1, 90, 5000, 0),
    ]
    assert second["masks"] == [
        ("2026-01-26", "B", 64, 1),
        ("2026-02-02", "B", 1 + 4, 1),
        ("2026-02-02", "B", 2 + 64, 1),  # mira's Sunday mask became Tuesday and Sunday
        ("2026-02-09", "A", 2, 1),
    ]
    assert {k: v for k, v in second.items() if k != "counted"} == rebuilt(md)


def test_a_tier_change_counts_at_once_and_is_settled(md: Matchdesk) -> None:
    _two_weeks(md)
    with md.transaction() as session:  # any roster path may change a tier
        session.execute(update(Creator).where(Creator.handle == "sol").values(tier="B"))
    with md.transaction() as session:
        before = program_report(session, md.program, date(2026, 2, 1), date(2026, 2, 14))
    tiers = [(t["tier"], t["creators"], t["diamonds"]) for t in before["tiers"]]
    assert tiers == [("S", 0, 0), ("A", 0, 0), ("B", 3, 5176)]
    assert snapshot(md)["counted"] == [("luna", "B"), ("mira", "B"), ("sol", "A")]
    with md.transaction() as session:
        assert rollups.settle_tiers(session) == 1
        assert rollups.settle_tiers(session) == 0
    settled = snapshot(md)
    assert settled["counted"] == [("luna", "B"), ("mira", "B"), ("sol", "B")]
    assert settled["masks"][-1] == ("2026-02-09", "B", 2, 1)
    assert {k: v for k, v in settled.items() if k != "counted"} == rebuilt(md)
    with md.transaction() as session:
        after = program_report(session, md.program, date(2026, 2, 1), date(2026, 2, 14))
    assert after == before


def test_an_import_settles_the_creators_it_touches(md: Matchdesk) -> None:
    _two_weeks(md)
    with md.transaction() as session:
        session.execute(update(Creator).where(Creator.handle == "sol").values(tier="B"))
    load(md, csv("sol,2026-02-11T20:00:00Z,10,1,,,,"))
    found = snapshot(md)
    assert found["counted"][-1] == ("sol", "B")
    assert found["days"][-2:] == [
        ("2026-02-10", "B", 1, 90, 5000, 0),
        ("2026-02-11", "B", 1, 10, 1, 0),
    ]
    assert found["masks"][-1] == ("2026-02-09", "B", 2 + 4, 1)
    assert {k: v for k, v in found.items() if k != "counted"} == rebuilt(md)


def test_a_deleted_creator_leaves_the_rollups(md: Matchdesk) -> None:
    _two_weeks(md)
    with md.transaction() as session:
        delete_creator(session, "luna", actor="test")
    # no declared foreign key: the removal itself takes the sessions and ledger days
    assert (count(md, LiveSession), count(md, LedgerDay)) == (3, 3)
    found = snapshot(md)
    assert found["days"] == [
        ("2026-02-01", "B", 1, 20, 7, 0),
        ("2026-02-08", "B", 1, 40, 9, 0),
        ("2026-02-10", "A", 1, 90, 5000, 0),
    ]
    assert found["masks"] == [
        ("2026-01-26", "B", 64, 1),
        ("2026-02-02", "B", 64, 1),
        ("2026-02-09", "A", 2, 1),
    ]
    assert {k: v for k, v in found.items() if k != "counted"} == rebuilt(md)


def test_weeks_count_only_the_ranges_days(md: Matchdesk) -> None:
    _two_weeks(md)
    with md.transaction() as session:
        # Tuesday 3rd to Tuesday 10th: luna's Wednesday counts, her Monday does not.
        weeks = program_report(session, md.program, date(2026, 2, 3), date(2026, 2, 10))["weeks"]
        one = program_report(session, md.program, date(2026, 2, 3), date(2026, 2, 3))["weeks"]
    assert [(w["week_start"], w["sessions"], w["diamonds"], w["creators_live"]) for w in weeks] == [
        ("2026-02-02", 2, 19, 2),
        ("2026-02-09", 1, 5000, 1),
    ]
    assert [(w["week_start"], w["creators_live"]) for w in one] == [("2026-02-02", 0)]

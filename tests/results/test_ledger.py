"""The revenue ledger: program days (midnight and DST), incremental upkeep, revenue_30d
from the ledger without re-tiering; both backends, exact values."""

from __future__ import annotations

from datetime import date

from matchdesk.context import Matchdesk
from matchdesk.roster.availability import parse_availability
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.service import import_roster, save_records
from matchdesk.roster.tiers import retier_all
from tests.results.samples import add_creators, creator_figures, csv, ledger, load

# The program's zone is America/Los_Angeles (the built-in program): PST is UTC-8 until
# 2026-03-08 02:00, PDT (UTC-7) after.


def test_sessions_belong_to_the_program_day_they_start_across_midnight(md: Matchdesk) -> None:
    add_creators(md, "luna")
    load(
        md,
        csv(
            "luna,2026-03-04T07:59:00Z,120,100,,1,,",  # 23:59 PST on the 3rd, runs past midnight
            "luna,2026-03-04T08:00:00Z,30,200,,2,,",  # 00:00 PST on the 4th
            "luna,2026-03-04T23:00:00+05:30,45,400,,,,",  # 09:30 PST on the 4th
        ),
    )
    assert ledger(md, "luna") == [
        ("2026-03-03", 1, 120, 100, 1, 0),
        ("2026-03-04", 2, 75, 600, 2, 0),
    ]


def test_program_days_follow_the_dst_change(md: Matchdesk) -> None:
    add_creators(md, "luna")
    load(
        md,
        csv(
            "luna,2026-03-08T07:30:00Z,60,10,,,,",  # 23:30 PST, Sat 7th
            "luna,2026-03-08T08:30:00Z,60,20,,,,",  # 00:30 PST, Sun 8th
            "luna,2026-03-09T06:59:00Z,60,40,,,,",  # 23:59 PDT, Sun 8th (UTC-7 now)
            "luna,2026-03-09T07:30:00Z,60,80,,,,",  # 00:30 PDT, Mon 9th (was 23:30 in PST)
        ),
    )
    assert ledger(md, "luna") == [
        ("2026-03-07", 1, 60, 10, 0, 0),
        ("2026-03-08", 2, 120, 60, 0, 0),
        ("2026-03-09", 1, 60, 80, 0, 0),
    ]


def test_the_ledger_is_adjusted_not_rebuilt(md: Matchdesk) -> None:
    add_creators(md, "luna")
    load(md, csv("luna,2026-03-04T18:00:00Z,60,100,,5,,", "luna,2026-03-04T20:00:00Z,30,50,,,,"))
    # The second session changes, a third arrives the same day; the first is unchanged.
    report = load(
        md,
        csv(
            "luna,2026-03-04T18:00:00Z,60,100,,5,,",
            "luna,2026-03-04T20:00:00Z,40,70,,1,,",
            "luna,2026-03-04T22:00:00Z,10,1,,,,",
        ),
    )
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    assert ledger(md, "luna") == [("2026-03-04", 3, 110, 171, 6, 0)]


def test_revenue_30d_follows_the_ledger_once_the_creator_has_results(md: Matchdesk) -> None:
    add_creators(md, "luna", "zed_99", revenue=500)
    # TODAY is 2026-03-20: the 30 program days are 02-19 .. 03-20.
    load(
        md,
        csv(
            "luna,2026-02-19T09:00:00Z,60,30000,,,,",  # 01:00 PST on 02-19: inside
            "luna,2026-02-19T07:00:00Z,60,999,,,,",  # 23:00 PST on 02-18: outside
            "luna,2026-03-20T20:00:00Z,60,1000,,,,",  # today
            "luna,2026-03-21T20:00:00Z,60,7,,,,",  # tomorrow: not yet
        ),
    )
    # 31,000 diamonds meet tier A's minimum (20,000), but the ledger never re-tiers.
    assert creator_figures(md, "luna") == (31000, "results", "B")
    assert creator_figures(md, "zed_99") == (500, "roster", "B")
    # A later import moves the window on: 02-19 drops out on 03-21.
    load(md, csv("zed_99,2026-03-21T20:00:00Z,60,5,,,,"), today=date(2026, 3, 21))
    assert creator_figures(md, "luna") == (1007, "results", "B")
    assert creator_figures(md, "zed_99") == (5, "results", "B")


def test_a_roster_import_keeps_ledger_revenue_and_tier(md: Matchdesk) -> None:
    add_creators(md, "luna", "zed_99", revenue=500)
    load(md, csv("luna,2026-03-19T20:00:00Z,60,25000,,,,"))
    roster = (
        b"handle,timezone,languages,followers,revenue_30d,availability\n"
        b"luna,UTC,en,2000,300000,Mon 19:00-23:00\n"
        b"zed_99,UTC,en,1000,300000,Mon 19:00-23:00\n"
    )
    with md.transaction() as session:
        report = import_roster(session, md.program, roster, "roster.csv")
    assert (report.created, report.updated, report.unchanged) == (0, 2, 0)
    # luna: followers updated, revenue and tier kept; zed_99 has no results: re-tiered.
    assert creator_figures(md, "luna") == (25000, "results", "B")
    assert creator_figures(md, "zed_99") == (300000, "roster", "S")
    with md.transaction() as session:
        again = import_roster(session, md.program, roster, "roster.csv")
        assert retier_all(session, md.program) == 0
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert creator_figures(md, "luna") == (25000, "results", "B")


def test_retier_leaves_results_creators_alone(md: Matchdesk) -> None:
    add_creators(md, "luna", "zed_99", revenue=500)
    load(md, csv("luna,2026-03-19T20:00:00Z,60,25000,,,,"))
    record = CreatorRecord(
        handle="zed_99",
        timezone="UTC",
        languages=("en",),
        followers=1000,
        revenue_30d=25000,
        availability=parse_availability("Mon 19:00-23:00"),
    )
    with md.transaction() as session:
        save_records(session, md.program, [record])
        assert retier_all(session, md.program) == 0
    assert creator_figures(md, "luna") == (25000, "results", "B")
    assert creator_figures(md, "zed_99") == (25000, "roster", "A")

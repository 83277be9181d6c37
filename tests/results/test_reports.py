"""SPEC section 5's documents on a hand-made program: a range starting mid-week, the
week of the 2026-03-08 change to summer time, sessions either side of the program's
midnight (America/Los_Angeles, the built-in program); both backends, exact values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput, NotFound
from matchdesk.results.reports import creator_report, parse_range, program_report
from tests.results.samples import add_creators, add_match, csv, load

FROM, TO = date(2026, 3, 4), date(2026, 3, 10)  # Wednesday to the next Tuesday


def _program(md: Matchdesk) -> None:
    add_creators(md, "luna")  # tier B (revenue_30d from the ledger: 1,730 on 2026-03-20)
    add_creators(md, "sol", revenue=50_000)  # tier A
    add_match(md, "luna", "sol", datetime(2026, 3, 6, 20, 0, tzinfo=UTC))
    load(
        md,
        csv(
            "luna,2026-03-03T08:30:00Z,60,1000,,,,",  # 00:30 PST on the 3rd: before the range
            "luna,2026-03-05T07:59:00Z,120,100,,,,",  # 23:59 PST on the 4th
            "luna,2026-03-05T08:00:00Z,30,200,,,,",  # 00:00 PST on the 5th
            "luna,2026-03-06T20:05:00Z,50,400,,,,win",  # the match, Fri 6th
            "luna,2026-03-08T07:30:00Z,60,10,,,,",  # 23:30 PST, Sat 7th
            "luna,2026-03-09T07:30:00Z,45,20,,,,",  # 00:30 PDT Mon 9th (PST: still Sun 8th)
            "sol,2026-03-06T20:00:00Z,60,300,,,,loss",  # the match
            "sol,2026-03-10T07:30:00Z,90,5000,,,,",  # 00:30 PDT on the 10th
            "sol,2026-03-11T06:59:00Z,10,7,,,,",  # 23:59 PDT on the 10th
            "sol,2026-03-11T07:00:00Z,60,999,,,,",  # 00:00 PDT on the 11th: after the range
        ),
    )


def test_program_report_weeks_and_tiers(md: Matchdesk) -> None:
    _program(md)
    with md.transaction() as session:
        document = program_report(session, md.program, FROM, TO)
    assert json.loads(json.dumps(document)) == {
        "from": "2026-03-04",
        "to": "2026-03-10",
        "weeks": [
            {
                "week_start": "2026-03-02",
                "sessions": 5,
                "live_minutes": 320,
                "diamonds": 1010,
                "creators_live": 2,
            },
            {
                "week_start": "2026-03-09",
                "sessions": 3,
                "live_minutes": 145,
                "diamonds": 5027,
                "creators_live": 2,
            },
        ],
        "tiers": [
            {"tier": "S", "creators": 0, "diamonds": 0, "matches_completed": 0},
            {"tier": "A", "creators": 1, "diamonds": 5307, "matches_completed": 1},
            {"tier": "B", "creators": 1, "diamonds": 730, "matches_completed": 1},
        ],
    }


def test_a_week_without_sessions_is_listed_with_zeros(md: Matchdesk) -> None:
    _program(md)
    with md.transaction() as session:
        document = program_report(session, md.program, date(2026, 3, 15), date(2026, 3, 16))
    assert document["weeks"] == [
        {
            "week_start": "2026-03-09",
            "sessions": 0,
            "live_minutes": 0,
            "diamonds": 0,
            "creators_live": 0,
        },
        {
            "week_start": "2026-03-16",
            "sessions": 0,
            "live_minutes": 0,
            "diamonds": 0,
            "creators_live": 0,
        },
    ]


def test_creator_reports(md: Matchdesk) -> None:
    _program(md)
    with md.transaction() as session:
        luna = creator_report(session, md.program, "@Luna", FROM, TO)
        sol = creator_report(session, md.program, "sol", FROM, TO)
    assert luna == {
        "handle": "luna",
        "from": "2026-03-04",
        "to": "2026-03-10",
        "sessions": 5,
        "live_minutes": 305,
        "diamonds": 730,
        "days_live": 5,
        "matches_completed": 1,
        "match_diamonds": 400,
        "uplift": None,
    }
    assert sol == {
        "handle": "sol",
        "from": "2026-03-04",
        "to": "2026-03-10",
        "sessions": 3,
        "live_minutes": 160,
        "diamonds": 5307,
        "days_live": 2,
        "matches_completed": 1,
        "match_diamonds": 300,
        "uplift": None,
    }


def test_unknown_creator(md: Matchdesk) -> None:
    with md.transaction() as session, pytest.raises(NotFound) as caught:
        creator_report(session, md.program, "nobody", FROM, TO)
    assert caught.value.message == "No creator with handle 'nobody'."


@pytest.mark.parametrize(
    ("start", "end", "details"),
    [
        (None, "2026-03-01", ["from: required (YYYY-MM-DD)"]),
        (
            "2026-02-30",
            "x",
            ["from: '2026-02-30' is not a date (YYYY-MM-DD)", "to: 'x' is not a date (YYYY-MM-DD)"],
        ),
        ("2026-03-05", "2026-03-04", ["from: 2026-03-05 is after to: 2026-03-04"]),
    ],
)
def test_invalid_periods(start: str | None, end: str, details: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_range(start, end)
    assert caught.value.details == details


def test_cli_prints_the_documents(md: Matchdesk, run) -> None:  # type: ignore[no-untyped-def]
    _program(md)
    outcome = run(
        "reports", "creator", "luna", "--from", "2026-03-04", "--to", "2026-03-10", "--json"
    )
    assert outcome.code == 0
    assert json.loads(outcome.stdout)["diamonds"] == 730
    outcome = run("reports", "program", "--from", "2026-03-09", "--to", "2026-03-10", "--json")
    assert outcome.code == 0
    assert json.loads(outcome.stdout)["weeks"] == [
        {
            "week_start": "2026-03-09",
            "sessions": 3,
            "live_minutes": 145,
            "diamonds": 5027,
            "creators_live": 2,
        }
    ]


def test_cli_prints_the_documents_for_people(md: Matchdesk, run, capsys) -> None:  # type: ignore[no-untyped-def]
    _program(md)
    outcome = run("reports", "creator", "luna", "--from", "2026-03-04", "--to", "2026-03-10")
    assert (outcome.code, outcome.stdout.splitlines()) == (
        0,
        [
            "handle: luna",
            "from: 2026-03-04",
            "to: 2026-03-10",
            "sessions: 5",
            "live_minutes: 305",
            "diamonds: 730",
            "days_live: 5",
            "matches_completed: 1",
            "match_diamonds: 400",
            "uplift: none (not enough data)",
        ],
    )
    outcome = run("reports", "program", "--from", "2026-03-09", "--to", "2026-03-10")
    assert outcome.stdout.splitlines()[:4] == [
        "from: 2026-03-09",
        "to: 2026-03-10",
        "weeks:",
        "  week_start=2026-03-09  sessions=3  live_minutes=145  diamonds=5027  creators_live=2",
    ]
    from matchdesk.cli.reports import _print

    capsys.readouterr()
    _print({"uplift": {"estimate": 0.25, "low": 0.08, "high": 0.44, "n": 3}}, as_json=False)
    assert capsys.readouterr().out == "uplift: estimate=0.25  low=0.08  high=0.44  n=3\n"


def test_cli_refuses_bad_input(md: Matchdesk, run) -> None:  # type: ignore[no-untyped-def]
    outcome = run("reports", "creator", "nobody", "--from", "2026-03-04", "--to", "2026-03-10")
    assert (outcome.code, outcome.stderr.strip()) == (2, "Error: No creator with handle 'nobody'.")
    outcome = run("reports", "program", "--from", "2026-03-04", "--to", "March")
    assert outcome.code == 2
    assert outcome.stderr.splitlines() == [
        "Error: Invalid report period.",
        "  to: 'March' is not a date (YYYY-MM-DD)",
    ]


def test_movers_dark_and_rounds(md: Matchdesk) -> None:
    from matchdesk.results import analytics

    _program(md)
    with md.transaction() as session:
        movers = analytics.top_movers(session, date(2026, 3, 9), date(2026, 3, 10))
        dark = analytics.gone_dark(session, date(2026, 3, 11))
        darker = analytics.gone_dark(session, date(2026, 3, 12))
        rounds = analytics.round_rates(session, md.program, FROM, TO)
    # 2026-03-09..10 against 2026-03-07..08
    assert movers == [
        {
            "handle": "sol",
            "tier": "A",
            "diamonds": 5007,
            "previous": 0,
            "change": 5007,
            "change_rate": None,
        },
        {
            "handle": "luna",
            "tier": "B",
            "diamonds": 20,
            "previous": 10,
            "change": 10,
            "change_rate": 1.0,
        },
    ]
    # On the 11th luna was last live on the 9th (2 days): not dark yet; on the 12th she is.
    assert dark == (0, [])
    assert darker == (
        1,
        [{"handle": "luna", "tier": "B", "last_live": date(2026, 3, 9), "days_dark": 3}],
    )
    assert [(r["matches"], r["held"], r["confirm_rate"], r["decline_rate"]) for r in rounds] == [
        (1, 1, 1.0, 0.0)
    ]


def test_round_rates_count_each_answer(md: Matchdesk) -> None:
    """Five matches of one round: unanswered, both confirmed, declined, a no-show and one
    held: held 1; confirmed 3 of 5 (both confirmed, or the match took place or should
    have); declined 1 and no-show 1 of 5. A draft match is not counted. The round's
    first day is the program's."""
    from sqlalchemy import select

    from matchdesk.results import analytics
    from matchdesk.roster.models import Creator
    from matchdesk.rounds.models import Match, Round

    handles = [f"c{i}" for i in range(12)]
    add_creators(md, *handles)
    starts = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    answers = [
        ("published", "pending", "pending"),
        ("confirmed", "confirmed", "confirmed"),
        ("declined", "declined", "confirmed"),
        ("no_show", "confirmed", "confirmed"),
        ("completed", "confirmed", "pending"),
        ("proposed", "pending", "pending"),
    ]
    with md.transaction() as session:
        ids = dict(session.execute(select(Creator.handle, Creator.id)).all())
        round_ = Round(
            cadence="weekly",
            tier="B",
            period_start=datetime(2026, 3, 8, 18, 30, tzinfo=UTC),
            period_end=datetime(2026, 3, 15, 18, 30, tzinfo=UTC),
            status="published",
        )
        session.add(round_)
        session.flush()
        for k, (status, a, b) in enumerate(answers):
            session.add(
                Match(
                    round_id=round_.id,
                    creator_a_id=ids[handles[2 * k]],
                    creator_b_id=ids[handles[2 * k + 1]],
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    score=1.0,
                    status=status,
                    a_response=a,
                    b_response=b,
                )
            )
    # The round starts at 18:30 UTC on the 8th: 11:30 on the 8th in Los Angeles, and
    # 00:00 on the 9th in Kolkata, whose program shows it on the 9th.
    kolkata = md.program.model_copy(
        update={"program": md.program.program.model_copy(update={"timezone": "Asia/Kolkata"})}
    )
    with md.transaction() as session:
        rates = analytics.round_rates(session, md.program, FROM, TO)
        days = [r["period_start"] for r in analytics.round_rates(session, kolkata, FROM, TO)]
    assert days == [date(2026, 3, 9)]
    assert rates == [
        {
            "round_id": rates[0]["round_id"],
            "cadence": "weekly",
            "tier": "B",
            "period_start": date(2026, 3, 8),
            "matches": 5,
            "held": 1,
            "confirm_rate": 0.6,
            "decline_rate": 0.2,
            "no_show_rate": 0.2,
        }
    ]


def test_csv_neutralises_formulas_and_xlsx_keeps_types() -> None:
    import io

    from openpyxl import load_workbook

    from matchdesk.results.exports import Table, to_csv, to_xlsx

    table = Table(
        "t",
        (("who", "creator"), ("day", "day"), ("n", "diamonds"), ("rate", "rate")),
        [
            {"who": '=HYPERLINK("x")', "day": date(2026, 3, 2), "n": 5, "rate": 0.25},
            {"who": "-1+2", "day": date(2026, 3, 3), "n": 0, "rate": None},
        ],
    )
    assert to_csv(table).decode() == (
        'creator,day,diamonds,rate\n"\'=HYPERLINK(""x"")",2026-03-02,5,0.25\n\'-1+2,2026-03-03,0,\n'
    )
    sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
    assert sheet is not None
    assert [c.data_type for c in sheet[2]] == ["s", "d", "n", "n"]
    assert sheet["A2"].value == '=HYPERLINK("x")'  # as text, not a formula

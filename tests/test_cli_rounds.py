"""`matchdesk rounds ...` and the demo's round: SPEC section 3's output and exit codes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

ROSTER = (
    "handle,email,timezone,languages,followers,revenue_30d,availability\n"
    "ana,ana@example.com,UTC,en,1000,100,Mon 18:00-19:00\n"
    "ben,ben@example.com,UTC,en,1200,100,Mon 18:00-19:00\n"
    "eve,eve@example.com,UTC,fr,1000,100,Mon 18:00-19:00\n"
)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Sets the moment the CLI builds rounds at (the week of 30 Nov 2026 is fixed here)."""

    def at(moment: datetime) -> None:
        monkeypatch.setattr("matchdesk.roster.models.utcnow", lambda: moment)

    at(datetime(2026, 11, 23, 12, tzinfo=UTC))  # the week before: nothing has begun
    return at


def test_create_show_export_publish(run, tmp_path: Path, clock) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "roster.csv").write_text(ROSTER)
    assert run("init").code == 0
    assert run("creators", "import", "roster.csv").code == 0
    created = run("rounds", "create", "--cadence", "weekly", "--start", "2026-11-30")
    assert created.code == 0
    lines = created.stdout.strip().splitlines()
    assert lines[-1] == "1"  # the round's id alone on the last line
    assert lines[0] == "Round 1: weekly, 2026-11-30 08:00 to 2026-12-07 08:00 UTC."
    assert lines[1] == "Pool 3 creators, 2 with a feasible partner; 1 matches (2 creators), 1 byes."
    shown = run("rounds", "show", "1", "--json")
    assert shown.code == 0
    document = json.loads(shown.stdout)
    assert document == {
        "round_id": 1,
        "cadence": "weekly",
        "period_start": "2026-11-30T08:00:00Z",
        "period_end": "2026-12-07T08:00:00Z",
        "matches": [
            {
                "match_id": 1,
                "creator_a": "ana",
                "creator_b": "ben",
                "starts_at": "2026-11-30T18:00:00Z",
                "ends_at": "2026-11-30T19:00:00Z",
                "score": document["matches"][0]["score"],
                "status": "proposed",
            }
        ],
        "byes": [{"creator": "eve", "reason": "no feasible partner"}],
    }
    assert 0 < document["matches"][0]["score"] <= 1
    assert run("rounds", "export", "1", "--format", "csv", "--output", "r.csv").code == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text())))
    match = document["matches"][0]
    assert rows == [
        ["match_id", "creator_a", "creator_b", "starts_at", "ends_at", "score", "status"],
        [
            "1",
            "ana",
            "ben",
            "2026-11-30T18:00:00Z",
            "2026-11-30T19:00:00Z",
            str(match["score"]),
            "proposed",
        ],
    ]
    assert run("rounds", "export", "1", "--format", "xlsx", "--output", "r.xlsx").code == 0
    book = load_workbook(tmp_path / "r.xlsx")
    monday_18 = datetime(2026, 11, 30, 18, 0)  # real dates (UTC), not text
    assert [list(r) for r in book["matches"].iter_rows(values_only=True)] == [
        [
            "match_id",
            "creator_a",
            "creator_b",
            "starts_at",
            "ends_at",
            "score",
            "status",
            "creator_a_timezone",
            "creator_a_local_start",
            "creator_b_timezone",
            "creator_b_local_start",
        ],
        [
            1,
            "ana",
            "ben",
            monday_18,
            datetime(2026, 11, 30, 19, 0),
            match["score"],
            "proposed",
            "UTC",
            monday_18,
            "UTC",
            monday_18,
        ],
    ]
    assert [list(r) for r in book["byes"].iter_rows(values_only=True)] == [
        ["creator", "reason", "timezone"],
        ["eve", "no feasible partner", "UTC"],
    ]
    assert run("rounds", "export", "1", "--format", "ics", "--output", "r.ics").code == 0
    ics = (tmp_path / "r.ics").read_bytes().decode()
    assert "DTSTART:20261130T180000Z\r\n" in ics
    assert "SUMMARY:LIVE match @ana x @ben\r\n" in ics
    published = run("rounds", "publish", "1")
    assert (published.code, published.stdout.strip()) == (
        0,
        "Round 1 published; 2 invitations queued (`matchdesk worker` sends them).",
    )
    assert (
        json.loads(run("rounds", "show", "1", "--json").stdout)["matches"][0]["status"]
        == "published"
    )


def test_a_week_that_has_begun_leaves_out_the_past_and_an_ended_one_is_refused(
    run, tmp_path: Path, clock
) -> None:  # type: ignore[no-untyped-def]
    """Issue 13, defect 5: a round was built for a week already begun, matches in the past."""
    (tmp_path / "roster.csv").write_text(
        ROSTER.replace("ana,ana@example.com,UTC,en,1000,100,Mon 18:00-19:00", "ana,,UTC,en,1,1,")
        + "cat,,UTC,en,1000,100,Mon 18:00-19:00; Thu 18:00-19:00\n"
        + "dan,,UTC,en,1100,100,Thu 18:00-19:00\n"
    )
    assert run("init").code == 0
    assert run("creators", "import", "roster.csv").code == 0
    clock(datetime(2026, 12, 2, 20, 10, tzinfo=UTC))  # Wednesday, 12:10 in Los Angeles
    created = run("rounds", "create", "--cadence", "weekly", "--start", "2026-11-30")
    assert created.code == 0, created.stderr
    assert created.stdout.strip().splitlines()[-2] == (
        "The period had already begun: matches start from Wed 2 Dec 12:30 "
        "(America/Los_Angeles); earlier times are left out."
    )
    document = json.loads(run("rounds", "show", "1", "--json").stdout)
    assert [(m["creator_a"], m["creator_b"], m["starts_at"]) for m in document["matches"]] == [
        ("cat", "dan", "2026-12-03T18:00:00Z")
    ]  # ben and cat could only have met on Monday, in the past
    assert {b["creator"] for b in document["byes"]} == {"ana", "ben", "eve"}
    ended = run("rounds", "create", "--cadence", "weekly", "--start", "2026-11-23")
    assert (ended.code, ended.stderr.splitlines()) == (
        2,
        [
            "Error: the round cannot be built",
            "  start: the week starting 2026-11-23 has ended, or has no time left for a "
            "match; build a round for a later week",
        ],
    )


def test_bad_round_requests_exit_2_or_1(run, clock) -> None:  # type: ignore[no-untyped-def]
    assert run("init").code == 0
    tuesday = run("rounds", "create", "--cadence", "weekly", "--start", "2026-12-01")
    assert (tuesday.code, tuesday.stderr.splitlines()) == (
        2,
        [
            "Error: the round cannot be built",
            "  start: 2026-12-01 is a Tuesday; a weekly round starts on a Monday",
        ],
    )
    bad_date = run("rounds", "create", "--cadence", "monthly", "--start", "1 Dec")
    assert (bad_date.code, bad_date.stderr.splitlines()[1]) == (
        2,
        "  start: '1 Dec' is not a date (YYYY-MM-DD)",
    )
    missing = run("rounds", "show", "7")
    assert (missing.code, missing.stderr.strip()) == (2, "Error: No round 7.")
    assert run("rounds", "create", "--cadence", "weekly", "--start", "2026-11-30").code == 0
    twice = run("rounds", "create", "--cadence", "weekly", "--start", "2026-11-30")
    assert (twice.code, twice.stderr.strip()) == (
        1,
        "Error: Round 1 (weekly, every tier) already covers the period starting 2026-11-30. "
        "Open it, or discard it before building another.",
    )
    wrong_format = run("rounds", "export", "1", "--format", "pdf", "--output", "r.pdf")
    assert (wrong_format.code, wrong_format.stderr.splitlines()[1]) == (
        2,
        "  format: 'pdf' is not one of csv, xlsx, ics",
    )


def test_demo_runs_a_round(run, hold_clock) -> None:  # type: ignore[no-untyped-def]
    # The program's clock held (Wednesday 9 December 2026, 12:10 in Los Angeles): on the
    # real one the demo read Sunday just before midnight in Los Angeles and the test's
    # own reading Monday just after it, a week later than the demo's next Monday.
    hold_clock(datetime(2026, 12, 9, 20, 10, tzinfo=UTC))
    assert run("init").code == 0
    demo = run("demo", "--creators", "120", "--seed", "3")
    assert demo.code == 0
    lines = demo.stdout.strip().splitlines()
    # Six past rounds of history come first (rounds 1-6); the draft for next week is 7.
    assert lines[1].startswith("Demo history: 6 past weekly rounds played, ")
    document = json.loads(run("rounds", "show", "7", "--json").stdout)
    assert lines[2] == (
        "Demo round 7: weekly, from 2026-12-14, "
        f"{len(document['matches'])} matches (a draft: review and publish it)."
    )
    assert len(document["matches"]) > 30


def test_help_shows_flags_as_flags(run) -> None:  # type: ignore[no-untyped-def]
    """Issue 13, defect 15: the help showed `--dry-run <bool>`, as if it took a value."""
    shown = run("creators", "import", "--help")
    assert shown.code == 0
    assert "<bool>" not in shown.stdout
    assert "  --dry-run  Validate only; write nothing." in shown.stdout
    rounds = run("rounds", "show", "--help")
    assert "<bool>" not in rounds.stdout
    assert "  --json  One JSON object (docs/formats.md, section 3)." in rounds.stdout


def test_list_and_discard(run, tmp_path: Path, clock) -> None:  # type: ignore[no-untyped-def]
    """Issue 13, defect 15: no `rounds list` and no `rounds discard` on the command line."""
    (tmp_path / "roster.csv").write_text(ROSTER)
    assert run("init").code == 0
    assert run("creators", "import", "roster.csv").code == 0
    assert run("rounds", "list").stdout.startswith("No rounds yet")
    assert run("rounds", "create", "--cadence", "weekly", "--start", "2026-11-30").code == 0
    listed = run("rounds", "list", "--json")
    assert json.loads(listed.stdout) == [
        {
            "round_id": 1,
            "cadence": "weekly",
            "tier": None,
            "period_start": "2026-11-30T08:00:00Z",
            "period_end": "2026-12-07T08:00:00Z",
            "status": "draft",
            "matches": 1,
            "byes": 1,
            "version": 1,
        }
    ]
    assert run("rounds", "list").stdout.splitlines() == [
        "     1  weekly   every tier  2026-11-30T08:00:00Z to 2026-12-07T08:00:00Z  draft      "
        "1 matches, 1 byes"
    ]
    discarded = run("rounds", "discard", "1")
    assert (discarded.code, discarded.stdout.strip()) == (0, "Round 1 discarded.")
    assert json.loads(run("rounds", "list", "--json").stdout) == []
    again = run("rounds", "discard", "1")
    assert (again.code, again.stderr.strip()) == (
        1,
        "Error: Round 1 is discarded; only a draft can be discarded.",
    )
    # Its week can be built again.
    assert run("rounds", "create", "--cadence", "weekly", "--start", "2026-11-30").code == 0

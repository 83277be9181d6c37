"""The results import (SPEC section 4): validation with every problem at once and nothing
written, idempotent re-imports, audited updates; both backends, exact values."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from matchdesk.audit import AuditEntry
from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.results.models import LedgerDay, LiveSession
from matchdesk.results.records import SessionRecord
from matchdesk.results.service import import_results, import_rows, save_sessions
from tests.results.samples import HEADER, TODAY, add_creators, count, csv, ledger, load, sessions

GOOD = csv(
    "luna,2026-03-02T19:00:00Z,60,1200,340,12,,",
    "@Zed_99,2026-03-02T20:30:00+01:00,45,800,,,,",
)


def test_a_good_file_imports_and_a_second_import_changes_nothing(md: Matchdesk) -> None:
    add_creators(md, "luna", "zed_99")
    first = load(md, GOOD)
    assert (first.created, first.updated, first.unchanged, first.dry_run) == (2, 0, 0, False)
    again = load(md, GOOD)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert sessions(md) == [
        ("luna", "2026-03-02T19:00Z", 60, 1200, None, None),
        ("zed_99", "2026-03-02T19:30Z", 45, 800, None, None),
    ]
    assert ledger(md, "luna") == [("2026-03-02", 1, 60, 1200, 12, 0)]
    assert count(md, AuditEntry) == 0


def test_a_dry_run_reports_and_writes_nothing(md: Matchdesk) -> None:
    add_creators(md, "luna", "zed_99")
    report = load(md, GOOD, dry_run=True)
    assert (report.created, report.updated, report.unchanged, report.dry_run) == (2, 0, 0, True)
    assert count(md, LiveSession) == 0
    assert count(md, LedgerDay) == 0


def test_ten_mistakes_are_reported_at_once_and_nothing_is_written(md: Matchdesk) -> None:
    add_creators(md, "luna", "zed_99")
    data = csv(
        "ghost,2026-03-02T19:00:00Z,60,100,,,,",
        "luna,2026-03-02 19:00,60,100,,,,",
        "luna,yesterday,60,100,,,,",
        "luna,2026-03-02T21:00:00Z,0,100,,,,",
        "luna,2026-03-02T22:00:00Z,1441,-5,,,,",
        "luna,2026-03-02T23:00:00Z,30,100,many,-2,,",
        "luna,2026-03-03T01:00:00Z,30,100,,,x1,tie",
        "zed_99,2026-03-03T01:00:00Z,30,100,,,,",
        "ZED_99,2026-03-03T01:00:00Z,30,90,,,,",
        "zed_99,2026-03-03T03:00:00Z,30,100,,,77,win",
    )
    with pytest.raises(InvalidInput) as caught:
        load(md, data)
    assert caught.value.message == "results.csv: 12 problems found; nothing was imported"
    assert caught.value.details == [
        "row 2, column handle: 'ghost' is not on the roster",
        "row 3, column started_at: '2026-03-02 19:00' has no UTC offset; add one or Z "
        "(e.g. 2026-03-02T19:00:00Z), a time alone is ambiguous",
        "row 4, column started_at: 'yesterday' is not an ISO 8601 time "
        "(e.g. 2026-03-09T19:00:00Z or 2026-03-09T19:00:00+05:30)",
        "row 5, column duration_minutes: '0' minutes is out of range (1 to 1440)",
        "row 6, column duration_minutes: '1441' minutes is out of range (1 to 1440)",
        "row 6, column diamonds: '-5' is negative; it must be 0 or more",
        "row 7, column viewers_peak: 'many' is not a number (e.g. 12500, 12,500, 12.5k or 1.2M)",
        "row 7, column new_followers: '-2' is negative; it must be 0 or more",
        "row 8, column match_id: 'x1' is not a match id (a whole number such as 1234)",
        "row 8, column outcome: 'tie' is not an outcome (use win, loss or draw)",
        "row 10, column started_at: the session of 'zed_99' starting 2026-03-03T01:00:00Z "
        "appears again (first on row 9)",
        "row 11, column match_id: match 77 does not exist",
    ]
    assert count(md, LiveSession) == 0
    assert count(md, LedgerDay) == 0


def test_the_header_is_checked_like_the_rosters(md: Matchdesk) -> None:
    add_creators(md, "luna")
    data = csv("luna,2026-03-02T19:00:00Z,60,5", header="handle,started_at,duration,diamond")
    with pytest.raises(InvalidInput) as caught:
        load(md, data)
    assert caught.value.details == [
        "row 1, column duration: unknown column (did you mean duration_minutes?)",
        "row 1, column diamond: unknown column (did you mean diamonds?)",
        "row 1: missing required column duration_minutes",
        "row 1: missing required column diamonds",
    ]


def test_a_control_character_or_a_long_cell_is_refused(md: Matchdesk) -> None:
    add_creators(md, "luna")
    data = csv(
        "lu\x07na,2026-03-02T19:00:00Z,60,5,,,,", f"luna,2026-03-02T19:00:00Z,{'1' * 31},5,,,,"
    )
    with pytest.raises(InvalidInput) as caught:
        load(md, data)
    assert caught.value.details == [
        "row 2, column handle: contains a control character (such as NUL or a tab)",
        "row 3, column duration_minutes: too long (31 characters; at most 20)",
    ]


def test_same_key_new_figures_updates_audits_and_adjusts_the_ledger(md: Matchdesk) -> None:
    add_creators(md, "luna", "zed_99")
    load(md, GOOD)
    changed = csv(
        "luna,2026-03-02T19:00:00Z,90,1500,340,20,,", "zed_99,2026-03-02T19:30:00Z,45,800,,,,"
    )
    report = load(md, changed)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert ledger(md, "luna") == [("2026-03-02", 1, 90, 1500, 20, 0)]
    with md.transaction() as session:
        entries = session.execute(
            select(
                AuditEntry.actor,
                AuditEntry.action,
                AuditEntry.subject_type,
                AuditEntry.before,
                AuditEntry.after,
            )
        ).all()
    figures = {"viewers_peak": 340, "match_id": None, "outcome": None}
    assert [tuple(e) for e in entries] == [
        (
            "test",
            "session.updated",
            "live_session",
            {"duration_minutes": 60, "diamonds": 1200, "new_followers": 12, **figures},
            {"duration_minutes": 90, "diamonds": 1500, "new_followers": 20, **figures},
        )
    ]


def test_save_sessions_writes_records_like_an_import(md: Matchdesk) -> None:
    add_creators(md, "luna")
    record = SessionRecord("luna", datetime(2026, 3, 2, 19, tzinfo=UTC), 60, 1200, new_followers=3)
    with md.transaction() as session:
        report = save_sessions(session, md.program, [record], actor="demo", today=TODAY)
    assert (report.created, report.updated, report.unchanged) == (1, 0, 0)
    assert ledger(md, "luna") == [("2026-03-02", 1, 60, 1200, 3, 0)]
    with pytest.raises(InvalidInput) as caught, md.transaction() as session:
        save_sessions(
            session,
            md.program,
            [record, SessionRecord("nobody", record.started_at, 5, 1)],
            actor="demo",
        )
    assert caught.value.details == ["row 2, column handle: 'nobody' is not on the roster"]


def test_the_api_rows_are_checked_like_a_file(md: Matchdesk) -> None:
    add_creators(md, "luna")
    rows = [
        {
            "handle": "luna",
            "started_at": "2026-03-02T19:00:00Z",
            "duration_minutes": 60,
            "diamonds": 10,
        },
        {
            "handle": "luna",
            "started_at": "2026-03-02T21:00:00Z",
            "duration_minutes": 60,
            "diamons": 10,
        },
    ]
    with pytest.raises(InvalidInput) as caught, md.transaction() as session:
        import_rows(session, md.program, rows, actor="test")
    assert caught.value.details == [
        "row 2, column diamonds: a number is required",
        "row 2, column diamons: unknown column (did you mean diamonds?)",
    ]
    with md.transaction() as session:
        report = import_rows(session, md.program, rows[:1], actor="test", today=TODAY)
    assert (report.created, report.updated, report.unchanged) == (1, 0, 0)


def test_the_readme_sample_imports(md: Matchdesk) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("### The results file", 1)[1]
    sample = re.search(r"```csv\n(.*?)```", section, re.S)
    assert sample is not None
    add_creators(md, "luna.star", "zed_99")
    report = load(md, sample.group(1).encode())
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)


ROSTER = (
    "handle,timezone,languages,followers,revenue_30d,availability\n"
    "luna,UTC,en,10,500,Mon 19:00-23:00\n"
    "zed_99,UTC,en,10,500,Mon 19:00-23:00\n"
)


def test_the_command_line_imports_dry_runs_and_lists(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("init").code == 0
    (tmp_path / "roster.csv").write_text(ROSTER)
    assert run("creators", "import", "roster.csv").code == 0
    (tmp_path / "results.csv").write_bytes(GOOD)
    dry = run("results", "import", "results.csv", "--dry-run")
    assert (dry.code, dry.stdout.strip()) == (
        0,
        "Would import 2 sessions from results.csv: 2 new, 0 updated, 0 unchanged; "
        "0 linked to a match.",
    )
    done = run("results", "import", "results.csv")
    assert done.stdout.strip() == (
        "Imported 2 sessions from results.csv: 2 new, 0 updated, 0 unchanged; "
        "0 linked to a match; 0 matches completed."
    )
    listed = run("results", "list")
    assert listed.stdout.splitlines() == [
        "handle\tstarted_at\tday\tminutes\tdiamonds\tmatch\toutcome",
        "zed_99\t2026-03-02T19:30:00Z\t2026-03-02\t45\t800\t\t",
        "luna\t2026-03-02T19:00:00Z\t2026-03-02\t60\t1200\t\t",
    ]
    (tmp_path / "bad.csv").write_bytes(csv("luna,2026-03-02T19:00:00,60,5,,,,"))
    bad = run("results", "import", "bad.csv")
    assert (bad.code, bad.stdout) == (2, "")
    assert bad.stderr.splitlines() == [
        "Error: bad.csv: 1 problem found; nothing was imported",
        "  row 2, column started_at: '2026-03-02T19:00:00' has no UTC offset; add one or Z "
        "(e.g. 2026-03-02T19:00:00Z), a time alone is ambiguous",
    ]


def _xlsx(rows: list[list[object]]) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER.split(","), *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_file_imports_like_a_csv(md: Matchdesk) -> None:
    """SPEC section 4: CSV or XLSX. Numbers may be number cells (60.0 is 60); a date cell
    has no UTC offset and is refused like a time without one."""
    add_creators(md, "luna", "zed_99")
    good = _xlsx(
        [
            ["luna", "2026-03-02T19:00:00Z", 60.0, 1200, 340, 12, None, None],
            ["@Zed_99", "2026-03-02T20:30:00+01:00", 45, 800, None, None, None, None],
        ]
    )
    with md.transaction() as session:
        report = import_results(session, md.program, good, "week.xlsx", actor="test", today=TODAY)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert sessions(md) == [
        ("luna", "2026-03-02T19:00Z", 60, 1200, None, None),
        ("zed_99", "2026-03-02T19:30Z", 45, 800, None, None),
    ]
    bad = _xlsx(
        [
            ["luna", datetime(2026, 3, 3, 19, 0), 60, 5, None, None, None, None],
            ["luna", "2026-03-03T21:00:00Z", 60, 5.5, None, None, None, None],
        ]
    )
    with pytest.raises(InvalidInput) as caught, md.transaction() as session:
        import_results(session, md.program, bad, "week.xlsx", actor="test", today=TODAY)
    assert caught.value.details == [
        "row 2, column started_at: '2026-03-03T19:00:00' has no UTC offset; add one or Z "
        "(e.g. 2026-03-03T19:00:00Z), a time alone is ambiguous",
        "row 3, column diamonds: '5.5' is not a whole number",
    ]
    assert count(md, LiveSession) == 2

"""The command line: SPEC section 3's commands, output and exit codes (0 / 2 / 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from matchdesk.context import Matchdesk
from matchdesk.roster.service import load_records

GOOD = (
    "handle,timezone,languages,followers,revenue_30d,availability\n"
    "anna,Europe/Berlin,de,10k,30000,Mon 19:00-21:00\n"
    "bob,UTC,en,5,5,\n"
)


def test_init_import_export_round_trip(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("init").code == 0
    (tmp_path / "r.csv").write_text(GOOD)
    outcome = run("creators", "import", "r.csv")
    assert outcome.code == 0
    assert (
        outcome.stdout.strip() == "Imported 2 creators from r.csv: 2 new, 0 updated, 0 unchanged."
    )
    assert run("creators", "export", "out.xlsx").code == 0
    again = run("creators", "import", "out.xlsx")
    assert again.stdout.strip() == (
        "Imported 2 creators from out.xlsx: 0 new, 0 updated, 2 unchanged."
    )


def test_invalid_file_exits_2_with_every_problem_on_stderr(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.csv").write_text(GOOD.replace("10k", "-3").replace("bob,UTC", "bob,Nowhere"))
    outcome = run("creators", "import", "bad.csv")
    assert outcome.code == 2
    assert outcome.stdout == ""
    assert outcome.stderr.splitlines() == [
        "Error: bad.csv: 2 problems found; nothing was imported",
        "  row 2, column followers: '-3' is negative; it must be 0 or more",
        "  row 3, column timezone: unknown time zone 'Nowhere' "
        "(use an IANA name such as America/New_York)",
    ]


def test_dry_run_and_missing_file(run, tmp_path: Path, md: Matchdesk) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "r.csv").write_text(GOOD)
    outcome = run("creators", "import", "r.csv", "--dry-run")
    assert outcome.stdout.strip() == (
        "Would import 2 creators from r.csv: 2 new, 0 updated, 0 unchanged."
    )
    with md.transaction() as session:
        assert load_records(session) == {}
    missing = run("creators", "import", "nope.csv")
    assert (missing.code, missing.stderr.strip()) == (2, "Error: nope.csv: no such file")


def test_export_needs_a_known_extension(run) -> None:  # type: ignore[no-untyped-def]
    outcome = run("creators", "export", "roster.json")
    assert (outcome.code, outcome.stderr.strip()) == (
        2,
        "Error: roster.json: the file name must end in .csv or .xlsx",
    )


def test_demo_fills_only_an_empty_database(run) -> None:  # type: ignore[no-untyped-def]
    first = run("demo", "--creators", "60", "--seed", "5")
    assert first.code == 0
    assert first.stdout.startswith("Demo program: 60 creators (seed 5); tiers ")
    again = run("demo")
    assert (again.code, again.stderr.strip()) == (
        1,
        "Error: The database already has 60 creators; demo fills only an empty database.",
    )
    quiet = run("demo", "--if-empty")
    assert (quiet.code, quiet.stdout.strip()) == (
        0,
        "The database already has 60 creators; no demo added.",
    )


def test_invalid_program_file_exits_2_naming_the_key(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "matchdesk.toml").write_text('[matching]\nduration_minutes = "long"\n')
    outcome = run("init")
    assert outcome.code == 2
    assert outcome.stderr.splitlines() == [
        f"Error: {tmp_path / 'matchdesk.toml'} is invalid",
        f"  {tmp_path / 'matchdesk.toml'}: matching.duration_minutes: "
        "Input should be a valid integer, unable to parse string as an integer",
    ]


def test_the_installed_command_exits_2_on_usage_errors(tmp_path: Path) -> None:
    matchdesk = Path(sys.executable).parent / "matchdesk"
    env = {**os.environ, "MATCHDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    outcome = subprocess.run(
        [str(matchdesk), "rounds-nope"], capture_output=True, text=True, env=env, check=False
    )
    assert outcome.returncode == 2
    assert "No such command 'rounds-nope'" in outcome.stderr


def test_creators_link_prints_a_portal_url_on_the_last_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "r.csv").write_text(GOOD)
    assert run("creators", "import", "r.csv").code == 0
    outcome = run("creators", "link", "@Anna")
    assert outcome.code == 0
    lines = outcome.stdout.strip().splitlines()
    assert lines[0].startswith("Portal link for @anna, valid until ")
    assert lines[-1].startswith("http://127.0.0.1:8000/portal/")
    missing = run("creators", "link", "nobody")
    assert (missing.code, missing.stderr.strip()) == (2, "Error: No creator with handle @nobody.")

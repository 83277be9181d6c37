"""The program day of each imported session (SPEC section 4: the day, in the program's
zone, on which it starts) as PostgreSQL computes it in the staging table (a generated
column) and as Python does (SQLite, or a zone the server does not know): exact days
across local midnights and DST changes, a half-hour zone and a half-hour DST, both
backends."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.results import staging
from matchdesk.results.models import LiveSession
from tests.results.samples import add_creators, csv, ledger, load

# (zone, start in UTC, the program day it belongs to), checked by hand:
# Kolkata is UTC+5:30 all year; London GMT -> BST on 2026-03-29 01:00 UTC and back on
# 2026-10-25 01:00 UTC; Lord Howe +11 -> +10:30 on 2026-04-04 15:00 UTC, back to +11 on
# 2026-10-03 15:30 UTC.
DAYS = {
    "Asia/Kolkata": [
        ("2026-03-04T18:29:00Z", "2026-03-04"),  # 23:59 local
        ("2026-03-04T18:30:00Z", "2026-03-05"),  # 00:00 local
    ],
    "Europe/London": [
        ("2026-03-28T23:59:00Z", "2026-03-28"),  # 23:59 GMT
        ("2026-03-29T00:00:00Z", "2026-03-29"),  # 00:00 GMT, the day BST starts
        ("2026-03-29T22:59:00Z", "2026-03-29"),  # 23:59 BST
        ("2026-03-29T23:00:00Z", "2026-03-30"),  # 00:00 BST (23:00 in GMT)
        ("2026-10-24T22:59:00Z", "2026-10-24"),  # 23:59 BST
        ("2026-10-24T23:00:00Z", "2026-10-25"),  # 00:00 BST, the day GMT returns
        ("2026-10-25T23:59:00Z", "2026-10-25"),  # 23:59 GMT
        ("2026-10-26T00:00:00Z", "2026-10-26"),  # 00:00 GMT
    ],
    "Australia/Lord_Howe": [
        ("2026-04-04T12:59:00Z", "2026-04-04"),  # 23:59 at +11
        ("2026-04-04T13:00:00Z", "2026-04-05"),  # 00:00 at +11
        ("2026-04-05T13:29:00Z", "2026-04-05"),  # 23:59 at +10:30 (00:29 at +11)
        ("2026-04-05T13:30:00Z", "2026-04-06"),  # 00:00 at +10:30
        ("2026-10-03T13:29:00Z", "2026-10-03"),  # 23:59 at +10:30
        ("2026-10-03T13:30:00Z", "2026-10-04"),  # 00:00 at +10:30
    ],
}


def _program_in(database_url: str, tmp_path: Path, zone: str) -> Matchdesk:
    program = tmp_path / "program.toml"
    program.write_text(f'[program]\ntimezone = "{zone}"\n')
    return Matchdesk.build(Settings(database_url=database_url, program=program))


def _stored_days(md: Matchdesk) -> list[tuple[datetime, date]]:
    with md.transaction() as session:
        rows = session.execute(
            select(LiveSession.started_at, LiveSession.day).order_by(LiveSession.started_at)
        ).all()
    return [(staging.aware(started), day) for started, day in rows]


def _import_days(md: Matchdesk, zone: str) -> None:
    add_creators(md, "luna")
    rows = [f"luna,{start},30,{i + 1},,,," for i, (start, _) in enumerate(DAYS[zone])]
    report = load(md, csv(*rows))
    assert (report.created, report.updated, report.unchanged) == (len(rows), 0, 0)


@pytest.mark.parametrize("zone", sorted(DAYS))
def test_each_session_gets_its_program_day_across_midnight_and_dst(
    database_url: str, tmp_path: Path, zone: str
) -> None:
    md = _program_in(database_url, tmp_path, zone)
    try:
        _import_days(md, zone)
        assert [(started.isoformat(), day.isoformat()) for started, day in _stored_days(md)] == [
            (datetime.fromisoformat(start).isoformat(), day) for start, day in DAYS[zone]
        ]
        expected: dict[str, list[int]] = {}
        for i, (_, day) in enumerate(DAYS[zone]):
            expected.setdefault(day, []).append(i + 1)
        assert ledger(md, "luna") == [
            (day, len(diamonds), 30 * len(diamonds), sum(diamonds), 0, 0)
            for day, diamonds in sorted(expected.items())
        ]
    finally:
        md.close()


def test_python_gives_the_days_when_the_server_does_not_know_the_zone(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback (and SQLite's only) path: the same days from Python's zone database."""
    monkeypatch.setattr(staging, "_server_knows", lambda session, timezone: False)
    md = _program_in(database_url, tmp_path, "Australia/Lord_Howe")
    try:
        _import_days(md, "Australia/Lord_Howe")
        assert [day.isoformat() for _, day in _stored_days(md)] == [
            day for _, day in DAYS["Australia/Lord_Howe"]
        ]
    finally:
        md.close()


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Pacific/Chatham", "America/St_Johns"])
def test_stored_days_equal_pythons_for_starts_all_year(
    database_url: str, tmp_path: Path, zone: str
) -> None:
    """500 starts spread over 2026 (both DST changes of these zones included) and the
    minutes either side of each local midnight near them: the stored day of each is
    Python's `astimezone(zone).date()`."""
    tz = ZoneInfo(zone)
    picker = random.Random(7)
    starts = {
        datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=picker.randrange(365 * 24 * 60))
        for _ in range(400)
    }
    for month in range(1, 13):  # the minutes around the 1st's and the 8th's local midnights
        for day in (1, 8):
            midnight = datetime(2026, month, day, tzinfo=tz).astimezone(UTC)
            starts.update((midnight - timedelta(minutes=1), midnight))
    md = _program_in(database_url, tmp_path, zone)
    try:
        add_creators(md, "luna")
        rows = [f"luna,{s.isoformat()},5,1,,,," for s in sorted(starts)]
        assert load(md, csv(*rows)).created == len(starts)
        stored = _stored_days(md)
        assert [started for started, _ in stored] == sorted(starts)
        assert [day for _, day in stored] == [s.astimezone(tz).date() for s in sorted(starts)]
    finally:
        md.close()


def test_a_zone_the_server_does_not_know_leaves_the_transaction_usable(md: Matchdesk) -> None:
    """The check runs in a savepoint: an unknown zone is a False, not an aborted import."""
    with md.transaction() as session:
        known = staging._server_knows(session, "America/Los_Angeles")
        unknown = staging._server_knows(session, "Mars/Olympus")
        after = session.scalar(select(LiveSession.id).limit(1))
    postgresql = md.engine.dialect.name == "postgresql"
    assert (known, unknown, after) == (postgresql, False, None)

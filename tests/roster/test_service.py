"""The roster service on a real database (each test runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select, text

from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.models import Base
from matchdesk.program import parse_program
from matchdesk.roster.availability import Window
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.models import AvailabilityWindow, Creator, CreatorBlock, CreatorLanguage
from matchdesk.roster.service import (
    ImportReport,
    export_roster,
    import_roster,
    load_records,
    save_records,
)
from matchdesk.roster.tiers import ensure_tiers_current, tier_counts

HEADER = "handle,timezone,languages,followers,revenue_30d,availability,blocked"
ROSTER = (
    HEADER + "\n"
    "anna,Europe/Berlin,de;en,50000,250000,Mon 19:00-23:00,\n"
    "bob,America/New_York,en,1200,25000,Fri 22:00-02:00; Sat 20:00-22:00,anna\n"
    "carla,Asia/Kolkata,hi;en,300,10,,\n"
)


def do_import(md: Matchdesk, data: str | bytes, name: str = "r.csv", **kw: bool) -> ImportReport:
    raw = data.encode() if isinstance(data, str) else data
    with md.transaction() as session:
        return import_roster(session, md.program, raw, name, **kw)


def snapshot(md: Matchdesk) -> str:
    """Every row of every table, in a stable order: equal snapshots mean equal databases."""
    digest = hashlib.sha256()
    with md.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{rows!r}".encode())
    return digest.hexdigest()


def test_import_creates_creators_with_windows_languages_blocks_and_tiers(md: Matchdesk) -> None:
    report = do_import(md, ROSTER)
    assert report == ImportReport(created=3, updated=0, unchanged=0, dry_run=False)
    with md.transaction() as session:
        rows = session.execute(
            select(Creator.handle, Creator.tier, Creator.languages).order_by(Creator.handle)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("anna", "S", "de;en"),
            ("bob", "A", "en"),
            ("carla", "B", "hi;en"),
        ]
        assert session.scalar(select(text("count(*)")).select_from(AvailabilityWindow)) == 3
        languages = session.execute(
            select(Creator.handle, CreatorLanguage.language)
            .join(CreatorLanguage, CreatorLanguage.creator_id == Creator.id)
            .order_by(Creator.handle, CreatorLanguage.language)
        ).all()
        assert [tuple(r) for r in languages] == [
            ("anna", "de"),
            ("anna", "en"),
            ("bob", "en"),
            ("carla", "en"),
            ("carla", "hi"),
        ]
        assert session.scalar(select(text("count(*)")).select_from(CreatorBlock)) == 1
        records = load_records(session)
    assert records["bob"].availability == (Window(4, 22 * 60, 2 * 60), Window(5, 20 * 60, 22 * 60))
    assert records["bob"].blocked == ("anna",)
    assert records["carla"].availability == ()


def test_reimport_updates_changed_rows_only_and_bumps_their_version(md: Matchdesk) -> None:
    do_import(md, ROSTER)
    changed = ROSTER.replace("bob,America/New_York,en,1200,25000", "bob,America/Chicago,en,1200,5")
    changed += "dave,UTC,en,1,1,Sun 10:00-12:00,bob\n"
    assert do_import(md, changed) == ImportReport(1, 1, 2, dry_run=False)
    with md.transaction() as session:
        bob = session.execute(select(Creator).where(Creator.handle == "bob")).scalar_one()
        anna = session.execute(select(Creator).where(Creator.handle == "anna")).scalar_one()
        assert (bob.timezone, bob.tier, bob.version) == ("America/Chicago", "B", 2)
        assert anna.version == 1
        assert load_records(session)["dave"].blocked == ("bob",)


def test_block_list_is_replaced_by_the_file(md: Matchdesk) -> None:
    do_import(md, ROSTER)
    do_import(md, ROSTER.replace(",anna\n", ",carla\n"))
    with md.transaction() as session:
        assert load_records(session)["bob"].blocked == ("carla",)
        assert session.scalar(select(text("count(*)")).select_from(CreatorBlock)) == 1


def test_a_file_with_mistakes_changes_nothing_at_all(md: Matchdesk, database_url: str) -> None:
    do_import(md, ROSTER)
    sqlite_file = (
        Path(database_url.removeprefix("sqlite:///")) if "sqlite" in database_url else None
    )
    md.engine.dispose()
    before_bytes = sqlite_file.read_bytes() if sqlite_file else b""
    before = snapshot(md)
    bad = (
        HEADER + ",status,email\n"
        "anna,Europe/Berlin,de;en,50000,9,Mon 19:00-23:00,,,\n"  # a valid update...
        "zed,UTC,en,10,10,,,,\n"  # ...and a valid new creator, but then:
        "x,UTC,en,10,10,,,,\n"
        "two,Mars/Base,en,10,10,,,,\n"
        "three,UTC,xx,10,10,,,,\n"
        "four,UTC,en,-1,10,,,,\n"
        "five,UTC,en,10,lots,,,,\n"
        "six,UTC,en,10,10,Mon 19:00-25:00,,,\n"
        "seven,UTC,en,10,10,,seven,,\n"
        "eight,UTC,en,10,10,,nobody,,\n"
        "zed,UTC,en,10,10,,,,\n"
        "ten,UTC,en,10,10,,,asleep,\n"
    )
    with pytest.raises(InvalidInput) as caught:
        do_import(md, bad)
    assert caught.value.message == "r.csv: 10 problems found; nothing was imported"
    assert len(caught.value.details) == 10
    assert snapshot(md) == before
    md.engine.dispose()
    if sqlite_file:
        assert sqlite_file.read_bytes() == before_bytes


def test_dry_run_reports_and_writes_nothing(md: Matchdesk) -> None:
    do_import(md, ROSTER)
    before = snapshot(md)
    report = do_import(md, ROSTER + "erin,UTC,en,1,1,,\n", dry_run=True)
    assert report == ImportReport(1, 0, 3, dry_run=True)
    assert snapshot(md) == before


@pytest.mark.parametrize("name", ["roster.csv", "roster.xlsx"])
def test_importing_an_export_changes_nothing(md: Matchdesk, name: str) -> None:
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(300, seed=3))
    before = snapshot(md)
    with md.transaction() as session:
        exported = export_roster(session, name)
    assert do_import(md, exported, name) == ImportReport(0, 0, 300, dry_run=False)
    assert snapshot(md) == before


def test_export_writes_the_spec_format(md: Matchdesk) -> None:
    do_import(md, ROSTER)
    with md.transaction() as session:
        exported = export_roster(session, "roster.csv").decode()
    assert exported.splitlines() == [
        "handle,display_name,email,timezone,languages,region,category,followers,revenue_30d,"
        "availability,blocked,status,manager,checkin_hours",
        "anna,,,Europe/Berlin,de;en,,,50000,250000,Mon 19:00-23:00,,active,,",
        "bob,,,America/New_York,en,,,1200,25000,Fri 22:00-02:00; Sat 20:00-22:00,anna,active,,",
        "carla,,,Asia/Kolkata,hi;en,,,300,10,,,active,,",
    ]


def test_tiers_follow_a_changed_program(md: Matchdesk, tmp_path: Path) -> None:
    do_import(md, ROSTER)
    with md.transaction() as session:
        assert tier_counts(session) == {"S": 1, "A": 1, "B": 1}
        assert ensure_tiers_current(session, md.program) == 0
    program_file = tmp_path / "matchdesk.toml"
    program_file.write_text(
        '[[tiers]]\nname = "Gold"\nmin_revenue_30d = 20000\n'
        '[[tiers]]\nname = "Silver"\nmin_followers = 1000\n'
    )
    changed = Matchdesk.build(
        Settings(database_url=str(md.engine.url.render_as_string(False)), program=program_file)
    )
    try:
        with changed.transaction() as session:
            assert ensure_tiers_current(session, changed.program) == 3
            assert tier_counts(session) == {"Gold": 2, None: 1}
            assert ensure_tiers_current(session, changed.program) == 0
    finally:
        changed.close()
    assert parse_program(program_file.read_text()).tier_for(10, 1000) == "Silver"


def test_demo_roster_saves_and_every_record_round_trips(md: Matchdesk) -> None:
    records = generate_creators(500, seed=11)
    with md.transaction() as session:
        report = save_records(session, md.program, records)
        assert report == ImportReport(500, 0, 0, dry_run=False)
        stored = load_records(session)
    assert len(stored) == 500
    for record in records:
        assert stored[record.handle].availability == tuple(sorted(set(record.availability)))
        assert stored[record.handle].blocked == tuple(sorted(set(record.blocked)))
        assert stored[record.handle].languages == record.languages


def test_manager_and_checkin_hours_round_trip(md: Matchdesk) -> None:
    from matchdesk.accounts.service import create_operator

    with md.transaction() as session:
        create_operator(session, "mia@example.com", "a long password", "manager")
    text = (
        "handle,timezone,languages,followers,revenue_30d,availability,manager,checkin_hours\n"
        "anna,Europe/Berlin,de,1,1,,MIA@example.com,Tue 14:00-16:00; Mon 09:00-11:00\n"
        "bob,UTC,en,1,1,,,\n"
    )
    assert do_import(md, text.encode()) == ImportReport(2, 0, 0, dry_run=False)
    with md.transaction() as session:
        exported = export_roster(session, "roster.csv").decode().splitlines()
    assert exported[1].endswith(",active,mia@example.com,Mon 09:00-11:00; Tue 14:00-16:00")
    assert exported[2].endswith(",active,,")
    with md.transaction() as session:
        again = export_roster(session, "roster.csv")
    assert do_import(md, again) == ImportReport(0, 0, 2, dry_run=False)
    with pytest.raises(InvalidInput) as caught:
        do_import(md, text.replace("MIA@", "max@").encode())
    assert caught.value.details == [
        "row 2, column manager: 'max@example.com' is not an operator (add them first)"
    ]

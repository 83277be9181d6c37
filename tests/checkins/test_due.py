"""The due list (SPEC section 6): cadence per tier since the last held check-in."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from matchdesk.checkins.due import DueEntry, due_list, program_week
from matchdesk.checkins.models import Checkin
from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.roster.models import Creator
from tests.checkins.samples import MONDAY, add_creators, add_manager, operator_id


def _checkin(md: Matchdesk, handle: str, manager: str, starts: datetime, status: str) -> int:
    with md.transaction() as session:
        creator_id = session.scalar(select(Creator.id).where(Creator.handle == handle))
        checkin = Checkin(
            creator_id=creator_id,
            manager_id=operator_id(md, manager),
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            status=status,
            uid=f"test-{handle}-{starts:%s}",
        )
        session.add(checkin)
        session.flush()
        return checkin.id


def test_program_week_is_monday_to_monday_in_program_time() -> None:
    week = program_week("2026-03-02", "America/Los_Angeles")
    assert week.start == datetime(2026, 3, 2, 8, tzinfo=UTC)
    # The week of the US change to summer time (8 March) is 167 hours long.
    assert week.end == datetime(2026, 3, 9, 7, tzinfo=UTC)
    with pytest.raises(InvalidInput) as caught:
        program_week("2026-03-03", "America/Los_Angeles")
    assert caught.value.details == ["week: 2026-03-03 is a Tuesday; a week starts on a Monday"]


def test_due_overdue_booked_and_not_yet(md: Matchdesk) -> None:
    add_manager(md, "mia@example.com")
    # Tier A (revenue 30,000), every 4 weeks by default.
    add_creators(md, ["never", "held4", "held2", "booked", "paused"], manager="mia@example.com")
    add_creators(md, ["small"], revenue=100)  # tier B, no manager
    with md.transaction() as session:
        session.execute(
            Creator.__table__.update().where(Creator.handle == "paused").values(status="paused")
        )
    monday = datetime(2026, 3, 2, 18, tzinfo=UTC)
    _checkin(md, "held4", "mia@example.com", monday - timedelta(weeks=4, days=-2), "held")
    _checkin(md, "held2", "mia@example.com", monday - timedelta(weeks=2), "held")
    booked_id = _checkin(md, "booked", "mia@example.com", monday + timedelta(days=1), "booked")
    week = program_week(MONDAY, md.program.program.timezone)
    with md.transaction() as session:
        entries = due_list(session, md.program, week)
    assert entries == [
        DueEntry(
            entries[0].creator_id, "never", "", "A", "mia@example.com", date(2026, 1, 5), "overdue"
        ),
        DueEntry(entries[1].creator_id, "small", "", "B", "", date(2026, 1, 5), "overdue"),
        DueEntry(
            entries[2].creator_id,
            "held4",
            "",
            "A",
            "mia@example.com",
            date(2026, 3, 4),
            "due",
            monday - timedelta(weeks=4, days=-2),
        ),
        DueEntry(
            entries[3].creator_id,
            "booked",
            "",
            "A",
            "mia@example.com",
            date(2026, 1, 5),
            "booked",
            None,
            booked_id,
            monday + timedelta(days=1),
        ),
    ]
    with md.transaction() as session:
        mine = due_list(session, md.program, week, manager="MIA@example.com", state="overdue")
        nobody = due_list(session, md.program, week, manager="")
    assert [e.handle for e in mine] == ["never"]
    assert [e.handle for e in nobody] == ["small"]


def test_cadence_zero_means_no_checkins(md: Matchdesk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from matchdesk.program import parse_program

    md.program = parse_program('[[tiers]]\nname = "A"\ncheckin_every_weeks = 0\n')
    add_creators(md, ["anna"])
    with md.transaction() as session:
        assert due_list(session, md.program, program_week(MONDAY, "UTC")) == []


def test_cli_due_and_users_hours(run, md: Matchdesk) -> None:  # type: ignore[no-untyped-def]
    add_manager(md, "mia@example.com")
    add_creators(md, ["anna"], manager="mia@example.com")
    outcome = run("checkins", "due", "--week", MONDAY, "--json")
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout) == [
        {
            "creator": "anna",
            "manager": "mia@example.com",
            "tier": "A",
            "due_on": "2026-01-05",
            "state": "overdue",
            "checkin_id": None,
            "starts_at": None,
        }
    ]
    outcome = run(
        "users", "hours", "mia@example.com", "--timezone", "Asia/Kathmandu",
        "--hours", "Tue 10:00-12:00; Mon 09:00-17:00",
    )  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.strip() == (
        "Working hours of mia@example.com: Mon 09:00-17:00; Tue 10:00-12:00 (Asia/Kathmandu)."
    )
    bad = run("users", "hours", "mia@example.com", "--timezone", "Mars/Base", "--hours", "Mon 9")
    assert bad.code == 2
    assert bad.stderr.splitlines() == [
        "Error: the working hours of mia@example.com are not valid",
        "  timezone: unknown time zone 'Mars/Base' (use an IANA name such as America/New_York)",
        "  hours: 'Mon 9': expected one time range like 19:00-23:00 (separate windows with ';')",
    ]
    assert run("checkins", "due", "--week", "2026-03-03").code == 2


def test_the_demo_has_managers_with_hours_and_a_week_to_plan(
    run: Any, md: Matchdesk, hold_clock: Callable[[datetime], datetime]
) -> None:
    # The program's clock held (Wednesday 9 December 2026, 12:10 in Los Angeles): on the
    # real one the demo's creators joined on Sunday just before midnight in Los Angeles
    # and the due list was read on Monday just after it, when they were overdue.
    hold_clock(datetime(2026, 12, 9, 20, 10, tzinfo=UTC))
    outcome = run("demo", "--creators", "30", "--seed", "2", "--weeks", "0")
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.strip().splitlines()[-1] == (
        "Demo managers: Mia, Lars, Priya, 30 creators shared among them (Check-ins)."
    )
    due = json.loads(run("checkins", "due", "--json").stdout)
    with md.transaction() as session:
        active = session.scalars(
            select(Creator.handle).where(Creator.status == "active", Creator.tier.is_not(None))
        ).all()
    # Everyone joined today: due this week, none booked yet, each with a demo manager.
    assert sorted(d["creator"] for d in due) == sorted(active)
    assert {d["state"] for d in due} == {"due"}
    assert {d["manager"] for d in due} == {
        "mia.manager@example.com",
        "lars.manager@example.com",
        "priya.manager@example.com",
    }

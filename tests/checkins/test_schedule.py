"""Planning a week in the database: `schedule_week` and `matchdesk checkins schedule`."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from matchdesk.accounts.models import Operator
from matchdesk.checkins.due import program_week
from matchdesk.checkins.hours import slot_rules
from matchdesk.checkins.models import Checkin
from matchdesk.checkins.planner import MANAGER_FULL
from matchdesk.checkins.service import NO_HOURS, NO_MANAGER, list_checkins, schedule_week
from matchdesk.checkins.slots import NO_SHARED_HOUR, manager_day
from matchdesk.context import Matchdesk
from matchdesk.roster.availability import expand, parse_availability
from matchdesk.roster.models import Creator
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.service import save_records
from matchdesk.rounds.models import Match, Round
from tests.checkins.samples import JOINED, MONDAY, add_creators, add_manager

# Planned on the Friday before the week: the 24-hour notice leaves the whole week open.
NOW = datetime(2026, 2, 27, 12, tzinfo=UTC)


def test_a_small_week_with_reasons(md: Matchdesk) -> None:
    add_manager(md, "mia@example.com", "America/Los_Angeles", "Mon 10:00-11:00")
    add_manager(md, "nohours@example.com", "UTC", "")
    add_creators(md, ["anna", "bob", "cleo"], manager="mia@example.com")
    # Kathmandu's Mon 09:00-10:00 is Sun 19:15-20:15 in Los Angeles: never meets Mia's hours.
    add_creators(
        md, ["kat"], manager="mia@example.com", timezone="Asia/Kathmandu",
        checkin_hours="Mon 09:00-10:00",
    )  # fmt: skip
    add_creators(md, ["dan"], manager="nohours@example.com")
    add_creators(md, ["eve"])
    week = program_week(MONDAY, md.program.program.timezone)
    with md.transaction() as session:
        result = schedule_week(
            session, md.program, week, now=NOW, actor="test", settings=md.settings
        )
    # Mia's one hour (10:00-11:00, PST) holds one 30-minute check-in with its 10-minute
    # buffer on the 30-minute grid; 10:30 lies nearer the middle of the creators' 10-20.
    assert [(b.starts_at, b.ends_at) for b in result.booked] == [
        (datetime(2026, 3, 2, 18, 30, tzinfo=UTC), datetime(2026, 3, 2, 19, tzinfo=UTC))
    ]
    lucky = result.booked[0].handle
    assert lucky in ("anna", "bob", "cleo")
    assert result.unbooked == [
        ("eve", "", NO_MANAGER),
        *[(h, "mia@example.com", MANAGER_FULL) for h in ("anna", "bob", "cleo") if h != lucky],
        ("kat", "mia@example.com", NO_SHARED_HOUR),
        ("dan", "nohours@example.com", NO_HOURS),
    ]
    with md.transaction() as session:
        rows = list_checkins(session, week.start, week.end)
        again = schedule_week(
            session, md.program, week, now=NOW, actor="test", settings=md.settings
        )
    assert [(r.creator, r.manager, r.status) for r in rows] == [
        (lucky, "mia@example.com", "booked")
    ]
    assert again.booked == []  # anna is booked; the rest still cannot be


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def test_every_hard_rule_holds_on_every_booking_of_a_big_week(md: Matchdesk) -> None:
    """A property check over a planned week of 2,000 creators and 20 managers in zones
    around the world (half-hour and 45-minute offsets, Lord Howe's half-hour DST), with
    300 matches: every booking is in both people's hours, on the grid, after the notice,
    clear of the creator's matches and the manager's other check-ins by the buffer, and
    within the manager's daily cap."""
    rng = random.Random(11)
    zones = ["America/Los_Angeles", "Europe/Berlin", "Asia/Kathmandu", "America/St_Johns",
             "Australia/Lord_Howe", "Asia/Kolkata"]  # fmt: skip
    managers = [f"m{i}@example.com" for i in range(20)]
    weekdays = ("Mon", "Tue", "Wed", "Thu", "Fri")
    for i, email in enumerate(managers):
        hours = "; ".join(f"{d} 08:00-18:00" for d in weekdays)
        add_manager(md, email, zones[i % len(zones)], hours)
    records = []
    for i in range(2000):
        first = rng.choice([6, 8, 10, 12, 14, 18, 22])
        hours = "; ".join(f"{d} {first:02}:00-{(first + 8) % 24:02}:00" for d in weekdays)
        records.append(
            CreatorRecord(
                handle=f"c{i}", timezone=rng.choice(zones), languages=("en",), followers=1,
                revenue_30d=30_000, manager=managers[i % 20],
                checkin_hours=parse_availability(hours),
            )
        )  # fmt: skip
    week = program_week(MONDAY, md.program.program.timezone)
    with md.transaction() as session:
        save_records(session, md.program, records)
        session.execute(update(Creator).values(created_at=JOINED))
        ids = list(session.scalars(select(Creator.id).order_by(Creator.id)))
        round_ = Round(cadence="weekly", period_start=week.start, period_end=week.end)
        session.add(round_)
        session.flush()
        for _ in range(300):
            a, b = rng.sample(ids, 2)
            starts = week.start + timedelta(minutes=30 * rng.randrange(7 * 48))
            session.add(
                Match(
                    round_id=round_.id, creator_a_id=a, creator_b_id=b, starts_at=starts,
                    ends_at=starts + timedelta(hours=1), score=1.0, status="published",
                )
            )  # fmt: skip
    with md.transaction() as session:
        result = schedule_week(
            session, md.program, week, now=NOW, actor="test", settings=md.settings
        )
    assert len(result.booked) > 500
    assert len(result.booked) + len(result.unbooked) == 2000
    rules = slot_rules(md.program)
    not_before = NOW + timedelta(hours=md.program.checkins.min_notice_hours)
    with md.transaction() as session:
        creators = {c.id: c for c in session.scalars(select(Creator))}
        operators = {o.id: o for o in session.scalars(select(Operator))}
        checkins = list(session.scalars(select(Checkin)))
        match_starts: dict[int, list[datetime]] = {}
        for m in session.scalars(select(Match)):
            for creator_id in (m.creator_a_id, m.creator_b_id):
                match_starts.setdefault(creator_id, []).append(_aware(m.starts_at))
    assert len(checkins) == len(result.booked)
    per_day: Counter[tuple[int, object]] = Counter()
    by_manager: dict[int, list[datetime]] = {}
    around = (week.start - timedelta(days=1), week.end + timedelta(days=1))
    for c in checkins:
        start = _aware(c.starts_at)
        end = start + rules.duration
        creator, manager = creators[c.creator_id], operators[c.manager_id]
        for text, zone in (
            (manager.working_hours, manager.timezone),
            (creator.checkin_hours, creator.timezone),
        ):
            spans = expand(parse_availability(text), zone, *around)
            assert any(s <= start and end <= e for s, e in spans), (c.id, zone)
        assert week.start <= start < week.end
        assert start >= not_before
        assert int(start.timestamp()) % (rules.step_minutes * 60) == 0
        for m_start in match_starts.get(c.creator_id, ()):
            m_end = m_start + timedelta(hours=1)
            assert end + rules.buffer <= m_start or m_end + rules.buffer <= start
        per_day[(c.manager_id, manager_day(start, manager.timezone))] += 1
        by_manager.setdefault(c.manager_id, []).append(start)
    assert max(per_day.values()) <= rules.max_per_day
    for starts in by_manager.values():
        starts.sort()
        assert all(b - a >= rules.gap for a, b in itertools.pairwise(starts))


def test_cli_schedule_and_list(run, md: Matchdesk) -> None:  # type: ignore[no-untyped-def]
    add_manager(md, "mia@example.com", "America/Los_Angeles", "Tue 10:00-11:00")
    add_creators(md, ["anna"], manager="mia@example.com")
    add_creators(md, ["eve"])
    outcome = run("checkins", "schedule", "--week", "2099-03-02", "--json")
    assert outcome.code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert document["booked"] == [
        {
            "checkin_id": 1,
            "creator": "anna",
            "manager": "mia@example.com",
            "starts_at": "2099-03-03T18:30:00Z",
            "ends_at": "2099-03-03T19:00:00Z",
        }
    ]
    assert document["unbooked"] == [{"creator": "eve", "manager": None, "reason": NO_MANAGER}]
    listed = run("checkins", "list", "--from", "2099-03-03", "--to", "2099-03-03", "--json")
    assert json.loads(listed.stdout) == [
        {
            "checkin_id": 1,
            "creator": "anna",
            "manager": "mia@example.com",
            "starts_at": "2099-03-03T18:30:00Z",
            "ends_at": "2099-03-03T19:00:00Z",
            "status": "booked",
        }
    ]
    assert json.loads(run("checkins", "list", "--from", "2099-03-04", "--json").stdout) == []

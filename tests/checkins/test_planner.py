"""Planning a week: exact plans on hand-made cases (where first fit loses a booking, the
per-day cap, the spread over the week), and every hard rule checked on every booking of
a planned week of a few thousand creators, never fewer bookings than first fit."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from matchdesk.checkins.planner import (
    DAY_FULL,
    MANAGER_FULL,
    ManagerWeek,
    Request,
    first_fit,
    plan_week,
)
from matchdesk.checkins.slots import NO_SHARED_HOUR, Hours, Slot, SlotRules, find_slots, manager_day
from matchdesk.roster.availability import Window, expand

RULES = SlotRules(duration_minutes=30, buffer_minutes=10, step_minutes=30, max_per_day=8)


def at(text: str, preference: float = 1.0) -> Slot:
    start = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return Slot(start, start + timedelta(minutes=30), preference)


def booked(plan: object) -> dict[str, str]:
    return {c: s.start.strftime("%a %H:%M") for c, s in plan.booked.items()}  # type: ignore[attr-defined]


UTC_WEEK = {"m": ManagerWeek("UTC")}


def test_the_plan_books_both_where_first_fit_books_one() -> None:
    requests = [
        Request("c1", "m", (at("2026-06-01T10:00"), at("2026-06-01T11:00"))),
        Request("c2", "m", (at("2026-06-01T10:00"),)),
    ]
    assert booked(first_fit(requests, UTC_WEEK, RULES)) == {"c1": "Mon 10:00"}
    assert first_fit(requests, UTC_WEEK, RULES).unbooked == {"c2": MANAGER_FULL}
    plan = plan_week(requests, UTC_WEEK, RULES)
    assert booked(plan) == {"c1": "Mon 11:00", "c2": "Mon 10:00"}
    assert plan.unbooked == {}
    assert plan.solver == {"m": "milp"}


def test_slots_closer_than_duration_plus_buffer_conflict() -> None:
    # 10:00 and 10:30 are 30 minutes apart: less than 30 + 10, so only one is booked.
    requests = [
        Request("c1", "m", (at("2026-06-01T10:00"),)),
        Request("c2", "m", (at("2026-06-01T10:30"),)),
    ]
    plan = plan_week(requests, UTC_WEEK, RULES)
    assert len(plan.booked) == 1
    assert list(plan.unbooked.values()) == [MANAGER_FULL]


def test_the_per_day_cap_counts_check_ins_already_booked() -> None:
    rules = SlotRules(max_per_day=2)
    weeks = {"m": ManagerWeek("UTC", booked=(datetime(2026, 6, 1, 9, tzinfo=UTC),))}
    requests = [
        Request("c1", "m", (at("2026-06-01T10:00"),)),
        Request("c2", "m", (at("2026-06-01T11:00"),)),
        Request("c3", "m", (at("2026-06-01T12:00"), at("2026-06-02T12:00"))),
    ]
    plan = plan_week(requests, weeks, rules)
    assert Counter(s.start.date().isoformat() for s in plan.booked.values()) == {
        "2026-06-01": 1,
        "2026-06-02": 1,
    }
    assert booked(plan)["c3"] == "Tue 12:00"
    assert first_fit(requests, weeks, rules).unbooked == {"c2": DAY_FULL}


def test_the_load_is_spread_over_the_week() -> None:
    # Monday's slots are preferred (1.0 against 0.8), but two check-ins on one day cost
    # more than the preference gained: one goes to Tuesday.
    options = (at("2026-06-01T10:00"), at("2026-06-01T11:00"), at("2026-06-02T10:00", 0.8))
    requests = [Request("c1", "m", options), Request("c2", "m", options)]
    plan = plan_week(requests, UTC_WEEK, RULES)
    assert sorted(booked(plan).values()) == ["Mon 10:00", "Tue 10:00"]


def test_a_creator_without_slots_keeps_the_reason() -> None:
    plan = plan_week([Request("c1", "m", (), NO_SHARED_HOUR)], UTC_WEEK, RULES)
    assert (plan.booked, plan.unbooked) == ({}, {"c1": NO_SHARED_HOUR})


ZONES = [
    "Europe/London",
    "America/New_York",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Asia/Tokyo",
]


def random_week(
    seed: int, creators: int, managers: int
) -> tuple[list[Request], dict[str, ManagerWeek], dict[str, object]]:
    rng = random.Random(seed)
    start = datetime(2026, 3, 30, tzinfo=UTC)  # the week of the EU change and Lord Howe's
    end = start + timedelta(days=7)
    manager_hours = {}
    for m in range(managers):
        zone = rng.choice(ZONES)
        windows = tuple(Window(d, 9 * 60, 13 * 60) for d in range(5))
        manager_hours[f"m{m}"] = Hours(windows, zone)
    requests, facts = [], {}
    for c in range(creators):
        manager = f"m{rng.randrange(managers)}"
        zone = rng.choice(ZONES)
        day = rng.randrange(7)
        begin = rng.randrange(0, 20) * 60
        creator = Hours((Window(day, begin, begin + 240),), zone)
        match_start = start + timedelta(minutes=rng.randrange(0, 7 * 48) * 30)
        busy = [(match_start, match_start + timedelta(hours=1))]
        not_before = start + timedelta(hours=rng.choice([0, 24, 48]))
        search = find_slots(
            manager_hours[manager], creator, start, end, RULES, busy=busy, not_before=not_before
        )
        requests.append(Request(f"c{c}", manager, search.slots, search.reason))
        facts[f"c{c}"] = (creator, busy, not_before)
    weeks = {m: ManagerWeek(h.timezone) for m, h in manager_hours.items()}
    return requests, weeks, {"hours": manager_hours, "creators": facts, "period": (start, end)}


def inside(start: datetime, end: datetime, hours: Hours, period: tuple[datetime, datetime]) -> bool:
    return any(a <= start and end <= b for a, b in expand(hours.windows, hours.timezone, *period))


def test_every_hard_rule_holds_on_every_booking_of_a_planned_week() -> None:
    requests, weeks, facts = random_week(seed=7, creators=2500, managers=25)
    plan = plan_week(requests, weeks, RULES)
    baseline = first_fit(requests, weeks, RULES)
    assert len(plan.booked) >= len(baseline.booked)
    assert len(plan.booked) + len(plan.unbooked) == len(requests)
    manager_of = {r.creator: r.manager for r in requests}
    period = facts["period"]
    by_manager: dict[str, list[datetime]] = {}
    for creator, slot in plan.booked.items():
        manager = manager_of[creator]
        hours, busy, not_before = facts["creators"][creator]  # type: ignore[index]
        assert slot.end - slot.start == RULES.duration
        assert inside(slot.start, slot.end, facts["hours"][manager], period)  # type: ignore[index]
        assert inside(slot.start, slot.end, hours, period)
        assert slot.start >= not_before
        assert slot.start.minute % 30 == 0
        assert slot.start.second == 0
        for b_start, b_end in busy:
            assert slot.end + RULES.buffer <= b_start or b_end + RULES.buffer <= slot.start
        by_manager.setdefault(manager, []).append(slot.start)
    for manager, starts in by_manager.items():
        starts.sort()
        assert all(b - a >= RULES.gap for a, b in itertools.pairwise(starts))
        days = Counter(manager_day(s, weeks[manager].timezone) for s in starts)
        assert max(days.values()) <= RULES.max_per_day

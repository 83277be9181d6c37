"""Check-in slots in both people's zones: literal expected starts around daylight-saving
changes (US, EU, Lord Howe), odd offsets (Asia/Kathmandu against America/St_Johns),
windows that cross midnight, buffers around matches and the notice period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from matchdesk.checkins.slots import (
    ALL_BUSY,
    NO_SHARED_HOUR,
    Hours,
    SlotRules,
    find_slots,
    manager_day,
)
from matchdesk.roster.availability import parse_availability

RULES = SlotRules(duration_minutes=30, buffer_minutes=10, step_minutes=30, max_per_day=8)


def hours(text: str, zone: str) -> Hours:
    return Hours(parse_availability(text), zone)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def week(monday: str) -> tuple[datetime, datetime]:
    start = utc(f"{monday}T00:00")
    return start, start + timedelta(days=7)


def starts(manager: Hours, creator: Hours, monday: str, **kwargs: object) -> list[str]:
    search = find_slots(manager, creator, *week(monday), RULES, **kwargs)  # type: ignore[arg-type]
    return [s.start.strftime("%a %H:%M") for s in search.slots]


LONDON = hours("Mon 09:00-17:00", "Europe/London")
NEW_YORK = hours("Mon 10:00-12:00", "America/New_York")


def test_the_us_change_moves_the_shared_hours_before_the_uk_one() -> None:
    # 2 March: New York on EST (10:00 = 15:00 UTC), London on GMT.
    assert starts(LONDON, NEW_YORK, "2026-03-02") == [
        "Mon 15:00",
        "Mon 15:30",
        "Mon 16:00",
        "Mon 16:30",
    ]
    # 9 March: New York changed on the 8th (EDT: 10:00 = 14:00 UTC); London not until the 29th.
    assert starts(LONDON, NEW_YORK, "2026-03-09") == [
        "Mon 14:00",
        "Mon 14:30",
        "Mon 15:00",
        "Mon 15:30",
    ]
    # 30 March: both on summer time (London 09:00 = 08:00 UTC): back to a 4-slot overlap.
    assert starts(LONDON, NEW_YORK, "2026-03-30") == [
        "Mon 14:00",
        "Mon 14:30",
        "Mon 15:00",
        "Mon 15:30",
    ]


def test_kathmandu_against_st_johns_rounds_up_to_the_grid() -> None:
    manager = hours("Mon 18:00-22:00", "Asia/Kathmandu")  # +05:45: 12:15-16:15 UTC
    creator = hours("Mon 09:00-12:00", "America/St_Johns")  # NDT -02:30: 11:30-14:30 UTC
    assert starts(manager, creator, "2026-06-01") == [
        "Mon 12:30",
        "Mon 13:00",
        "Mon 13:30",
        "Mon 14:00",
    ]
    # In January St John's is on NST (-03:30): 12:30-15:30 UTC against 12:15-16:15.
    assert starts(manager, creator, "2026-01-05") == [
        "Mon 12:30",
        "Mon 13:00",
        "Mon 13:30",
        "Mon 14:00",
        "Mon 14:30",
        "Mon 15:00",
    ]


def test_lord_howe_fall_back_lengthens_the_window_by_half_an_hour() -> None:
    # Sunday 5 April 2026, 02:00 LHDT (+11) becomes 01:30 LHST (+10:30): the creator's
    # 01:00-03:00 is 14:00-16:30 UTC on Saturday, two and a half hours.
    creator = hours("Sun 01:00-03:00", "Australia/Lord_Howe")
    manager = hours("Sat 12:00-18:00", "UTC")
    assert starts(manager, creator, "2026-03-30") == [
        "Sat 14:00",
        "Sat 14:30",
        "Sat 15:00",
        "Sat 15:30",
        "Sat 16:00",
    ]
    # The week before, a plain two hours (14:00-16:00 UTC).
    assert starts(manager, creator, "2026-03-23") == [
        "Sat 14:00",
        "Sat 14:30",
        "Sat 15:00",
        "Sat 15:30",
    ]


def test_us_fall_back_covers_the_repeated_hour() -> None:
    # Sunday 1 November 2026 in Chicago: 01:00-02:00 happens twice; the window spans
    # 06:00 (CDT) to 08:00 UTC (CST).
    creator = hours("Sun 01:00-02:00", "America/Chicago")
    manager = hours("Sun 00:00-24:00", "UTC")
    assert starts(manager, creator, "2026-10-26") == [
        "Sun 06:00",
        "Sun 06:30",
        "Sun 07:00",
        "Sun 07:30",
    ]


def test_a_window_crossing_midnight() -> None:
    creator = hours("Fri 22:00-01:00", "Asia/Tokyo")  # 13:00-16:00 UTC on Friday
    manager = hours("Fri 14:00-20:00", "UTC")
    assert starts(manager, creator, "2026-06-01") == [
        "Fri 14:00",
        "Fri 14:30",
        "Fri 15:00",
        "Fri 15:30",
    ]


def test_the_buffer_around_a_match_and_the_notice() -> None:
    match = (utc("2026-03-09T15:00"), utc("2026-03-09T15:30"))
    # A slot must end 10 minutes before the match starts and start 10 after it ends.
    assert starts(LONDON, NEW_YORK, "2026-03-09", busy=[match]) == ["Mon 14:00"]
    assert starts(LONDON, NEW_YORK, "2026-03-09", not_before=utc("2026-03-09T14:40")) == [
        "Mon 15:00",
        "Mon 15:30",
    ]


def test_reasons_when_there_is_no_slot() -> None:
    evening = hours("Mon 20:00-22:00", "Europe/London")
    search = find_slots(evening, NEW_YORK, *week("2026-03-09"), RULES)
    assert (search.slots, search.reason) == ((), NO_SHARED_HOUR)
    busy = [(utc("2026-03-09T13:00"), utc("2026-03-09T17:00"))]
    search = find_slots(LONDON, NEW_YORK, *week("2026-03-09"), RULES, busy=busy)
    assert (search.slots, search.reason) == ((), ALL_BUSY)


def test_preference_is_highest_in_the_middle_of_both_windows() -> None:
    search = find_slots(
        hours("Mon 10:00-12:00", "UTC"), hours("Mon 10:00-12:00", "UTC"), *week("2026-06-01"), RULES
    )
    assert [(s.start.strftime("%H:%M"), s.preference) for s in search.slots] == [
        ("10:00", 0.25),
        ("10:30", 0.75),
        ("11:00", 0.75),
        ("11:30", 0.25),
    ]


def test_the_managers_day_is_on_their_own_clock() -> None:
    assert str(manager_day(utc("2026-06-01T23:30"), "Asia/Kathmandu")) == "2026-06-02"
    assert str(manager_day(utc("2026-06-01T23:30"), "America/St_Johns")) == "2026-06-01"


def test_rules_are_validated() -> None:
    with pytest.raises(ValueError, match="positive"):
        SlotRules(duration_minutes=0)

"""Availability windows: parsing, formatting and expansion to UTC intervals.

Every expected UTC interval below is written out by hand from the zone's published
rules (2026 transitions: America/New_York 03-08 and 11-01, Europe/Berlin 03-29 and
10-25, Australia/Sydney 04-05 and 10-04, Pacific/Auckland 04-05 and 09-27,
Australia/Lord_Howe 04-05 and 10-04), not computed by the code under test.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchdesk.roster.availability import (
    MAX_TEXT_LENGTH,
    MAX_WINDOWS,
    WEEKDAYS,
    AvailabilityError,
    Window,
    expand,
    format_availability,
    parse_availability,
    validate_timezone,
)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def span(
    start: tuple[int, int, int, int], end: tuple[int, int, int, int]
) -> tuple[datetime, datetime]:
    return utc(*start), utc(*end)


def expand_text(
    text: str, zone: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    return expand(parse_availability(text), zone, start, end)


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon 19:00-23:00; Thu 20:00-22:30", (Window(0, 1140, 1380), Window(3, 1200, 1350))),
        (" mon 19:00 - 23:00 ;THU 20:00-22:30 ; ", (Window(0, 1140, 1380), Window(3, 1200, 1350))),
        ("Fri 22:00-02:00", (Window(4, 1320, 120),)),
        ("Tue 18:00-24:00", (Window(1, 1080, 1440),)),
        ("Tue 18:00-00:00", (Window(1, 1080, 1440),)),
        ("Sun 00:00-24:00", (Window(6, 0, 1440),)),
        ("Sun 23:59-00:00", (Window(6, 1439, 1440),)),
        ("Sat 00:01-00:00", (Window(5, 1, 1440),)),
        ("Mon 9:00-17:00", (Window(0, 540, 1020),)),
        ("Mon 19:00\u201323:00", (Window(0, 1140, 1380),)),
        ("Mon\t19:00-23:00\u00a0", (Window(0, 1140, 1380),)),
        ("Mon19:00-23:00", (Window(0, 1140, 1380),)),
        ("Mon 19:00-23:00;", (Window(0, 1140, 1380),)),
        ("Mon 19:00-23:00;; Tue 01:00-02:00", (Window(0, 1140, 1380), Window(1, 60, 120))),
        (
            "Thu 20:00-22:30; Mon 19:00-23:00; MON 19:00-23:00",
            (Window(0, 1140, 1380), Window(3, 1200, 1350)),
        ),
        (
            "Mon 21:00-23:00; Mon 19:00-22:00",
            (Window(0, 1140, 1320), Window(0, 1260, 1380)),
        ),
        ("", ()),
        ("   ", ()),
        (";", ()),
    ],
)
def test_parse(text: str, expected: tuple[Window, ...]) -> None:
    assert parse_availability(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mon 25:00-26:00", "'Mon 25:00-26:00': hour 25 is not 00-23"),
        ("Mo 19:00-23:00", "'Mo 19:00-23:00': unknown day 'Mo' (use Mon..Sun)"),
        ("Monday 19:00-23:00", "'Monday 19:00-23:00': unknown day 'Monday' (use Mon..Sun)"),
        ("Mon 19:60-23:00", "'Mon 19:60-23:00': minute 60 is not 00-59"),
        ("Mon 19:00-23:99", "'Mon 19:00-23:99': minute 99 is not 00-59"),
        ("Mon 24:00-02:00", "'Mon 24:00-02:00': 24:00 can only end a window"),
        ("Mon 22:00-24:30", "'Mon 22:00-24:30': hour 24 is not 00-23"),
        ("Mon 19:00-19:00", "'Mon 19:00-19:00': start and end are the same (empty window)"),
        ("Mon 00:00-00:00", "'Mon 00:00-00:00': start and end are the same (empty window)"),
        ("Mon 7pm-9pm", "'Mon 7pm-9pm': time '7pm' is not HH:MM"),
        ("Mon 1900-2300", "'Mon 1900-2300': time '1900' is not HH:MM"),
        ("Mon 19:00-23:0", "'Mon 19:00-23:0': time '23:0' is not HH:MM"),
        ("Mon 19.00-23.00", "'Mon 19.00-23.00': time '19.00' is not HH:MM"),
        (
            "Mon \u0661\u0669:00-23:00",
            "'Mon \u0661\u0669:00-23:00': time '\u0661\u0669:00' is not HH:MM",
        ),
        ("Mon", "'Mon': expected a time range after the day, like 19:00-23:00"),
        (
            "Mon 19:00",
            "'Mon 19:00': expected one time range like 19:00-23:00 (separate windows with ';')",
        ),
        (
            "Mon 19:00-23:00, Thu 20:00-22:30",
            "'Mon 19:00-23:00, Thu 20:00-22:30': expected one time range like 19:00-23:00"
            " (separate windows with ';')",
        ),
        (
            "Mon 19:00-21:00-23:00",
            "'Mon 19:00-21:00-23:00': expected one time range like 19:00-23:00"
            " (separate windows with ';')",
        ),
        ("19:00-23:00", "'19:00-23:00': expected a day first, like Mon 19:00-23:00"),
        ("Mon 19:00-23:00; Tue", "'Tue': expected a time range after the day, like 19:00-23:00"),
        (
            "Mon 19:00-23:00 " + "x" * 50,
            "'Mon 19:00-23:00 " + "x" * 23 + "\u2026': expected one time range like"
            " 19:00-23:00 (separate windows with ';')",
        ),
        ("Mon 19:00-23:00; " * 118, "text is too long (2006 characters; at most 2000)"),
        ("; ".join(["Mon 19:00-20:00"] * 51), "too many windows (51; at most 50)"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(AvailabilityError) as caught:
        parse_availability(text)
    assert str(caught.value) == message


def test_parse_limits_are_inclusive() -> None:
    assert MAX_WINDOWS == 50
    assert MAX_TEXT_LENGTH == 2000
    assert parse_availability("; ".join(["Mon 19:00-20:00"] * 50)) == (Window(0, 1140, 1200),)
    text = "Mon 19:00-20:00;" + " " * (2000 - 16)
    assert len(text) == 2000
    assert parse_availability(text) == (Window(0, 1140, 1200),)


def test_availability_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown day"):
        parse_availability("Xyz 10:00-11:00")


@pytest.mark.parametrize(
    ("weekday", "start", "end"),
    [(7, 0, 60), (-1, 0, 60), (0, 1440, 60), (0, -1, 60), (0, 60, 0), (0, 60, 1441), (0, 60, 60)],
)
def test_window_refuses_invalid_fields(weekday: int, start: int, end: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any of several messages
        Window(weekday, start, end)


# --------------------------------------------------------------------------- formatting


def test_format() -> None:
    windows = (Window(4, 1320, 120), Window(0, 1140, 1380), Window(4, 1320, 120))
    assert format_availability(windows) == "Mon 19:00-23:00; Fri 22:00-02:00"
    assert format_availability([Window(1, 1080, 1440)]) == "Tue 18:00-24:00"
    assert format_availability([Window(6, 0, 1440)]) == "Sun 00:00-24:00"
    assert format_availability([Window(2, 5, 545)]) == "Wed 00:05-09:05"
    assert format_availability(()) == ""
    assert format_availability([]) == ""


# --------------------------------------------------------------------------- time zones


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("America/New_York", "America/New_York"),
        ("america/new_york", "America/New_York"),
        (" Asia/Kolkata ", "Asia/Kolkata"),
        ("Asia/Kathmandu", "Asia/Kathmandu"),
        ("UTC", "UTC"),
    ],
)
def test_validate_timezone(name: str, canonical: str) -> None:
    assert validate_timezone(name) == canonical


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("America/New_Yrok", "America/New_Yrok"),
        ("", ""),
        ("localtime", "localtime"),
        ("../etc/passwd", "../etc/passwd"),
        ("/usr/share/zoneinfo/UTC", "/usr/share/zoneinfo/UTC"),
        ("America", "America"),
        ("EST+5", "EST+5"),
    ],
)
def test_validate_timezone_errors(name: str, shown: str) -> None:
    with pytest.raises(AvailabilityError) as caught:
        validate_timezone(name)
    assert str(caught.value) == (
        f"unknown time zone '{shown}' (use an IANA name such as America/New_York)"
    )


# --------------------------------------------------------------------------- expansion


def test_expand_rejects_bad_periods_and_zones() -> None:
    windows = parse_availability("Mon 19:00-23:00")
    with pytest.raises(ValueError, match="timezone-aware"):
        expand(windows, "UTC", datetime(2026, 6, 1), utc(6, 8, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        expand(windows, "UTC", utc(6, 1, 0), datetime(2026, 6, 8))
    with pytest.raises(ValueError, match="not before"):
        expand(windows, "UTC", utc(6, 8, 0), utc(6, 8, 0))
    with pytest.raises(ValueError, match="not before"):
        expand(windows, "UTC", utc(6, 8, 0), utc(6, 1, 0))
    with pytest.raises(AvailabilityError) as caught:
        expand(windows, "Mars/Olympus_Mons", utc(6, 1, 0), utc(6, 8, 0))
    assert str(caught.value) == (
        "unknown time zone 'Mars/Olympus_Mons' (use an IANA name such as America/New_York)"
    )


def test_expand_no_windows() -> None:
    assert expand((), "America/New_York", utc(6, 1, 0), utc(6, 8, 0)) == []


def test_expand_returns_aware_utc_and_accepts_any_aware_bounds() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    result = expand_text(
        "Mon 19:00-23:00",
        "UTC",
        datetime(2026, 6, 1, 22, 0, tzinfo=berlin),  # 20:00 UTC
        datetime(2026, 6, 8, 23, 0, tzinfo=berlin),  # 21:00 UTC
    )
    assert result == [span((6, 1, 20, 0), (6, 1, 23, 0)), span((6, 8, 19, 0), (6, 8, 21, 0))]
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in result)


def test_window_cut_by_period_start_and_end() -> None:
    assert expand_text("Mon 19:00-23:00", "UTC", utc(6, 1, 20), utc(6, 8, 21)) == [
        span((6, 1, 20, 0), (6, 1, 23, 0)),
        span((6, 8, 19, 0), (6, 8, 21, 0)),
    ]
    assert expand_text("Mon 19:00-23:00", "UTC", utc(6, 1, 20), utc(6, 1, 21)) == [
        span((6, 1, 20, 0), (6, 1, 21, 0)),
    ]
    assert expand_text("Mon 19:00-23:00", "UTC", utc(6, 1, 23), utc(6, 8, 19)) == []


def test_sunday_window_crossing_into_next_week() -> None:
    assert expand_text("Sun 23:00-01:00", "UTC", utc(6, 1, 0), utc(6, 15, 0)) == [
        span((6, 1, 0, 0), (6, 1, 1, 0)),
        span((6, 7, 23, 0), (6, 8, 1, 0)),
        span((6, 14, 23, 0), (6, 15, 0, 0)),
    ]


def test_kolkata_half_hour_offset_and_week_edges() -> None:
    # Period = the local week Mon 2026-06-01 00:00 IST .. Mon 2026-06-08 00:00 IST.
    result = expand_text(
        "Mon 19:00-23:00; Sun 23:00-01:00", "Asia/Kolkata", utc(5, 31, 18, 30), utc(6, 7, 18, 30)
    )
    assert result == [
        span((5, 31, 18, 30), (5, 31, 19, 30)),  # last week's Sunday night, cut at the start
        span((6, 1, 13, 30), (6, 1, 17, 30)),
        span((6, 7, 17, 30), (6, 7, 18, 30)),  # this Sunday night, cut at the end
    ]


def test_kathmandu_45_minute_offset_and_midnight_crossing() -> None:
    result = expand_text(
        "Wed 09:15-10:00; Fri 22:00-02:00", "Asia/Kathmandu", utc(6, 1, 0), utc(6, 8, 0)
    )
    assert result == [
        span((6, 3, 3, 30), (6, 3, 4, 15)),
        span((6, 5, 16, 15), (6, 5, 20, 15)),
    ]


def test_window_crossing_midnight() -> None:
    assert expand_text("Fri 22:00-02:00", "Europe/Berlin", utc(6, 1, 0), utc(6, 8, 0)) == [
        span((6, 5, 20, 0), (6, 6, 0, 0)),
    ]


def test_window_ending_at_24_00_and_touching_windows_merge() -> None:
    assert expand_text("Tue 18:00-24:00", "Europe/Berlin", utc(6, 1, 0), utc(6, 8, 0)) == [
        span((6, 2, 16, 0), (6, 2, 22, 0)),
    ]
    assert expand_text(
        "Tue 18:00-24:00; Wed 00:00-01:00", "Europe/Berlin", utc(6, 1, 0), utc(6, 8, 0)
    ) == [span((6, 2, 16, 0), (6, 2, 23, 0))]


def test_overlapping_windows_merge() -> None:
    text = "Mon 19:00-22:00; Mon 21:00-23:00; Mon 23:00-23:30; Mon 20:00-20:30"
    assert expand_text(text, "America/New_York", utc(6, 1, 4), utc(6, 8, 4)) == [
        span((6, 1, 23, 0), (6, 2, 3, 30)),
    ]


def test_every_day_all_day_is_one_interval() -> None:
    text = "; ".join(f"{day} 00:00-24:00" for day in WEEKDAYS)
    assert expand_text(text, "Asia/Kathmandu", utc(6, 1, 0), utc(6, 8, 0)) == [
        span((6, 1, 0, 0), (6, 8, 0, 0)),
    ]


# New York: Mon 2026-03-02 00:00 EST .. Mon 2026-03-09 00:00 EDT; the clocks jump from
# 02:00 EST to 03:00 EDT on Sunday 03-08 at 07:00 UTC.
NY_SPRING = (utc(3, 2, 5), utc(3, 9, 4))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Sat 19:00-23:00; Sun 19:00-23:00",
            [span((3, 8, 0, 0), (3, 8, 4, 0)), span((3, 8, 23, 0), (3, 9, 3, 0))],
        ),
        # Crossing midnight on the DST night: 5 wall-clock hours, 4 real ones.
        ("Sat 23:00-04:00", [span((3, 8, 4, 0), (3, 8, 8, 0))]),
        # Start in the gap: from the jump.
        ("Sun 02:30-04:00", [span((3, 8, 7, 0), (3, 8, 8, 0))]),
        # End in the gap: until the jump.
        ("Sun 01:30-02:30", [span((3, 8, 6, 30), (3, 8, 7, 0))]),
        # Entirely inside the gap: nothing.
        ("Sun 02:00-02:59", []),
        ("Sun 01:00-03:00", [span((3, 8, 6, 0), (3, 8, 7, 0))]),
    ],
)
def test_new_york_spring_forward(text: str, expected: list[tuple[datetime, datetime]]) -> None:
    assert expand_text(text, "America/New_York", *NY_SPRING) == expected


# New York: Mon 2026-10-26 00:00 EDT .. Mon 2026-11-02 00:00 EST; on Sunday 11-01 the
# clocks go back from 02:00 EDT to 01:00 EST at 06:00 UTC, so 01:00-02:00 happens twice.
NY_FALL = (utc(10, 26, 4), utc(11, 2, 5))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Inside the repeated hour: first 01:00 (EDT) to second 01:30 (EST).
        ("Sun 01:00-01:30", [span((11, 1, 5, 0), (11, 1, 6, 30))]),
        ("Sun 01:30-02:30", [span((11, 1, 5, 30), (11, 1, 7, 30))]),
        ("Sun 00:30-01:00", [span((11, 1, 4, 30), (11, 1, 6, 0))]),
        ("Sun 00:00-03:00", [span((11, 1, 4, 0), (11, 1, 8, 0))]),
        # Crossing midnight on the DST night: 4 wall-clock hours, 5 real ones.
        ("Sat 22:00-02:00", [span((11, 1, 2, 0), (11, 1, 7, 0))]),
        ("Sun 19:00-23:00", [span((11, 2, 0, 0), (11, 2, 4, 0))]),
    ],
)
def test_new_york_fall_back(text: str, expected: list[tuple[datetime, datetime]]) -> None:
    assert expand_text(text, "America/New_York", *NY_FALL) == expected


# Berlin: Mon 2026-03-23 00:00 CET .. Mon 2026-03-30 00:00 CEST; Sunday 03-29 02:00 CET
# jumps to 03:00 CEST at 01:00 UTC.
BERLIN_SPRING = (utc(3, 22, 23), utc(3, 29, 22))
# Berlin: Mon 2026-10-19 00:00 CEST .. Mon 2026-10-26 00:00 CET; Sunday 10-25 03:00 CEST
# goes back to 02:00 CET at 01:00 UTC.
BERLIN_FALL = (utc(10, 18, 22), utc(10, 25, 23))


@pytest.mark.parametrize(
    ("text", "period", "expected"),
    [
        ("Sun 01:00-04:00", BERLIN_SPRING, [span((3, 29, 0, 0), (3, 29, 2, 0))]),
        (
            "Sat 20:00-22:00; Sun 20:00-22:00",
            BERLIN_SPRING,
            [span((3, 28, 19, 0), (3, 28, 21, 0)), span((3, 29, 18, 0), (3, 29, 20, 0))],
        ),
        ("Sun 02:30-03:30", BERLIN_SPRING, [span((3, 29, 1, 0), (3, 29, 1, 30))]),
        ("Sun 02:15-02:45", BERLIN_SPRING, []),
        ("Sun 02:00-03:00", BERLIN_FALL, [span((10, 25, 0, 0), (10, 25, 2, 0))]),
        ("Sun 02:30-02:45", BERLIN_FALL, [span((10, 25, 0, 30), (10, 25, 1, 45))]),
        ("Sat 23:00-04:00", BERLIN_FALL, [span((10, 24, 21, 0), (10, 25, 3, 0))]),
    ],
)
def test_berlin(
    text: str,
    period: tuple[datetime, datetime],
    expected: list[tuple[datetime, datetime]],
) -> None:
    assert expand_text(text, "Europe/Berlin", *period) == expected


# Sydney: DST ends Sunday 2026-04-05 03:00 AEDT -> 02:00 AEST (04-04 16:00 UTC) and
# starts Sunday 2026-10-04 02:00 AEST -> 03:00 AEDT (10-03 16:00 UTC).
SYDNEY_APRIL = (utc(3, 29, 13), utc(4, 5, 14))  # Mon 03-30 00:00 AEDT .. Mon 04-06 AEST
SYDNEY_OCTOBER = (utc(9, 27, 14), utc(10, 4, 13))  # Mon 09-28 00:00 AEST .. Mon 10-05 AEDT


@pytest.mark.parametrize(
    ("text", "period", "expected"),
    [
        # Crossing midnight on the night DST ends: 8 wall-clock hours, 9 real ones.
        ("Sat 22:00-06:00", SYDNEY_APRIL, [span((4, 4, 11, 0), (4, 4, 20, 0))]),
        ("Sun 19:00-21:00", SYDNEY_APRIL, [span((4, 5, 9, 0), (4, 5, 11, 0))]),
        ("Sun 02:30-02:45", SYDNEY_APRIL, [span((4, 4, 15, 30), (4, 4, 16, 45))]),
        ("Sun 01:00-04:00", SYDNEY_OCTOBER, [span((10, 3, 15, 0), (10, 3, 17, 0))]),
        ("Sun 02:30-03:30", SYDNEY_OCTOBER, [span((10, 3, 16, 0), (10, 3, 16, 30))]),
    ],
)
def test_sydney(
    text: str,
    period: tuple[datetime, datetime],
    expected: list[tuple[datetime, datetime]],
) -> None:
    assert expand_text(text, "Australia/Sydney", *period) == expected


# Auckland: DST ends Sunday 2026-04-05 03:00 NZDT -> 02:00 NZST (04-04 14:00 UTC) and
# starts Sunday 2026-09-27 02:00 NZST -> 03:00 NZDT (09-26 14:00 UTC).
AUCKLAND_APRIL = (utc(3, 29, 11), utc(4, 5, 12))  # Mon 03-30 00:00 NZDT .. Mon 04-06 NZST
AUCKLAND_SEPTEMBER = (utc(9, 20, 12), utc(9, 27, 11))  # Mon 09-21 NZST .. Mon 09-28 NZDT


@pytest.mark.parametrize(
    ("text", "period", "expected"),
    [
        ("Sun 02:30-03:30", AUCKLAND_APRIL, [span((4, 4, 13, 30), (4, 4, 15, 30))]),
        ("Sun 02:30-03:30", AUCKLAND_SEPTEMBER, [span((9, 26, 14, 0), (9, 26, 14, 30))]),
        # Crossing midnight on the night DST starts: 8 wall-clock hours, 7 real ones.
        ("Sat 22:00-06:00", AUCKLAND_SEPTEMBER, [span((9, 26, 10, 0), (9, 26, 17, 0))]),
    ],
)
def test_auckland(
    text: str,
    period: tuple[datetime, datetime],
    expected: list[tuple[datetime, datetime]],
) -> None:
    assert expand_text(text, "Pacific/Auckland", *period) == expected


# Lord Howe moves by 30 minutes: Sunday 2026-04-05 02:00 (+11) -> 01:30 (+10:30) at
# 04-04 15:00 UTC, and Sunday 2026-10-04 02:00 (+10:30) -> 02:30 (+11) at 10-03 15:30 UTC.
# Periods here are plain UTC weeks.
LORD_HOWE_APRIL = (utc(3, 30, 0), utc(4, 6, 0))
LORD_HOWE_OCTOBER = (utc(9, 28, 0), utc(10, 5, 0))


@pytest.mark.parametrize(
    ("text", "period", "expected"),
    [
        ("Sun 01:00-03:00", LORD_HOWE_APRIL, [span((4, 4, 14, 0), (4, 4, 16, 30))]),
        ("Sun 01:45-01:50", LORD_HOWE_APRIL, [span((4, 4, 14, 45), (4, 4, 15, 20))]),
        ("Sun 01:00-03:00", LORD_HOWE_OCTOBER, [span((10, 3, 14, 30), (10, 3, 16, 0))]),
        ("Sun 02:15-03:00", LORD_HOWE_OCTOBER, [span((10, 3, 15, 30), (10, 3, 16, 0))]),
        ("Sun 02:00-02:29", LORD_HOWE_OCTOBER, []),
    ],
)
def test_lord_howe(
    text: str,
    period: tuple[datetime, datetime],
    expected: list[tuple[datetime, datetime]],
) -> None:
    assert expand_text(text, "Australia/Lord_Howe", *period) == expected


# Beirut changes at midnight: Sunday 2026-03-29 00:00 EET jumps to 01:00 EEST (03-28
# 22:00 UTC), and Sunday 2026-10-25 00:00 EEST goes back to Saturday 23:00 EET (10-24
# 21:00 UTC), so Saturday 23:00-24:00 happens twice. Periods are plain UTC weeks.
BEIRUT_MARCH = (utc(3, 23, 0), utc(3, 30, 0))
BEIRUT_OCTOBER = (utc(10, 19, 0), utc(10, 26, 0))


@pytest.mark.parametrize(
    ("text", "period", "expected"),
    [
        ("Sun 00:00-02:00", BEIRUT_MARCH, [span((3, 28, 22, 0), (3, 28, 23, 0))]),
        ("Sat 22:00-24:00", BEIRUT_MARCH, [span((3, 28, 20, 0), (3, 28, 22, 0))]),
        ("Sat 23:00-01:00", BEIRUT_MARCH, [span((3, 28, 21, 0), (3, 28, 22, 0))]),
        ("Sat 23:00-24:00", BEIRUT_OCTOBER, [span((10, 24, 20, 0), (10, 24, 22, 0))]),
        ("Sat 22:00-23:30", BEIRUT_OCTOBER, [span((10, 24, 19, 0), (10, 24, 21, 30))]),
        ("Sat 23:30-00:30", BEIRUT_OCTOBER, [span((10, 24, 20, 30), (10, 24, 22, 30))]),
    ],
)
def test_beirut_transitions_at_midnight(
    text: str,
    period: tuple[datetime, datetime],
    expected: list[tuple[datetime, datetime]],
) -> None:
    assert expand_text(text, "Asia/Beirut", *period) == expected


# --------------------------------------------------------------------------- properties

valid_windows = (
    st.tuples(st.integers(0, 6), st.integers(0, 1439), st.integers(1, 1440))
    .filter(lambda t: t[1] != t[2])
    .map(lambda t: Window(*t))
)

window_lists = st.lists(valid_windows, max_size=MAX_WINDOWS)


@given(window_lists)
def test_format_parse_round_trip(windows: list[Window]) -> None:
    assert parse_availability(format_availability(windows)) == tuple(sorted(set(windows)))


@st.composite
def messy_text(draw: st.DrawFn) -> tuple[str, list[Window]]:
    """Availability text as a person might type it, with the windows it means."""
    windows = draw(window_lists)
    space = st.sampled_from(["", " ", "  ", "\t"])
    parts = []
    for w in windows:
        day = WEEKDAYS[w.weekday]
        day = draw(st.sampled_from([day, day.lower(), day.upper()]))
        start = (
            f"{w.start // 60}:{w.start % 60:02d}"
            if draw(st.booleans())
            else (f"{w.start // 60:02d}:{w.start % 60:02d}")
        )
        if w.end == 1440 and w.start == 0:
            end = "24:00"  # "00:00-00:00" is an empty window, not a whole day
        elif w.end == 1440:
            end = draw(st.sampled_from(["24:00", "00:00", "0:00"]))
        else:
            end = f"{w.end // 60:02d}:{w.end % 60:02d}"
        dash = draw(st.sampled_from(["-", "\u2013"]))
        parts.append(
            f"{draw(space)}{day} {draw(space)}{start}{draw(space)}{dash}"
            f"{draw(space)}{end}{draw(space)}"
        )
    text = ";".join(parts) + draw(st.sampled_from(["", ";", "; "]))
    return text, windows


@given(messy_text())
def test_parse_messy_text_and_format_is_idempotent(case: tuple[str, list[Window]]) -> None:
    text, windows = case
    parsed = parse_availability(text)
    assert parsed == tuple(sorted(set(windows)))
    canonical = format_availability(parsed)
    assert format_availability(parse_availability(canonical)) == canonical


ZONES = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Beirut",
    "America/Havana",
]
FIXED_OFFSET_ZONES = {
    "UTC": timedelta(0),
    "Asia/Kolkata": timedelta(hours=5, minutes=30),
    "Asia/Kathmandu": timedelta(hours=5, minutes=45),
}
# Starts near the 2026 transitions of the zones above, so DST weeks come up often.
TRICKY_STARTS = [
    utc(3, 2, 5),
    utc(3, 5, 0),
    utc(3, 26, 0),
    utc(3, 27, 12),
    utc(4, 1, 0),
    utc(4, 3, 9),
    utc(9, 22, 0),
    utc(9, 30, 17),
    utc(10, 22, 0),
    utc(10, 28, 6),
    utc(10, 30, 21),
    utc(11, 1, 5, 30),
]

period_starts = st.one_of(
    st.sampled_from(TRICKY_STARTS),
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    ),
)
period_lengths = st.one_of(
    st.integers(1, 14 * 24 * 60).map(lambda m: timedelta(minutes=m)),
    st.just(timedelta(days=7)),
)


@given(
    windows=window_lists,
    zone=st.sampled_from(ZONES),
    start=period_starts,
    length=period_lengths,
)
def test_expansion_is_sorted_disjoint_and_inside_the_period(
    windows: list[Window], zone: str, start: datetime, length: timedelta
) -> None:
    end = start + length
    intervals = expand(windows, zone, start, end)
    for a, b in intervals:
        assert a.tzinfo is UTC
        assert b.tzinfo is UTC
        assert start <= a < b <= end
    for (_, previous_end), (next_start, _) in itertools.pairwise(intervals):
        assert previous_end < next_start


@given(
    windows=window_lists,
    zone=st.sampled_from(ZONES),
    start=period_starts,
    first=period_lengths,
    second=period_lengths,
)
def test_expanding_two_halves_equals_expanding_the_whole(
    windows: list[Window], zone: str, start: datetime, first: timedelta, second: timedelta
) -> None:
    middle = start + first
    end = middle + second
    halves = expand(windows, zone, start, middle) + expand(windows, zone, middle, end)
    joined: list[tuple[datetime, datetime]] = []
    for a, b in halves:
        if joined and joined[-1][1] == a:
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    assert joined == expand(windows, zone, start, end)


def covered(windows: list[Window], wall: datetime) -> bool:
    minute_of_week = wall.weekday() * 1440 + wall.hour * 60 + wall.minute
    for w in windows:
        first = w.weekday * 1440 + w.start
        last = w.weekday * 1440 + (w.end if w.end > w.start else w.end + 1440)
        if first <= minute_of_week < last or first <= minute_of_week + 7 * 1440 < last:
            return True
    return False


@given(
    windows=window_lists,
    zone=st.sampled_from(sorted(FIXED_OFFSET_ZONES)),
    start=period_starts,
    length=period_lengths,
    probes=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=20),
)
def test_expansion_matches_minute_by_minute_oracle_without_dst(
    windows: list[Window], zone: str, start: datetime, length: timedelta, probes: list[float]
) -> None:
    start = start.replace(second=0, microsecond=0)
    end = start + length
    intervals = expand(windows, zone, start, end)
    for fraction in probes:
        instant = start + timedelta(minutes=int(length / timedelta(minutes=1) * fraction))
        wall = (instant + FIXED_OFFSET_ZONES[zone]).replace(tzinfo=None)
        inside = any(a <= instant < b for a, b in intervals)
        assert inside == covered(windows, wall), (instant, wall)


def wall_clock(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def reference_instant(local: datetime, zone: ZoneInfo, is_start: bool) -> datetime:
    """Brute force over every UTC minute near `local`, from the rules' plain definition.

    A window starts at the first instant whose wall clock reads `local` or later, and ends
    at the first instant from which the wall clock never again reads earlier than `local`.
    """
    naive_guess = local.replace(tzinfo=UTC)
    instants = [naive_guess + timedelta(minutes=m) for m in range(-15 * 60, 15 * 60 + 1)]
    walls = [wall_clock(u, zone) for u in instants]
    if is_start:
        return next(u for u, wall in zip(instants, walls, strict=True) if wall >= local)
    last_before = max(i for i, wall in enumerate(walls) if wall < local)
    return instants[last_before + 1]


def reference_expand(
    windows: list[Window], zone_name: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    zone = ZoneInfo(zone_name)
    day = start.astimezone(zone).date() - timedelta(days=2)
    pieces = []
    while day <= end.astimezone(zone).date() + timedelta(days=1):
        midnight = datetime(day.year, day.month, day.day)
        for w in windows:
            if w.weekday != day.weekday():
                continue
            end_minutes = w.end if w.end > w.start else w.end + 1440
            a = reference_instant(midnight + timedelta(minutes=w.start), zone, True)
            b = reference_instant(midnight + timedelta(minutes=end_minutes), zone, False)
            a, b = max(a, start), min(b, end)
            if a < b:
                pieces.append((a, b))
        day += timedelta(days=1)
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted(pieces):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


@settings(max_examples=40, deadline=None)
@given(
    windows=st.lists(valid_windows, min_size=1, max_size=3),
    zone=st.sampled_from(ZONES),
    start=st.sampled_from(TRICKY_STARTS),
    length=st.integers(60, 8 * 24 * 60).map(lambda m: timedelta(minutes=m)),
)
def test_expansion_matches_brute_force_reference_across_dst(
    windows: list[Window], zone: str, start: datetime, length: timedelta
) -> None:
    end = start + length
    assert expand(windows, zone, start, end) == reference_expand(windows, zone, start, end)

from datetime import UTC, date, datetime

import pytest

from matchdesk.errors import InvalidInput
from matchdesk.rounds.period import parse_start, round_period


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cadence", "start", "zone", "expected"),
    [
        # An ordinary week in Los Angeles (UTC-8): Monday 00:00 to Monday 00:00.
        (
            "weekly",
            date(2026, 11, 30),
            "America/Los_Angeles",
            (utc(2026, 11, 30, 8), utc(2026, 12, 7, 8)),
        ),
        # The week the US springs forward (8 March 2026): 167 hours.
        (
            "weekly",
            date(2026, 3, 2),
            "America/Los_Angeles",
            (utc(2026, 3, 2, 8), utc(2026, 3, 9, 7)),
        ),
        # The week Europe falls back (25 October 2026): 169 hours.
        (
            "weekly",
            date(2026, 10, 19),
            "Europe/Berlin",
            (utc(2026, 10, 18, 22), utc(2026, 10, 25, 23)),
        ),
        # Southern hemisphere: Sydney leaves DST on 5 April 2026.
        (
            "weekly",
            date(2026, 3, 30),
            "Australia/Sydney",
            (utc(2026, 3, 29, 13), utc(2026, 4, 5, 14)),
        ),
        # Half-hour zone.
        (
            "weekly",
            date(2026, 11, 30),
            "Asia/Kolkata",
            (utc(2026, 11, 29, 18, 30), utc(2026, 12, 6, 18, 30)),
        ),
        # Months, across a year end and a DST change.
        (
            "monthly",
            date(2026, 12, 1),
            "Europe/Berlin",
            (utc(2026, 11, 30, 23), utc(2026, 12, 31, 23)),
        ),
        (
            "monthly",
            date(2026, 3, 1),
            "America/Los_Angeles",
            (utc(2026, 3, 1, 8), utc(2026, 4, 1, 7)),
        ),
    ],
)
def test_periods_run_from_local_midnight_to_local_midnight(
    cadence: str, start: date, zone: str, expected: tuple[datetime, datetime]
) -> None:
    assert round_period(cadence, start, zone) == expected


@pytest.mark.parametrize(
    ("cadence", "start", "detail"),
    [
        (
            "weekly",
            date(2026, 12, 1),
            "start: 2026-12-01 is a Tuesday; a weekly round starts on a Monday",
        ),
        (
            "monthly",
            date(2026, 12, 7),
            "start: 2026-12-07 is not the 1st; a monthly round starts on the 1st",
        ),
        ("daily", date(2026, 12, 7), "cadence: 'daily' is not one of weekly, monthly"),
    ],
)
def test_a_wrong_start_or_cadence_is_refused_with_the_reason(
    cadence: str, start: date, detail: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        round_period(cadence, start, "UTC")
    assert refused.value.message == "the round cannot be built"
    assert refused.value.details == [detail]


def test_start_dates_are_parsed_strictly() -> None:
    assert parse_start(" 2026-11-30 ") == date(2026, 11, 30)
    with pytest.raises(InvalidInput) as refused:
        parse_start("30/11/2026")
    assert refused.value.details == ["start: '30/11/2026' is not a date (YYYY-MM-DD)"]

"""The program file's check-in keys (SPEC section 6)."""

import pytest

from matchdesk.errors import InvalidInput
from matchdesk.program import Program, parse_program


def test_defaults() -> None:
    rules = Program().checkins
    assert (rules.duration_minutes, rules.buffer_minutes) == (30, 10)
    assert (rules.min_notice_hours, rules.max_per_day) == (24, 8)
    assert rules.default_creator_hours.startswith("Mon 10:00-20:00; Tue 10:00-20:00")
    assert [t.checkin_every_weeks for t in Program().tiers] == [4, 4, 4]


def test_keys_read_from_the_file() -> None:
    program = parse_program(
        """
[checkins]
duration_minutes = 45
buffer_minutes = 15
min_notice_hours = 2
max_per_day = 3
default_creator_hours = "Sat 09:00-12:00"

[[tiers]]
name = "A"
checkin_every_weeks = 2

[[tiers]]
name = "B"
checkin_every_weeks = 0
"""
    )
    assert program.checkins.model_dump() == {
        "duration_minutes": 45,
        "buffer_minutes": 15,
        "min_notice_hours": 2,
        "max_per_day": 3,
        "default_creator_hours": "Sat 09:00-12:00",
    }
    assert [(t.name, t.checkin_every_weeks) for t in program.tiers] == [("A", 2), ("B", 0)]


def test_bad_hours_and_negative_cadence_are_refused_with_the_key() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_program(
            '[checkins]\ndefault_creator_hours = "Mon 25:00-26:00"\n'
            '[[tiers]]\nname = "A"\ncheckin_every_weeks = -1\n'
        )
    details = caught.value.details
    assert len(details) == 2
    assert details[0].startswith("program file: tiers[0].checkin_every_weeks: ")
    assert details[1].startswith("program file: checkins.default_creator_hours: ")

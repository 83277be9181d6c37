from pathlib import Path

import pytest

from matchdesk.errors import InvalidInput
from matchdesk.program import MatchingRules, Program, load_program, parse_program

SPEC_EXAMPLE = """
[program]
name = "LIVE Match Program"
timezone = "America/Los_Angeles"

[[tiers]]
name = "S"
min_revenue_30d = 200000
min_followers = 0
cadence = "monthly"

[[tiers]]
name = "A"
min_revenue_30d = 20000
cadence = "weekly"

[[tiers]]
name = "B"
min_revenue_30d = 0
cadence = "weekly"

[matching]
duration_minutes = 60
max_tier_distance = 0
require_shared_language = true
rematch_cooldown_rounds = 4
slot_step_minutes = 30
"""


def test_spec_example_equals_the_defaults() -> None:
    assert parse_program(SPEC_EXAMPLE) == Program()


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    program = load_program(tmp_path / "absent.toml")
    assert program == Program()
    assert program.matching == MatchingRules(
        duration_minutes=60,
        max_tier_distance=0,
        require_shared_language=True,
        rematch_cooldown_rounds=4,
        slot_step_minutes=30,
    )
    assert [(t.name, t.min_revenue_30d, t.cadence) for t in program.tiers] == [
        ("S", 200_000, "monthly"),
        ("A", 20_000, "weekly"),
        ("B", 0, "weekly"),
    ]


def test_partial_file_keeps_defaults_for_missing_keys() -> None:
    program = parse_program('[matching]\nduration_minutes = 45\n[program]\nname = "Agency"\n')
    assert program.matching.duration_minutes == 45
    assert program.matching.slot_step_minutes == 30
    assert program.program.name == "Agency"
    assert program.program.timezone == "America/Los_Angeles"
    assert [t.name for t in program.tiers] == ["S", "A", "B"]


@pytest.mark.parametrize(
    ("revenue", "followers", "tier"),
    [(200_000, 0, "S"), (199_999, 10**9, "A"), (20_000, 5, "A"), (19_999, 0, "B"), (0, 0, "B")],
)
def test_first_tier_whose_minimums_are_met_wins(revenue: int, followers: int, tier: str) -> None:
    assert Program().tier_for(revenue, followers) == tier


def test_both_minimums_must_be_met() -> None:
    program = parse_program(
        '[[tiers]]\nname="Star"\nmin_revenue_30d=100\nmin_followers=1000\n'
        '[[tiers]]\nname="Rising"\nmin_followers=10\n'
    )
    assert program.tier_for(100, 1000) == "Star"
    assert program.tier_for(100, 999) == "Rising"
    assert program.tier_for(5, 9) is None
    assert program.tier_index("Rising") == 1


def test_invalid_file_names_every_key_and_reason() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_program(
            '[program]\ntimezone = "Mars/Olympus"\n'
            '[[tiers]]\nname = "S"\ncadence = "daily"\nmin_revenue_30d = -1\n'
            '[[tiers]]\nnme = "A"\n'
            "[matching]\nslot_step_minutes = 7\nduration_minutes = 0\n",
            "matchdesk.toml",
        )
    assert caught.value.message == "matchdesk.toml is invalid"
    assert caught.value.details == [
        "matchdesk.toml: program.timezone: unknown time zone 'Mars/Olympus' (use an IANA name)",
        "matchdesk.toml: tiers[0].min_revenue_30d: Input should be greater than or equal to 0",
        "matchdesk.toml: tiers[0].cadence: Input should be 'weekly' or 'monthly'",
        "matchdesk.toml: tiers[1].name: Field required",
        "matchdesk.toml: tiers[1].nme: unknown key (check the spelling)",
        "matchdesk.toml: matching.duration_minutes: Input should be greater than 0",
    ]


def test_slot_step_must_divide_a_day() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_program("[matching]\nslot_step_minutes = 7\n")
    assert caught.value.details == [
        "program file: matching: slot_step_minutes must divide a day (1440 minutes) evenly"
    ]


def test_duplicate_tier_names_and_unknown_section_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_program('[[tiers]]\nname="A"\n[[tiers]]\nname="a"\n[matchng]\nx=1\n')
    assert caught.value.details == [
        "program file: tiers: tier names must be unique; repeated: A, a",
        "program file: matchng: unknown key (check the spelling)",
    ]


def test_not_toml_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_program("[program\nname=", "p.toml")
    assert caught.value.message.startswith("p.toml is not valid TOML: ")


def test_program_is_immutable() -> None:
    program = Program()
    with pytest.raises(Exception, match="frozen"):
        program.matching.duration_minutes = 5  # type: ignore[misc]

"""Validation of the input: bad values are refused, naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from matchdesk.matching import Creator, MatchProblem, Rules, Weights
from matchdesk.matching.problem import offsets_in_period

START = datetime(2026, 3, 9, tzinfo=UTC)
END = START + timedelta(days=7)


def make(cid: str = "a", **kwargs: object) -> Creator:
    values: dict[str, object] = {
        "id": cid,
        "tier": 0,
        "languages": ("en",),
        "followers": 1,
        "revenue_30d": 1,
        "availability": ((0, 60),),
    }
    values.update(kwargs)
    return Creator(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tier", -1),
        ("followers", -5),
        ("revenue_30d", -1),
        ("availability", ((60, 60),)),
        ("utc_offset_minutes", 1440),
        ("recent_byes", -1),
        ("id", ""),
    ],
)
def test_bad_creator_names_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        make(**{field: value})


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"slot_step_minutes": 7}, "slot_step_minutes"),
        ({"max_tier_distance": -1}, "max_tier_distance"),
        ({"rematch_cooldown_rounds": -1}, "rematch_cooldown_rounds"),
    ],
)
def test_bad_rules_name_the_field(rules: dict[str, int], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        Rules(**rules)  # type: ignore[arg-type]


def test_bad_weights_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"^revenue: "):
        Weights(revenue=-1.0)
    with pytest.raises(ValueError, match=r"^evening_start_minute: "):
        Weights(evening_start_minute=1300, evening_end_minute=1200)


def test_problem_refuses_inconsistent_input() -> None:
    creators = [make("a"), make("b")]
    with pytest.raises(ValueError, match=r"^id: duplicate id 'a'"):
        MatchProblem.from_creators(START, END, [make("a"), make("a")])
    with pytest.raises(ValueError, match=r"^availability: intervals must lie inside"):
        MatchProblem.from_creators(START, END, [make("a", availability=((0, 20000),))])
    with pytest.raises(ValueError, match=r"^blocks: unknown id"):
        MatchProblem.from_creators(START, END, creators, blocks=[("a", "zz")])
    with pytest.raises(ValueError, match=r"^recent_pairs: rounds_ago must be >= 1"):
        MatchProblem.from_creators(START, END, creators, recent_pairs=[("a", "b", 0)])
    with pytest.raises(ValueError, match=r"^excluded: unknown id 'q'"):
        MatchProblem.from_creators(START, END, creators, excluded=["q"])
    with pytest.raises(ValueError, match=r"^period_end: must be after period_start"):
        MatchProblem.from_creators(END, START, creators)
    with pytest.raises(ValueError, match=r"^locked_pairs: locked pair \(a, b\) is blocked"):
        MatchProblem.from_creators(
            START, END, creators, blocks=[("b", "a")], locked_pairs=[("a", "b")]
        )
    with pytest.raises(ValueError, match=r"^locked_pairs: a is excluded"):
        MatchProblem.from_creators(START, END, creators, excluded=["a"], locked_pairs=[("a", "b")])


def test_from_utc_reads_offsets_and_the_dst_switch() -> None:
    # Europe/Berlin switches from +60 to +120 at 01:00 UTC on Sunday 2026-03-29.
    start = datetime(2026, 3, 23, 7, tzinfo=UTC)
    end = start + timedelta(days=7)
    assert offsets_in_period("Europe/Berlin", start, end) == (60, ((6 * 1440 - 360, 120),))
    c = Creator.from_utc(
        id="x",
        tier=1,
        languages=["de"],
        followers=10,
        revenue_30d=5,
        availability=[(start + timedelta(hours=11), start + timedelta(hours=14))],
        timezone="Europe/Berlin",
        period_start=start,
        period_end=end,
    )
    assert c.availability == ((660, 840),)
    assert c.utc_offset_minutes == 60

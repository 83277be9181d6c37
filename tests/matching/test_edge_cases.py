"""Edge cases with exact expected results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from matchdesk.matching import (
    Bye,
    ByeReason,
    Creator,
    MatchProblem,
    SolverOptions,
    Status,
    Weights,
    explain,
    solve,
)

START = datetime(2026, 3, 9, tzinfo=UTC)  # Monday 00:00 UTC
END = START + timedelta(days=7)
EVENING = ((18 * 60, 19 * 60),)  # Monday 18:00-19:00 UTC: exactly one 60-minute slot


def creator(
    cid: str,
    revenue: int = 1000,
    *,
    avail: tuple[tuple[int, int], ...] = EVENING,
    tier: int = 2,
    languages: tuple[str, ...] = ("en",),
    byes: int = 0,
) -> Creator:
    return Creator(
        cid,
        tier,
        languages,
        followers=revenue,
        revenue_30d=revenue,
        availability=avail,
        recent_byes=byes,
    )


def problem(creators: list[Creator], **kwargs: object) -> MatchProblem:
    return MatchProblem.from_creators(START, END, creators, **kwargs)  # type: ignore[arg-type]


def test_empty_pool() -> None:
    result = solve(problem([]))
    assert result.status is Status.OPTIMAL
    assert result.matches == ()
    assert result.byes == ()
    assert result.statistics.upper_bound == 0.0


def test_one_creator() -> None:
    result = solve(problem([creator("solo")]))
    assert result.matches == ()
    assert result.byes == (Bye("solo", ByeReason.NO_FEASIBLE_PARTNER),)


def test_odd_pool_pairs_the_closest_and_leaves_the_odd_one_out() -> None:
    result = solve(problem([creator("a", 1000), creator("b", 1100), creator("c", 100_000)]))
    assert [(m.creator_a, m.creator_b) for m in result.matches] == [("a", "b")]
    match = result.matches[0]
    assert match.start == START + timedelta(hours=18)
    assert match.end == START + timedelta(hours=19)
    assert match.parts.slot == 1.0  # 18:00-19:00 is evening at UTC+0 for both
    assert match.parts.novelty == 1.0
    assert result.byes == (Bye("c", ByeReason.ODD_ONE_OUT),)
    assert result.status is Status.OPTIMAL


def test_everyone_blocked() -> None:
    people = [creator(x) for x in "abc"]
    blocks = [("a", "b"), ("c", "a"), ("b", "c")]
    result = solve(problem(people, blocks=blocks))
    assert result.matches == ()
    assert result.byes == tuple(Bye(x, ByeReason.NO_FEASIBLE_PARTNER) for x in "abc")


def test_nobody_available() -> None:
    result = solve(problem([creator(x, avail=()) for x in "abcd"]))
    assert result.matches == ()
    assert result.byes == tuple(Bye(x, ByeReason.NO_FEASIBLE_PARTNER) for x in "abcd")


def test_all_pairs_in_cooldown() -> None:
    recent = [("a", "b", 1), ("a", "c", 4), ("b", "c", 2)]
    result = solve(problem([creator(x) for x in "abc"], recent_pairs=recent))
    assert result.matches == ()
    assert [b.reason for b in result.byes] == [ByeReason.NO_FEASIBLE_PARTNER] * 3


def test_pair_met_after_the_cooldown_is_allowed_without_novelty() -> None:
    result = solve(problem([creator("a"), creator("b")], recent_pairs=[("b", "a", 5)]))
    assert [(m.creator_a, m.creator_b, m.parts.novelty) for m in result.matches] == [
        ("a", "b", 0.0)
    ]


def test_excluded_creator_gets_an_excluded_bye() -> None:
    result = solve(problem([creator("a"), creator("b"), creator("c")], excluded=["b"]))
    assert [(m.creator_a, m.creator_b) for m in result.matches] == [("a", "c")]
    assert result.byes == (Bye("b", ByeReason.EXCLUDED),)


def test_locked_pair_is_kept_even_when_another_pair_scores_higher() -> None:
    people = [creator("a", 1000), creator("b", 1000), creator("c", 90_000), creator("d", 90_000)]
    result = solve(problem(people, locked_pairs=[("a", "c")]))
    pairs = {(m.creator_a, m.creator_b, m.locked) for m in result.matches}
    assert pairs == {("a", "c", True), ("b", "d", False)}
    assert result.byes == ()


def test_locked_pair_without_a_shared_slot_is_refused() -> None:
    late = ((20 * 60, 21 * 60),)
    with pytest.raises(ValueError, match=r"locked_pairs: locked pair \(a, b\) has no shared slot"):
        problem([creator("a"), creator("b", avail=late)], locked_pairs=[("a", "b")])


def test_fairness_matches_the_creator_with_recent_byes_first() -> None:
    # Without fairness a and b (closest in strength) would pair; c's byes win it a match.
    people = [creator("a", 1000), creator("b", 1050), creator("c", 1300, byes=3)]
    result = solve(problem(people))
    assert [(m.creator_a, m.creator_b) for m in result.matches] == [("b", "c")]
    assert result.matches[0].parts.fairness == 0.5
    assert result.byes == (Bye("a", ByeReason.ODD_ONE_OUT),)


def test_explain_names_the_partner_and_the_odd_one_out() -> None:
    result = solve(problem([creator("a", 1000), creator("b", 1100), creator("c", 100_000)]))
    story = explain(result, "a")
    assert story.match is not None
    assert story.match.creator_b == "b"
    assert story.bye_reason is None
    assert [alt.partner for alt in story.alternatives] == ["c"]
    assert story.alternatives[0].partner_matched_with is None
    assert story.text.splitlines()[0].startswith("a is matched with b from Mon 18:00 to 19:00 UTC")
    odd = explain(result, "c")
    assert odd.bye_reason is ByeReason.ODD_ONE_OUT
    assert odd.text.splitlines()[0].startswith("c has a bye: c is the odd one out")
    with pytest.raises(KeyError):
        explain(result, "nobody")


@pytest.mark.parametrize("options", [None, SolverOptions(exhaustive_limit=0)])
def test_leaves_of_a_star_lost_to_better_pairs(options: SolverOptions | None) -> None:
    # x shares one language with each leaf; the leaves share none. One leaf gets x; the
    # other two are in an even group (4 creators) with two left over: lost, not odd.
    people = [
        creator("x", languages=("de", "en", "fr")),
        creator("l1", 1000, languages=("en",)),
        creator("l2", 1200, languages=("fr",)),
        creator("l3", 5000, languages=("de",)),
    ]
    result = solve(problem(people), options=options)
    assert [(m.creator_a, m.creator_b) for m in result.matches] == [("l1", "x")]
    assert result.byes == (
        Bye("l2", ByeReason.LOST_TO_BETTER_PAIRS),
        Bye("l3", ByeReason.LOST_TO_BETTER_PAIRS),
    )


@pytest.mark.parametrize("options", [None, SolverOptions(exhaustive_limit=0)])
def test_the_only_free_creator_of_an_odd_group_is_the_odd_one_out(
    options: SolverOptions | None,
) -> None:
    people = [
        creator("x", languages=("en", "fr")),
        creator("l1", 1000, languages=("en",)),
        creator("l2", 1200, languages=("fr",)),
        creator("p", languages=("pl",)),
        creator("q", languages=("pl",)),
    ]
    result = solve(problem(people), options=options)
    assert [(m.creator_a, m.creator_b) for m in result.matches] == [("l1", "x"), ("p", "q")]
    assert result.byes == (Bye("l2", ByeReason.ODD_ONE_OUT),)


def test_an_evening_may_run_past_midnight() -> None:
    # Monday 23:30 to Tuesday 01:30 UTC, creators at UTC+0; an evening of 20:00-01:00.
    late = ((23 * 60 + 30, 25 * 60 + 30),)
    people = [creator("a", avail=late), creator("b", avail=late)]
    plain = solve(problem(people))
    assert plain.matches[0].parts.slot == 0.0  # 18:00-23:00: no hour of it fits
    weights = Weights(evening_start_minute=20 * 60, evening_end_minute=25 * 60)
    match = solve(problem(people, weights=weights)).matches[0]
    assert match.parts.slot == 1.0
    assert match.start in (START + timedelta(minutes=23 * 60 + 30), START + timedelta(hours=24))
    with pytest.raises(ValueError, match=r"^evening_start_minute: "):
        Weights(evening_start_minute=20 * 60, evening_end_minute=45 * 60)

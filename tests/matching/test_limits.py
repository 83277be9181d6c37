"""Weights of any scale and time limits that hold (no test depends on the machine's speed:
the limit is 0 or the engine's clock is replaced)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from matching_checks import assert_valid

from matchdesk.matching import (
    ByeReason,
    SolverOptions,
    Status,
    Weights,
    clock,
    odd_duals,
    solve,
    solver,
)
from matchdesk.matching.synthetic import synthetic_problem

DEFAULT = Weights()
RELAXATION = SolverOptions(exhaustive_limit=0, exact_limit=3, relaxation_limit=10_000)


def scaled(factor: float) -> Weights:
    return Weights(
        revenue=DEFAULT.revenue * factor,
        audience=DEFAULT.audience * factor,
        slot=DEFAULT.slot * factor,
        novelty=DEFAULT.novelty * factor,
        fairness=DEFAULT.fairness * factor,
    )


@pytest.mark.parametrize("factor", [1e6, 1e-6, 3.0])
@pytest.mark.parametrize("options", [None, RELAXATION], ids=["default", "relaxation"])
def test_the_weights_scale_changes_no_pair(factor: float, options: SolverOptions | None) -> None:
    # Every phase solves on the weights divided by their sum, so scaling all weights by
    # one factor scales the scores and the bound and changes no pair or slot.
    plain = solve(synthetic_problem(900, 3, blocks=20, recent=20), options=options)
    problem = synthetic_problem(900, 3, blocks=20, recent=20, weights=scaled(factor))
    big = solve(problem, options=options)
    assert_valid(problem, big)
    assert big.status is plain.status is Status.FEASIBLE
    assert np.array_equal(big.pair_a, plain.pair_a)
    assert np.array_equal(big.pair_b, plain.pair_b)
    assert np.array_equal(big.start_minute, plain.start_minute)
    assert big.weight == pytest.approx(plain.weight * factor, rel=1e-9)
    assert big.statistics.upper_bound == pytest.approx(
        plain.statistics.upper_bound * factor, rel=1e-9
    )


def test_uneven_huge_weights_still_solve_exactly() -> None:
    # One weight at the top of what Weights allows, the others small: an exhaustive pool
    # is still solved to optimality with the same cardinality as the default weights.
    weights = Weights(revenue=1e6, audience=0.25, slot=0.2, novelty=0.1, fairness=0.1)
    problem = synthetic_problem(300, 4, weights=weights)
    result = solve(problem)
    assert_valid(problem, result)
    assert result.status is Status.OPTIMAL
    assert result.statistics.matched == solve(synthetic_problem(300, 4)).statistics.matched
    assert result.weight <= result.statistics.upper_bound


def test_a_time_limit_of_zero_cuts_everything_short_and_says_so() -> None:
    problem = synthetic_problem(900, 3, blocks=20)
    result = solve(problem, time_limit=0.0)
    assert_valid(problem, result)
    assert result.status is Status.TIME_LIMIT
    assert result.matches == ()
    assert not result.statistics.cardinality_proved
    reasons = {b.reason for b in result.byes}
    assert ByeReason.TIME_LIMIT in reasons
    assert ByeReason.LOST_TO_BETTER_PAIRS not in reasons


def test_a_limit_passing_after_the_candidates_stops_every_later_phase(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The engine's clock stands still except during the candidate search, which takes
    # "100 s": the matching then finds its time up (greedy instead of exact components)
    # and the cardinality search has no budget left.
    now = [0.0]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    search = solver.window_candidates

    def slow(*args: Any) -> Any:
        now[0] += 100.0
        return search(*args)

    monkeypatch.setattr(solver, "window_candidates", slow)
    listing = odd_duals.list_pairs  # the small shards' full listing, in their place

    def slow_listing(*args: Any) -> Any:
        now[0] += 100.0
        return listing(*args)

    monkeypatch.setattr(odd_duals, "list_pairs", slow_listing)
    problem = synthetic_problem(900, 3, blocks=20)
    result = solve(problem, time_limit=50.0)
    assert_valid(problem, result)
    assert result.status is Status.TIME_LIMIT
    assert result.statistics.exact_components < result.statistics.components
    assert result.statistics.matched > 0
    unlimited = solve(problem)
    assert unlimited.status is Status.FEASIBLE
    assert unlimited.statistics.cardinality_proved
    assert result.statistics.matched <= unlimited.statistics.matched


def test_a_limit_that_is_not_reached_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: 0.0)
    problem = synthetic_problem(900, 3, blocks=20)
    limited = solve(problem, time_limit=1.0)
    free = solve(problem)
    assert limited.status is free.status is Status.FEASIBLE
    assert np.array_equal(limited.pair_a, free.pair_a)
    assert np.array_equal(limited.pair_b, free.pair_b)


def test_a_bye_cut_short_by_the_time_limit_is_explained_as_such() -> None:
    from matchdesk.matching import explain

    problem = synthetic_problem(300, 5)
    result = solve(problem, time_limit=0.0)
    bye = next(b for b in result.byes if b.reason is ByeReason.TIME_LIMIT)
    story = explain(result, bye.creator)
    assert story.bye_reason is ByeReason.TIME_LIMIT
    assert "time limit cut the search short" in story.text


def test_an_unlimited_solve_proves_its_cardinality_and_prices_its_bound() -> None:
    for n in (300, 900):  # exhaustive (optimal) and window candidates
        result = solve(synthetic_problem(n, 3, blocks=20))
        assert result.status in (Status.OPTIMAL, Status.FEASIBLE)
        assert result.statistics.cardinality_proved
        assert result.statistics.bound_priced
        assert ByeReason.TIME_LIMIT not in {b.reason for b in result.byes}

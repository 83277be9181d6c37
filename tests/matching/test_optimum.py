"""The engine against rustworkx's exact matching on the full feasible graph."""

from __future__ import annotations

import numpy as np
import pytest
import rustworkx as rx
from matching_checks import full_graph_matching

from matchdesk.matching import SolverOptions, Status, solve
from matchdesk.matching.bounds import best_edge_bound
from matchdesk.matching.candidates import full_graph
from matchdesk.matching.prepare import prepare
from matchdesk.matching.synthetic import synthetic_problem


def oracle(problem_n: int, seed: int) -> tuple[int, float]:
    problem = synthetic_problem(problem_n, seed, blocks=20, recent=20)
    return full_graph_matching(problem, max_cardinality=True)


@pytest.mark.parametrize(("n", "seed"), [(40, 1), (80, 2), (150, 3), (250, 4)])
def test_small_pools_are_solved_exactly(n: int, seed: int) -> None:
    matched, weight = oracle(n, seed)
    result = solve(synthetic_problem(n, seed, blocks=20, recent=20))
    assert result.status is Status.OPTIMAL
    assert result.statistics.matched == matched
    assert result.weight == pytest.approx(weight, abs=1e-6)


@pytest.mark.parametrize(("n", "seed"), [(150, 3), (250, 4)])
def test_big_pool_path_keeps_the_cardinality_and_nearly_the_weight(n: int, seed: int) -> None:
    matched, weight = oracle(n, seed)
    options = SolverOptions(exhaustive_limit=0, exact_limit=3, relaxation_limit=10_000)
    result = solve(synthetic_problem(n, seed, blocks=20, recent=20), options=options)
    assert result.status is Status.FEASIBLE
    assert result.statistics.matched == matched
    assert weight * 0.98 <= result.weight <= weight + 1e-6


def test_an_exhaustive_pool_with_a_component_over_the_exact_limit_is_still_optimal() -> None:
    # 548 matchable creators (<= exhaustive_limit 600) whose biggest feasible component
    # is over exact_limit (300 here): the exhaustive path solves it exactly anyway.
    options = SolverOptions(exact_limit=300)
    problem = synthetic_problem(560, 2, blocks=20, recent=20)
    prep = prepare(problem)
    a, b, _ = full_graph(prep)
    graph = rx.PyGraph()
    graph.add_nodes_from(range(prep.n))
    graph.add_edges_from_no_data(list(zip(a.tolist(), b.tolist(), strict=True)))
    biggest = max(len(c) for c in rx.connected_components(graph))
    assert biggest > options.exact_limit
    matched, weight = oracle(560, 2)
    result = solve(problem, options=options)
    assert result.status is Status.OPTIMAL
    assert result.statistics.matched == matched
    assert result.weight == pytest.approx(weight, abs=1e-6)


@pytest.mark.parametrize(
    ("n", "seed", "exact_limit", "share"),
    [
        (900, 3, 5000, 0.99999),
        (1200, 4, 5000, 0.9998),
        (900, 3, 300, 0.9995),
        (1200, 4, 300, 0.9995),
    ],
)
def test_default_path_on_mid_pools_keeps_the_cardinality_and_nearly_the_weight(
    n: int, seed: int, exact_limit: int, share: float
) -> None:
    # Not exhaustive: strength-window candidates. By default each candidate component
    # is solved exactly (measured 100.000% and 99.987% of the full graph's optimum, the
    # rest lost to pruning); with exact_limit 300, components over 300 creators are
    # rounded from the relaxation with exactly re-solved regions (99.969%, 99.983%).
    matched, weight = oracle(n, seed)
    options = SolverOptions(exact_limit=exact_limit)
    result = solve(synthetic_problem(n, seed, blocks=20, recent=20), options=options)
    assert result.status is Status.FEASIBLE
    assert result.statistics.matched == matched
    assert weight * share <= result.weight <= weight + 1e-6


THIN = SolverOptions(exhaustive_limit=0, window=1, keep=1)
WIDE = SolverOptions(exhaustive_limit=0, window=6, keep=12)  # pruning still at 150


@pytest.mark.parametrize(("n", "seed"), [(150, 3), (250, 4), (400, 5)])
@pytest.mark.parametrize("options", [THIN, WIDE, None], ids=["thin", "wide", "default"])
def test_the_fitted_bound_lies_between_the_exact_optimum_and_the_simple_bound(
    n: int, seed: int, options: SolverOptions | None
) -> None:
    # The bound must hold for every matching of the full feasible graph, including the
    # pairs the search pruned (thin: one candidate per creator) or never checked.
    _, optimum = oracle(n, seed)
    result = solve(synthetic_problem(n, seed, blocks=20, recent=20), options=options)
    cands = result.candidates
    if options is not None:
        assert np.any(cands.pruned_bound > 0)  # the floors were needed
        assert np.any(np.isfinite(cands.unchecked_bound))
    simple = best_edge_bound(cands, 0.0)
    assert optimum <= result.statistics.upper_bound < simple
    assert result.weight <= optimum + 1e-6

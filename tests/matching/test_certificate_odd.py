"""The exact certificate of small shards (odd_duals.py): the blossom's odd-set duals of
the full feasible graph, against rustworkx's optimum; every feasible pair covered."""

from __future__ import annotations

import numpy as np
import pytest
import rustworkx as rx
from matching_checks import full_graph_matching

from matchdesk.matching import MatchProblem, SolverOptions, odd_duals, solve
from matchdesk.matching.blossom import blossom_duals
from matchdesk.matching.candidates import full_graph
from matchdesk.matching.exact import SCALE
from matchdesk.matching.odd_duals import (
    full_pairs,
    odd_set_duals,
    odd_set_value,
    uncovered_odd,
)
from matchdesk.matching.prepare import prepare
from matchdesk.matching.synthetic import synthetic_problem

NARROW = SolverOptions(exhaustive_limit=0, window=2, keep=3)
WIDE = SolverOptions(exhaustive_limit=0)


def heaviest(problem: MatchProblem) -> float:
    """The heaviest matching of the full feasible graph, of any cardinality (rustworkx)."""
    return full_graph_matching(problem, max_cardinality=False)[1]


def random_graph(seed: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 60))
    m = int(rng.integers(1, 4 * n))
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    keys = np.unique(np.minimum(a, b)[a != b] * n + np.maximum(a, b)[a != b])
    return n, keys // n, keys % n, rng.integers(1, 1000, keys.size)


@pytest.mark.parametrize("seed", range(40))
def test_the_blossom_duals_are_optimal_and_cover_every_edge(seed: int) -> None:
    n, a, b, w = random_graph(seed)
    duals = blossom_duals(n, a, b, w)
    graph: rx.PyGraph = rx.PyGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(list(zip(a.tolist(), b.tolist(), w.tolist(), strict=True)))
    optimum = sum(
        int(graph.get_edge_data(u, v)) for u, v in rx.max_weight_matching(graph, weight_fn=int)
    )
    mates = duals.mates
    matched = mates[a] == b
    assert int(w[matched].sum()) == optimum
    paired = np.flatnonzero(mates >= 0)
    assert np.array_equal(mates[mates[paired]], paired)
    assert int(matched.sum()) * 2 == paired.size  # every pair an edge
    # Strong duality: the dual value is the optimum, and no edge is left uncovered.
    assert odd_set_value(duals.y, duals.set_ptr, duals.z) == optimum
    assert np.all(np.diff(duals.set_ptr) % 2 == 1)
    bad = uncovered_odd(a, b, w.astype(float), duals.y, duals.set_ptr, duals.set_nodes, duals.z)
    assert bad[0].size == 0


def test_a_triangle_needs_its_odd_set() -> None:
    # Three pairs of weight 10: the LP gives 15 (half of each), any matching 10.
    a, b, w = np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([10, 10, 10])
    duals = blossom_duals(3, a, b, w)
    assert odd_set_value(duals.y, duals.set_ptr, duals.z) == 10
    assert duals.z.size == 1
    assert sorted(duals.set_nodes.tolist()) == [0, 1, 2]


@pytest.mark.parametrize(("n", "seed"), [(150, 3), (300, 4), (500, 5)])
def test_the_buckets_list_every_feasible_pair(n: int, seed: int) -> None:
    prep = prepare(synthetic_problem(n, seed, blocks=20, recent=20))
    a, b, w = full_graph(prep)
    listed = full_pairs(prep, 1 << 40)
    assert listed is not None
    order = np.argsort(a * prep.n + b)
    assert np.array_equal(listed[0], a[order])
    assert np.array_equal(listed[1], b[order])
    assert np.array_equal(listed[2], w[order])
    assert full_pairs(prep, 10) is None  # over the limit: not listed


@pytest.mark.parametrize(("n", "seed"), [(150, 3), (300, 4), (500, 5)])
def test_the_odd_set_duals_cover_every_feasible_pair(n: int, seed: int) -> None:
    prep = prepare(synthetic_problem(n, seed, blocks=20, recent=20))
    listed = full_pairs(prep, 1 << 40)
    assert listed is not None
    y, set_ptr, set_nodes, z = odd_set_duals(prep.n, *listed)
    a, b, w = full_graph(prep)
    assert uncovered_odd(a, b, w, y, set_ptr, set_nodes, z)[0].size == 0
    # Lowering a set's dual below its tightest inner pair is caught by the check.
    if z.size:
        inside = np.zeros(prep.n, dtype=np.bool_)
        inside[set_nodes[set_ptr[0] : set_ptr[1]]] = True
        both = inside[a] & inside[b]
        lowered = z.copy()
        lowered[0] = 0.0
        assert not both.any() or uncovered_odd(a, b, w, y, set_ptr, set_nodes, lowered)[0].size


@pytest.mark.parametrize(("n", "seed"), [(150, 3), (300, 4), (500, 5)])
@pytest.mark.parametrize("options", [NARROW, WIDE], ids=["narrow", "wide"])
def test_the_exact_certificate_is_the_optimum(n: int, seed: int, options: SolverOptions) -> None:
    # The bound is at least the heaviest matching of the full graph and above it only by
    # the rounding margin (0.25 / SCALE per creator): the priced LP bound was 0.17% to
    # 1.5% above it on these pools (test_certificate.py).
    problem = synthetic_problem(n, seed, blocks=20, recent=20)
    optimum = heaviest(problem)
    stats = solve(problem, options=options).statistics
    assert stats.bound_priced
    assert optimum <= stats.upper_bound + 1e-9
    assert stats.upper_bound <= optimum + n / SCALE


def test_the_exhaustive_path_reports_the_optimum() -> None:
    problem = synthetic_problem(300, 4, blocks=20, recent=20)
    stats = solve(problem).statistics  # 300 creators: every pair a candidate
    optimum = heaviest(problem)
    assert optimum <= stats.upper_bound + 1e-9
    assert stats.upper_bound <= optimum + 300 / SCALE


def test_a_shard_over_the_limit_gets_the_priced_lp_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = synthetic_problem(300, 4, blocks=20, recent=20)
    exact = solve(problem, options=NARROW).statistics.upper_bound
    monkeypatch.setattr(odd_duals, "EXACT_VISITS", 0)
    priced = solve(problem, options=NARROW).statistics
    assert priced.bound_priced
    assert priced.upper_bound > exact + 1e-6
    assert heaviest(problem) <= exact + 1e-9

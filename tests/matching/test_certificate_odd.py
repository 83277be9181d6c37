"""The exact certificate of small shards (odd_duals.py): the blossom's odd-set duals of
the full feasible graph, against rustworkx's optimum; every feasible pair covered. Small
shards take their matching and their bound from one maximum-cardinality run
(odd_duals.exact_solve): that bound holds for every maximum-cardinality matching."""

from __future__ import annotations

import numpy as np
import pytest
import rustworkx as rx
from matching_checks import full_graph_matching

from matchdesk.matching import MatchProblem, SolverOptions, Status, odd_duals, solve
from matchdesk.matching.blossom import blossom_duals, blossom_mates, cardinality_proved
from matchdesk.matching.candidates import full_graph
from matchdesk.matching.exact import SCALE
from matchdesk.matching.odd_duals import (
    exact_solve,
    full_pairs,
    list_pairs,
    odd_set_duals,
    odd_set_value,
    uncovered_odd,
)
from matchdesk.matching.prepare import prepare
from matchdesk.matching.shards import split_pool
from matchdesk.matching.synthetic import synthetic_problem

NARROW = SolverOptions(exhaustive_limit=0, window=2, keep=3)
WIDE = SolverOptions(exhaustive_limit=0)


def heaviest(problem: MatchProblem) -> float:
    """The heaviest matching of the full feasible graph, of any cardinality (rustworkx)."""
    return float(full_graph_matching(problem, max_cardinality=False)[1])


def best_largest(problem: MatchProblem) -> tuple[int, float]:
    """The heaviest maximum-cardinality matching of the full feasible graph (rustworkx):
    creators matched and weight."""
    matched, weight = full_graph_matching(problem, max_cardinality=True)
    return int(matched), float(weight)


def rustworkx_optimum(
    n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray, max_cardinality: bool
) -> tuple[int, int]:
    graph: rx.PyGraph = rx.PyGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(list(zip(a.tolist(), b.tolist(), w.tolist(), strict=True)))
    pairs = rx.max_weight_matching(graph, max_cardinality=max_cardinality, weight_fn=int)
    return len(pairs), sum(int(graph.get_edge_data(u, v)) for u, v in pairs)


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


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
@pytest.mark.parametrize("seed", range(40))
def test_the_cardinality_run_bounds_every_largest_matching(seed: int, warm: bool) -> None:
    # With the cardinality shift: the mates are blossom_mates' (started the same way),
    # of rustworkx's maximum cardinality and weight; the duals cover w + shift on every
    # edge; the bound is that optimum exactly and the duals prove the cardinality.
    n, a, b, w = random_graph(seed)
    duals = blossom_duals(n, a, b, w, max_cardinality=True, warm=warm)
    assert np.array_equal(duals.mates, blossom_mates(n, a, b, w, warm=warm))
    pairs, optimum = rustworkx_optimum(n, a, b, w, max_cardinality=True)
    matched = duals.mates[a] == b
    assert int(matched.sum()) == pairs
    assert int(w[matched].sum()) == optimum
    assert duals.shift > 0
    assert duals.bound == optimum
    assert cardinality_proved(duals)
    raised = (w + duals.shift).astype(float)
    bad = uncovered_odd(a, b, raised, duals.y, duals.set_ptr, duals.set_nodes, duals.z)
    assert bad[0].size == 0
    value = odd_set_value(duals.y, duals.set_ptr, duals.z)
    assert value == pytest.approx(optimum + duals.shift * pairs, rel=1e-15)


def test_the_cardinality_bound_does_not_cover_heavier_smaller_matchings() -> None:
    # A path 0-1-2-3 with weights 1, 10, 1: the largest matching (two pairs) weighs 2,
    # the heaviest (the middle pair alone) 10. Each run bounds its own kind.
    a, b, w = np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([1, 10, 1])
    largest = blossom_duals(4, a, b, w, max_cardinality=True)
    assert largest.bound == 2
    assert cardinality_proved(largest)
    assert sorted(largest.mates.tolist()) == [0, 1, 2, 3]
    heaviest_run = blossom_duals(4, a, b, w)
    assert heaviest_run.bound == 10
    assert heaviest_run.shift == 0
    assert not cardinality_proved(heaviest_run)


def test_a_bound_at_the_shift_proves_nothing() -> None:
    duals = blossom_duals(4, np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([1, 10, 1]))
    assert not cardinality_proved(duals._replace(shift=10))  # bound 10 is not < 10
    assert cardinality_proved(duals._replace(shift=11))


@pytest.mark.parametrize(("n", "seed"), [(20, 1), (40, 2), (150, 3), (300, 4), (500, 5)])
def test_one_exact_solve_gives_the_largest_optimum_and_its_bound(n: int, seed: int) -> None:
    problem = synthetic_problem(n, seed, blocks=20, recent=20)
    prep = prepare(problem)
    listed = list_pairs(prep, 1 << 40)
    assert listed is not None
    # 20 and 40 creators: under COLD_BELOW pairs (the blossom started cold); the others
    # above.
    assert (listed.a.size < odd_duals.COLD_BELOW) == (n <= 40)
    solved = exact_solve(listed)
    matched, optimum = best_largest(problem)
    mate = solved.mate
    paired = np.flatnonzero(mate >= 0)
    assert np.array_equal(mate[mate[paired]], paired)
    assert paired.size == matched
    a, b, w = full_graph(prep)
    score = dict(zip((a * prep.n + b).tolist(), w.tolist(), strict=True))
    first = paired[mate[paired] > paired]
    weight = sum(score[int(i) * prep.n + int(mate[i])] for i in first)
    assert weight == pytest.approx(optimum, abs=n / SCALE)
    assert solved.proved
    assert optimum <= solved.bound + 1e-9
    assert solved.bound <= optimum + n / SCALE
    # The components of the full graph (with a pair), every one solved.
    graph: rx.PyGraph = rx.PyGraph()
    graph.add_nodes_from(range(prep.n))
    graph.add_edges_from_no_data(list(zip(a.tolist(), b.tolist(), strict=True)))
    assert solved.components == sum(len(c) > 1 for c in rx.connected_components(graph))


def test_a_graph_with_no_pair_is_solved_empty() -> None:
    prep = prepare(synthetic_problem(2, 0))
    listed = list_pairs(prep, 1 << 40)
    assert listed is not None
    solved = exact_solve(listed)
    if listed.a.size == 0:
        assert solved.bound == 0.0
        assert solved.proved
        assert solved.components == 0
        assert np.all(solved.mate == -1)


@pytest.mark.parametrize(("n", "seed"), [(700, 1), (900, 3)])
def test_small_shards_of_a_big_pool_are_solved_exactly(n: int, seed: int) -> None:
    # Above exhaustive_limit (600) the pool takes the candidate path, but its shards of
    # at most 600 creators are listed and solved exactly: the result keeps rustworkx's
    # maximum cardinality, is at least as heavy as with every shard on candidates, and
    # its bound holds for every maximum-cardinality matching.
    problem = synthetic_problem(n, seed, blocks=20, recent=20)
    result = solve(problem)
    stats = result.statistics
    matched, optimum = best_largest(problem)
    assert stats.matched == matched
    assert stats.cardinality_proved
    assert stats.bound_priced
    assert result.weight <= optimum + 1e-6
    assert optimum <= stats.upper_bound + 1e-9
    # The shards of at most 600 creators were listed: every feasible pair of theirs is a
    # candidate.
    prep = prepare(problem)
    a, b, _ = full_graph(prep)
    kept = set((result.candidates.a * prep.n + result.candidates.b).tolist())
    small = np.zeros(prep.n, dtype=np.bool_)
    for rows, shard in split_pool(prep):
        if int(np.count_nonzero(shard.active & shard.has_start)) <= 600:
            small[rows] = True
    inside = small[a] & small[b]
    assert inside.any()
    assert set((a[inside] * prep.n + b[inside]).tolist()) <= kept


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


@pytest.mark.parametrize(("n", "seed"), [(150, 3), (300, 4), (500, 5)])
def test_the_exhaustive_path_reports_the_optimum(n: int, seed: int) -> None:
    # Every shard listed and solved once: the bound is the best maximum-cardinality
    # matching's weight up to the rounding margin (0.5 / SCALE per pair), which can be
    # below the heaviest matching of any size.
    problem = synthetic_problem(n, seed, blocks=20, recent=20)
    result = solve(problem)  # at most 600 creators: every pair a candidate
    stats = result.statistics
    assert result.status is Status.OPTIMAL
    matched, optimum = best_largest(problem)
    assert stats.matched == matched
    assert result.weight == pytest.approx(optimum, abs=1e-6)
    assert optimum <= stats.upper_bound + 1e-9
    assert stats.upper_bound <= optimum + n / SCALE
    assert stats.cardinality_proved
    assert stats.bound_priced


def test_a_shard_over_the_limit_gets_the_priced_lp_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = synthetic_problem(300, 4, blocks=20, recent=20)
    exact = solve(problem, options=NARROW).statistics.upper_bound
    monkeypatch.setattr(odd_duals, "EXACT_VISITS", 0)
    priced = solve(problem, options=NARROW).statistics
    assert priced.bound_priced
    assert priced.upper_bound > exact + 1e-6
    assert heaviest(problem) <= exact + 1e-9

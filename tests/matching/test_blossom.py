"""The compiled blossom matcher (blossom.py) against rustworkx, cold and warm-started."""

from __future__ import annotations

import numpy as np
import pytest
import rustworkx as rx
from hypothesis import given, settings
from hypothesis import strategies as st

from matchdesk.matching.blossom import _matching, blossom_mates, cardinality_shift
from matchdesk.matching.exact import exact_matching, rustworkx_matching
from matchdesk.matching.lp import (
    AUCTION_FROM,
    NO_LIMIT,
    _assignment,
    _cover_rows,
    _lp_duals,
    auction_from,
    double_cover,
    relaxation_start,
)

IntArray = np.ndarray


def random_graph(n: int, density: float, low: int, high: int, seed: int) -> tuple:
    """Distinct edges in random order and orientation, integer weights in [low, high)."""
    rng = np.random.default_rng(seed)
    iu = np.triu_indices(n, 1)
    keep = rng.random(iu[0].size) < density
    a, b = iu[0][keep], iu[1][keep]
    order = rng.permutation(a.size)
    a, b = a[order], b[order]
    swap = rng.random(a.size) < 0.5
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    return a.astype(np.int64), b.astype(np.int64), rng.integers(low, high, a.size)


def reference(n: int, a: IntArray, b: IntArray, w: IntArray) -> tuple[int, int]:
    """Matched pairs and total weight of rustworkx's maximum-cardinality optimum."""
    graph: rx.PyGraph = rx.PyGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(list(zip(a.tolist(), b.tolist(), w.tolist(), strict=True)))
    pairs = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=int)
    weight = {frozenset((int(x), int(y))): int(z) for x, y, z in zip(a, b, w, strict=True)}
    return len(pairs), sum(weight[frozenset(p)] for p in pairs)


def measured(n: int, a: IntArray, b: IntArray, w: IntArray, mates: IntArray) -> tuple[int, int]:
    """Pairs and weight of a mate array, after checking it is a matching of the edges."""
    weight = {frozenset((int(x), int(y))): int(z) for x, y, z in zip(a, b, w, strict=True)}
    pairs = [(v, int(mates[v])) for v in range(n) if mates[v] > v]
    for v in range(n):
        if mates[v] >= 0:
            assert mates[mates[v]] == v
    assert all(frozenset(p) in weight for p in pairs)
    return len(pairs), sum(weight[frozenset(p)] for p in pairs)


@pytest.mark.parametrize("warm", [False, True])
@pytest.mark.parametrize(
    ("low", "high"),
    [(1, 3), (1, 10), (0, 1000), (-5, 1_000_000)],
    ids=["ties", "few", "wide", "neg"],
)
def test_random_graphs_match_rustworkx_exactly(warm: bool, low: int, high: int) -> None:
    rng = np.random.default_rng(high)
    for trial in range(150):
        n = int(rng.integers(1, 45))
        a, b, w = random_graph(n, float(rng.uniform(0.05, 0.9)), low, high, 1000 * high + trial)
        mates = blossom_mates(n, a, b, w, warm=warm)
        assert measured(n, a, b, w, mates) == reference(n, a, b, w), (trial, n)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 24),
    density=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**32 - 1),
    warm=st.booleans(),
)
def test_property_same_cardinality_and_weight_as_rustworkx(
    n: int, density: float, seed: int, warm: bool
) -> None:
    a, b, w = random_graph(n, density, 0, 6, seed)
    mates = blossom_mates(n, a, b, w, warm=warm)
    assert measured(n, a, b, w, mates) == reference(n, a, b, w)


@pytest.mark.parametrize(("n", "degree"), [(300, 4), (600, 12)])
def test_larger_sparse_graphs_cold_and_warm_agree_with_rustworkx(n: int, degree: int) -> None:
    a, b, w = random_graph(n, degree / n, 0, 1_000_000, n)
    expected = reference(n, a, b, w)
    assert measured(n, a, b, w, blossom_mates(n, a, b, w, warm=False)) == expected
    assert measured(n, a, b, w, blossom_mates(n, a, b, w, warm=True)) == expected


def test_edge_cases() -> None:
    empty = np.zeros(0, dtype=np.int64)
    assert blossom_mates(0, empty, empty, empty).tolist() == []
    assert blossom_mates(3, empty, empty, empty, warm=True).tolist() == [-1, -1, -1]
    one = np.array([0]), np.array([1]), np.array([-7])
    assert blossom_mates(2, *one, warm=True).tolist() == [1, 0]  # cardinality first
    # A path a-b-c-d: the two outer edges (2 pairs) beat the heavy middle one.
    a, b, w = np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([1, 100, 1])
    assert blossom_mates(4, a, b, w).tolist() == [1, 0, 3, 2]
    assert blossom_mates(4, a, b, w, warm=True).tolist() == [1, 0, 3, 2]


def test_the_relaxation_start_makes_blossoms_of_odd_cycles_and_its_duals_are_tight() -> None:
    # Two triangles (weights 10) joined by a bridge 0-3 (weight 1): the LP optimum is
    # both triangles at one half (3 pairs' worth, weight 30); the exact optimum pairs
    # 0-3, 1-2 and 4-5 (weight 21).
    a = np.array([0, 1, 2, 3, 4, 5, 0])
    b = np.array([1, 2, 0, 4, 5, 3, 3])
    w = np.array([10, 10, 10, 10, 10, 10, 1])
    shifted = w + cardinality_shift(6, w)
    start = relaxation_start(6, a, b, shifted)
    assert start.cycle_ptr.tolist() == [0, 3, 6]
    assert sorted(start.cycle_nodes[:3].tolist()) == [0, 1, 2]
    assert sorted(start.cycle_nodes[3:].tolist()) == [3, 4, 5]
    assert start.mate.tolist() == [-1] * 6
    slack = start.dual[a] + start.dual[b] - 2 * shifted
    assert slack.min() >= 0
    assert slack[:6].tolist() == [0] * 6  # the cycles' edges are tight
    assert blossom_mates(6, a, b, w, warm=True).tolist() == [3, 2, 1, 0, 5, 4]


@pytest.mark.parametrize("seed", range(6))
def test_relaxation_duals_are_feasible_nonnegative_and_tight_on_the_start(seed: int) -> None:
    n = 120
    a, b, w = random_graph(n, 0.06, 0, 1000, seed)
    shifted = w + cardinality_shift(n, w)
    start = relaxation_start(n, a, b, shifted)
    slack = start.dual[a] + start.dual[b] - 2 * shifted
    assert slack.min() >= 0
    assert start.dual.min() >= 0
    paired = start.mate[a] == b
    assert (slack[paired] == 0).all()
    single = start.mate < 0
    single[start.cycle_nodes] = False
    assert (start.dual[single] == 0).all()  # single in the LP: complementary slackness
    cycles = np.split(start.cycle_nodes, start.cycle_ptr[1:-1]) if start.cycle_nodes.size else []
    assert all(c.size % 2 == 1 and c.size >= 3 for c in cycles)


def test_lp_duals_refuse_an_assignment_that_is_not_optimal() -> None:
    # Two vertices joined by an edge of profit 5: leaving both single is not optimal,
    # so the residual graph has a negative cycle.
    ptr = np.array([0, 2, 4])
    col = np.array([0, 1, 0, 1])
    profit = np.array([0, 5, 5, 0])
    with pytest.raises(RuntimeError, match="not optimal"):
        _lp_duals(2, ptr, col, profit, np.array([0, 1]))


def test_a_start_pair_that_is_not_an_edge_is_refused() -> None:
    a, b, w = np.array([0]), np.array([1]), np.array([2])
    with pytest.raises(ValueError, match="starting pair is not an edge"):
        _matching(
            3, a, b, w, np.array([2, -1, 0]), np.array([2, 2, 2]), np.zeros(1, np.int64), a[:0]
        )


@pytest.mark.parametrize("seed", [5, 6])
def test_exact_matching_equals_rustworkx_matching_on_float_scores(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b, _ = random_graph(200, 0.05, 0, 1, seed)
    w = np.round(rng.uniform(0.0, 3.0, a.size), 6)
    nodes = np.arange(0, 400, 2)  # creators are sparse ids
    x, y = exact_matching(nodes, nodes[a], nodes[b], w)
    rx_x, rx_y = rustworkx_matching(nodes, nodes[a], nodes[b], w)
    assert x.size == rx_x.size
    assert (x < y).all()
    assert np.all(np.diff(x) > 0)
    score = {
        (int(min(p, q)), int(max(p, q))): s for p, q, s in zip(nodes[a], nodes[b], w, strict=True)
    }
    ours = sum(score[(int(p), int(q))] for p, q in zip(x, y, strict=True))
    theirs = sum(score[(int(p), int(q))] for p, q in zip(rx_x, rx_y, strict=True))
    assert round(ours, 6) == round(theirs, 6)


def run_from(n: int, a: list, b: list, internal: list, mate: list, dual: list) -> list:
    """_matching from a hand-made start (no cycles); internal weights, internal duals."""
    cycle_ptr, cycle_nodes = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    arrays = [np.array(x, dtype=np.int64) for x in (a, b, internal, mate, dual)]
    out = _matching(n, *arrays, cycle_ptr, cycle_nodes)
    return list(out.tolist())


def test_a_tree_reaching_a_single_vertex_with_zero_dual_augments_to_it() -> None:
    # Root 0 (dual 20) and vertex 1 single but satisfied (dual 0); the edge is tight.
    assert run_from(2, [0], [1], [10], [-1, -1], [20, 0]) == [1, 0]


def test_a_matched_vertex_whose_dual_reaches_zero_changes_places_with_the_root() -> None:
    # Start: 1-2 matched (tight: 4 + 0 = 2 * 2), 0 single with dual 16 (0-1 tight:
    # 16 + 4 = 2 * 10). Vertex 2 is at zero: flipping 0-1-2 gives the optimum 0-1.
    assert run_from(3, [0, 1], [1, 2], [10, 2], [-1, 2, 1], [16, 4, 0]) == [1, 0, -1]


def _assignment_profit(n: int, a: IntArray, b: IntArray, profit: IntArray, sigma: IntArray) -> int:
    """The profit of a double-cover assignment (0 for a vertex left single)."""
    edge = {(int(x), int(y)): int(p) for x, y, p in zip(a, b, profit, strict=True)}
    edge.update({(y, x): p for (x, y), p in list(edge.items())})
    assert sorted(sigma.tolist()) == list(range(n))  # a permutation
    return sum(edge[(i, int(j))] for i, j in enumerate(sigma) if j != i)


@pytest.mark.parametrize("start", ["other prices", "random prices"])
def test_the_auction_from_given_prices_is_as_close_to_optimal(start: str) -> None:
    # Above AUCTION_FROM the double cover is solved by the auction; started from given
    # prices (the relaxation starts from the certificate's round 0) it ends within n
    # profit units of the optimum (LAPJV's) all the same, as it does from zero.
    n = AUCTION_FROM + 500
    a, b, w = random_graph(n, 0.0012, 0, 100_000, 7)
    profit = (1_000_000 + w).astype(np.int64)
    rows = _cover_rows(n, a, b, profit)
    best = _assignment_profit(n, a, b, profit, _assignment(n, *rows))
    if start == "other prices":  # the prices of the graph with every other edge
        half = _cover_rows(n, a[::2], b[::2], (w[::2] * 10).astype(np.int64))
        prices = auction_from(np.zeros(n, np.int64), *half, 100_000, 10, 6, NO_LIMIT)[1]
    else:
        prices = np.random.default_rng(3).integers(0, 2_000_000, n)
    cold = _assignment_profit(n, a, b, profit, double_cover(n, a, b, profit))
    given = prices.copy()
    warm = _assignment_profit(n, a, b, profit, double_cover(n, a, b, profit, given))
    np.testing.assert_array_equal(given, prices)  # the caller's prices are left alone
    assert best - n <= cold <= best
    assert best - n <= warm <= best

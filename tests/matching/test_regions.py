"""Exactly re-solved regions (regions.py) and the relaxation's rounding (relaxation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from matchdesk.matching.exact import exact_matching
from matchdesk.matching.improve import greedy
from matchdesk.matching.regions import (
    Adjacency,
    grow_region,
    label_components,
    reference_components,
    resolve_regions,
)
from matchdesk.matching.relaxation import double_cover_start


def random_graph(n: int, degree: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct edges (a < b) in descending weight order (as the engine hands them on)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, n * degree)
    b = rng.integers(0, n, n * degree)
    keys = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
    a, b = keys // n, keys % n
    keep = a != b
    a, b = a[keep], b[keep]
    w = np.round(rng.uniform(0.1, 1.0, a.size), 6)
    order = np.lexsort((a * n + b, -w))
    return a[order], b[order], w[order]


def weight_and_size(
    a: np.ndarray, b: np.ndarray, w: np.ndarray, mate: np.ndarray
) -> tuple[int, float]:
    score = {(int(x), int(y)): float(s) for x, y, s in zip(a, b, w, strict=True)}
    pairs = [(i, int(mate[i])) for i in range(mate.size) if mate[i] > i]
    assert all(mate[j] == i for i, j in pairs)  # symmetric
    return 2 * len(pairs), round(sum(score[p] for p in pairs), 6)


def exact_mate(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    mate = np.full(n, -1, dtype=np.int64)
    x, y = exact_matching(np.arange(n), a, b, w)
    mate[x], mate[y] = y, x
    return mate


def greedy_mate(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    mate = np.full(n, -1, dtype=np.int64)
    greedy(n, a, b, mate)
    return mate


def test_grow_region_adds_neighbours_then_partners() -> None:
    # Path 0-1-2-3-4-5 with pairs (1, 2) and (3, 4).
    a, b = np.array([0, 1, 2, 3, 4]), np.array([1, 2, 3, 4, 5])
    mate = np.array([-1, 2, 1, 4, 3, -1])
    adjacency = Adjacency(6, a, b)
    seeds = np.array([True, False, False, False, False, False])
    assert np.flatnonzero(grow_region(adjacency, mate, seeds, 0)).tolist() == [0]
    assert np.flatnonzero(grow_region(adjacency, mate, seeds, 1)).tolist() == [0, 1, 2]
    assert np.flatnonzero(grow_region(adjacency, mate, seeds, 2)).tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_whole_graph_as_one_region_is_the_exact_optimum(seed: int) -> None:
    n = 60
    a, b, w = random_graph(n, 3, seed)
    mate = greedy_mate(n, a, b)
    everyone = np.ones(n, dtype=np.bool_)
    resolve_regions(n, a, b, w, mate, everyone, limit=n)
    assert weight_and_size(a, b, w, mate) == weight_and_size(a, b, w, exact_mate(n, a, b, w))


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_a_region_is_solved_exactly_and_the_rest_is_untouched(seed: int) -> None:
    n = 80
    a, b, w = random_graph(n, 2, seed)
    before = greedy_mate(n, a, b)
    adjacency = Adjacency(n, a, b)
    seeds = np.zeros(n, dtype=np.bool_)
    seeds[[3, 40]] = True
    region = grow_region(adjacency, before, seeds, 2)
    assert 0 < int(region.sum()) < n
    after = before.copy()
    resolve_regions(n, a, b, w, after, region, limit=n)
    # Outside the region nothing moved; inside, the exact optimum of the induced graph.
    assert np.array_equal(after[~region], before[~region])
    inside = region[a] & region[b]
    ia, ib, iw = a[inside], b[inside], w[inside]
    expected = np.full(n, -1, dtype=np.int64)
    x, y = exact_matching(np.flatnonzero(region), ia, ib, iw)
    expected[x], expected[y] = y, x
    got = np.where(region, after, -1)
    assert weight_and_size(ia, ib, iw, got) == weight_and_size(ia, ib, iw, expected)
    # Cardinality first, then weight: never worse than before.
    size_before, weight_before = weight_and_size(a, b, w, before)
    size_after, weight_after = weight_and_size(a, b, w, after)
    assert (size_after, weight_after) >= (size_before, weight_before)


def test_pieces_over_the_limit_or_without_a_wanted_creator_are_left_alone() -> None:
    # Two separate triangles-with-a-tail: {0, 1, 2, 3} and {4, 5, 6, 7}.
    a = np.array([0, 1, 0, 2, 4, 5, 4, 6])
    b = np.array([1, 2, 2, 3, 5, 6, 6, 7])
    w = np.array([0.9, 0.8, 0.7, 0.6, 0.9, 0.8, 0.7, 0.6])
    start = np.array([1, 0, -1, -1, 5, 4, -1, -1])
    everyone = np.ones(8, dtype=np.bool_)
    mate = start.copy()
    assert resolve_regions(8, a, b, w, mate, everyone, limit=3) == 0
    assert np.array_equal(mate, start)
    only = np.zeros(8, dtype=np.bool_)
    only[3] = True  # just the first piece
    assert resolve_regions(8, a, b, w, mate, everyone, limit=8, only=only) == 1
    assert mate.tolist() == [1, 0, 3, 2, 5, 4, -1, -1]


@pytest.mark.parametrize("seed", [8, 9, 10])
def test_rounding_with_every_creator_in_reach_is_exact(seed: int) -> None:
    n = 120
    a, b, w = random_graph(n, 4, seed)
    mate = np.full(n, -1, dtype=np.int64)
    nodes = np.arange(n)
    double_cover_start(nodes, a, b, w, mate, limit=n, hops=n, regret=0.05, regret_hops=1)
    assert weight_and_size(a, b, w, mate) == weight_and_size(a, b, w, exact_mate(n, a, b, w))


@pytest.mark.parametrize(
    ("hops", "regret", "regret_hops"), [(0, float("inf"), 0), (1, 0.05, 0), (3, 0.05, 1)]
)
def test_rounding_gives_pairs_of_candidate_edges_on_the_components_creators(
    hops: int, regret: float, regret_hops: int
) -> None:
    n = 300
    a, b, w = random_graph(n, 3, 11)
    # The component's creators are numbered in the pool: every second creator.
    nodes = np.arange(n) * 2
    mate = np.full(2 * n, -1, dtype=np.int64)
    double_cover_start(
        nodes,
        nodes[a],
        nodes[b],
        w,
        mate,
        limit=2000,
        hops=hops,
        regret=regret,
        regret_hops=regret_hops,
    )
    assert np.all(mate[1::2] == -1)
    local = np.where(mate[nodes] >= 0, mate[nodes] // 2, -1)
    size, weight = weight_and_size(a, b, w, local)  # KeyError if a pair is not an edge
    best_size, best_weight = weight_and_size(a, b, w, exact_mate(n, a, b, w))
    assert size <= best_size
    assert weight <= best_weight + 1e-9
    assert weight >= 0.995 * best_weight


def test_options_name_a_bad_regret_and_offer_the_thorough_preset() -> None:
    from matchdesk.matching import SolverOptions

    with pytest.raises(ValueError, match="regret: must be positive"):
        SolverOptions(regret=-0.1)
    with pytest.raises(ValueError, match="rounding_hops: must be positive"):
        SolverOptions(rounding_hops=-1)
    thorough = SolverOptions.thorough()
    assert (thorough.exact_limit, thorough.keep, thorough.window) == (20_000, 24, 8)
    assert (thorough.mid_keep, thorough.mid_window) == (24, 8)  # above small_pool too
    assert (SolverOptions().exact_limit, SolverOptions().keep) == (20_000, 24)
    assert (SolverOptions().mid_keep, SolverOptions().mid_window) == (12, 6)


def test_the_fitted_bound_keeps_the_floors_of_pruned_and_unchecked_partners() -> None:
    from matchdesk.matching.bounds import best_edge_bound, fitted_bound
    from matchdesk.matching.candidates import Candidates

    # Creators 0-1 share a candidate edge of 0.2. Creator 0 lost a checked partner
    # scoring up to 0.9 to the pruning; creator 1 may have an unchecked one up to 0.6;
    # creators 2-3 have only their candidate edge of 0.8.
    cands = Candidates(
        a=np.array([2, 0]),
        b=np.array([3, 1]),
        score=np.array([0.8, 0.2]),
        best_checked=np.array([0.9, 0.2, 0.8, 0.8]),
        unchecked_bound=np.array([-np.inf, 0.6, -np.inf, -np.inf]),
        pruned_bound=np.array([0.9, 0.0, 0.0, 0.0]),
        checked=6,
        feasible_checked=3,
        exhaustive=False,
    )
    assert best_edge_bound(cands, 0.0) == pytest.approx((0.9 + 0.6 + 0.8 + 0.8) / 2)
    # 0.45 + 0.3 for the floors (they cover the 0-1 edge too), 0.8 for the 2-3 edge.
    assert fitted_bound(cands, 0.0, rounds=60) == pytest.approx(0.45 + 0.3 + 0.8, abs=1e-6)
    assert fitted_bound(cands, 1.5, rounds=60) == pytest.approx(3.05, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_union_find_labels_the_components_as_scipy_does(seed: int) -> None:
    """The compiled union-find numbers the components by their smallest creator, as
    scipy's connected_components: the same count and the same label for every creator
    (isolated creators, repeated edges, self-loops and int32 ends included)."""
    rng = np.random.default_rng(seed)
    for n in (1, 2, 7, 60, 500):
        m = int(rng.integers(0, 2 * n + 1))
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
        if seed % 2:
            a, b = a.astype(np.int32), b.astype(np.int32)
        count, labels = label_components(n, a, b)
        expected_count, expected = reference_components(n, a, b)
        assert count == expected_count
        assert labels.tolist() == expected.tolist()
    count, labels = label_components(5, np.array([3, 1]), np.array([4, 0]))
    assert (count, labels.tolist()) == (3, [0, 0, 1, 2, 2])

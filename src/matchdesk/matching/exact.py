"""Exact maximum-cardinality, maximum-weight matching on integer-scaled scores.

Both solvers want integer weights; scores are scaled by `SCALE` and rounded, which
keeps the order of any two matchings whose weights differ by more than n / SCALE.
`solve` hands the shards scores in [0, 1] whatever the weights' scale (it divides the
weights by their sum, `solver.unit_weights`, which changes no optimum), so the integers
stay below SCALE, the LP's costs and the blossom's duals stay in a fixed range, and the
rounding costs a matching at most 0.5 / SCALE per pair in each direction: the matching
chosen weighs at least the optimum minus |M| / SCALE (in units of the weights' sum).
`exact_matching` is the engine's (blossom.py, started from the LP relaxation);
`rustworkx_matching` is the reference the tests and the benchmark's oracle use. numba
(about 0.4 s to import) is loaded on the first exact solve, not with the package.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import rustworkx as rx

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SCALE = 1_000_000


def _pairs(nodes: IntArray, x: IntArray, y: IntArray) -> tuple[IntArray, IntArray]:
    """Local pairs -> creator pairs with a < b, sorted by a."""
    x, y = nodes[x], nodes[y]
    lo, hi = np.minimum(x, y), np.maximum(x, y)
    order = np.argsort(lo)
    return lo[order], hi[order]


def _local(
    nodes: IntArray, a: IntArray, b: IntArray, w: FloatArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Edges as positions in `nodes`, weights scaled to integers."""
    return np.searchsorted(nodes, a), np.searchsorted(nodes, b), np.rint(w * SCALE).astype(np.int64)


def exact_matching(
    nodes: IntArray, a: IntArray, b: IntArray, w: FloatArray
) -> tuple[IntArray, IntArray]:
    """Pairs of a maximum-cardinality matching of greatest weight on edges (a, b, w).

    `nodes` lists the vertices (sorted); a and b must be among them, at most one edge
    per pair. Returns the pairs as two arrays with a < b, sorted by a.
    """
    if a.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    from matchdesk.matching.blossom import blossom_mates  # loads numba on first use

    local_a, local_b, weights = _local(nodes, a, b, w)
    mates = blossom_mates(nodes.size, local_a, local_b, weights, warm=True)
    x = np.flatnonzero(mates > np.arange(nodes.size))
    return _pairs(nodes, x, mates[x])


def rustworkx_matching(
    nodes: IntArray, a: IntArray, b: IntArray, w: FloatArray
) -> tuple[IntArray, IntArray]:
    """The same as exact_matching, solved by rustworkx.max_weight_matching."""
    if a.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    local_a, local_b, weights = _local(nodes, a, b, w)
    graph: rx.PyGraph = rx.PyGraph(multigraph=False)
    graph.add_nodes_from(range(nodes.size))
    graph.add_edges_from(
        list(zip(local_a.tolist(), local_b.tolist(), weights.tolist(), strict=True))
    )
    pairs = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=int)
    if not pairs:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    arr = np.array(sorted(pairs), dtype=np.int64)
    return _pairs(nodes, arr[:, 0], arr[:, 1])


def compile_ahead() -> None:
    """Compile the engine's numba functions (or load them from numba's on-disk cache):
    the blossom matcher and its LP start on a small graph, cold and warm, then a small
    pool solved on both paths, so that the first real solve does not wait for the
    compiler; the Makefile runs it after installing, process workers at their start."""
    from matchdesk.matching.blossom import blossom_mates
    from matchdesk.matching.cardinality import augment_on_edges, augment_on_feasible, bucket_index

    a, b, w = np.array([0, 1, 2, 0]), np.array([1, 2, 0, 3]), np.array([3, 3, 3, 1])
    blossom_mates(4, a, b, w)
    blossom_mates(4, a, b, w, warm=True)
    everyone = np.ones(4, dtype=np.bool_)
    augment_on_edges(4, a, b, np.full(4, -1, dtype=np.int64), everyone, 1 << 30)
    buckets = bucket_index(np.arange(4), np.zeros(4, dtype=np.int64), 4)
    starts = np.ones((1, 4), dtype=np.uint64)
    tier = np.zeros(4, dtype=np.int64)
    mate = np.full(4, -1, dtype=np.int64)
    augment_on_feasible(4, mate, everyone, buckets, starts, tier, 0, False, a[:0], 1 << 30)
    from matchdesk.matching.windows import compile_ahead as compile_windows

    compile_windows()
    # Every other compiled function (listing, certificate, slots, scatter, relaxation)
    # on the paths a real solve takes: a small pool solved listed, then by candidates
    # with components too big to solve exactly.
    from matchdesk.matching.solver import SolverOptions, solve
    from matchdesk.matching.synthetic import synthetic_problem

    solve(synthetic_problem(3000, seed=1, blocks=150, recent=150))  # listed and priced shards
    from matchdesk.matching.lp import AUCTION_EPS, _cover_rows, auction

    auction(4, *_cover_rows(4, a, b, w), *AUCTION_EPS)  # components above lp.AUCTION_FROM
    small = synthetic_problem(300, seed=1, blocks=5, recent=5)
    solve(small, options=SolverOptions(exhaustive_limit=0, exact_limit=50))

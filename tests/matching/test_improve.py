"""improve.EdgeIndex: the score of every pair of the graph, NaN for any other pair."""

from __future__ import annotations

import numpy as np

from matchdesk.matching.improve import EdgeIndex


def test_edge_index_finds_every_edge_and_nothing_else() -> None:
    rng = np.random.default_rng(3)
    n = 300
    keys = np.unique(rng.integers(0, n * n, 2000))
    a, b = keys // n, keys % n
    a, b = a[a < b], b[a < b]
    w = rng.random(a.size)
    index = EdgeIndex(n, a, b, w)
    assert index.lookup(b, a).tolist() == w.tolist()  # either order of the ends
    x, y = rng.integers(0, n, 5000), rng.integers(0, n, 5000)
    score = {(int(i), int(j)): float(s) for i, j, s in zip(a, b, w, strict=True)}
    pairs = zip(x.tolist(), y.tolist(), strict=True)
    expected = [score.get((min(i, j), max(i, j)), np.nan) for i, j in pairs]
    assert np.array_equal(index.lookup(x, y), np.array(expected), equal_nan=True)


def test_edge_index_of_no_edges_finds_nothing() -> None:
    none = np.zeros(0, dtype=np.int64)
    index = EdgeIndex(5, none, none, np.zeros(0))
    assert np.isnan(index.lookup(np.array([1, 0]), np.array([2, 4]))).all()

"""improve: EdgeIndex (the score of every pair of the graph, NaN for any other pair), the
compiled greedy and 2-opt scan against the vectorised forms they replaced."""

from __future__ import annotations

import numpy as np
import pytest

from matchdesk.matching.improve import (
    EdgeIndex,
    _best_scores,
    _dominant,
    _free_to_matched,
    _two_opt_moves,
    greedy,
)


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


def random_graph(n: int, edges: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct edges (a < b) in descending score order, ties by key (some scores tie)."""
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, n * n, edges))
    a, b = keys // n, keys % n
    a, b = a[a < b], b[a < b]
    w = np.round(rng.random(a.size), 2)
    order = np.lexsort((a * n + b, -w))
    return a[order], b[order], w[order]


def dominant_rounds_greedy(n: int, a: np.ndarray, b: np.ndarray, mate: np.ndarray) -> None:
    """The locally dominant rounds (the vectorised greedy the engine had before)."""
    alive = (mate[a] < 0) & (mate[b] < 0)
    ea, eb = a[alive], b[alive]
    er = np.arange(ea.size)
    while ea.size:
        best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, ea, er)
        np.minimum.at(best, eb, er)
        dom = (best[ea] == er) & (best[eb] == er)
        mate[ea[dom]] = eb[dom]
        mate[eb[dom]] = ea[dom]
        alive = (mate[ea] < 0) & (mate[eb] < 0)
        ea, eb, er = ea[alive], eb[alive], er[alive]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_is_the_locally_dominant_rounds(seed: int) -> None:
    n = 400
    a, b, _ = random_graph(n, 3000, seed)
    start = np.full(n, -1, dtype=np.int64)
    start[[0, 5]], start[[5, 0]] = 5, 0  # a pair already made stays
    mine, reference = start.copy(), start.copy()
    greedy(n, a, b, mine)
    dominant_rounds_greedy(n, a, b, reference)
    assert mine.tolist() == reference.tolist()


def two_opt_reference(
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray,
    index: EdgeIndex,
    mate: np.ndarray,
    mate_w: np.ndarray,
    best: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """The vectorised 2-opt moves the engine had before the compiled scan."""
    u, v = a, b
    p, q = mate[u], mate[v]
    sel = (p >= 0) & (q >= 0) & (p != v)
    wuv = w[sel]
    u, v, p, q = u[sel], v[sel], p[sel], q[sel]
    hope = wuv + np.minimum(best[p], best[q]) - mate_w[u] - mate_w[v] > 1e-12
    u, v, p, q, wuv = u[hope], v[hope], p[hope], q[hope], wuv[hope]
    wpq = index.lookup(p, q)
    ok = ~np.isnan(wpq)
    u, v, p, q, wuv, wpq = u[ok], v[ok], p[ok], q[ok], wuv[ok], wpq[ok]
    gain = wuv + wpq - mate_w[u] - mate_w[v]
    good = gain > 1e-12
    return u[good], v[good], p[good], q[good], gain[good]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_opt_moves_are_those_of_the_vectorised_form(seed: int) -> None:
    n = 400
    a, b, w = random_graph(n, 4000, seed)
    w[::97] = np.nan  # NaN scores are skipped as before
    mate = np.full(n, -1, dtype=np.int64)
    greedy(n, a[::-1].copy(), b[::-1].copy(), mate)  # a poor matching: moves to find
    index = EdgeIndex(n, a, b, w)
    rows = np.flatnonzero(mate >= 0)
    mate_w = np.zeros(n)
    mate_w[rows] = index.lookup(rows, mate[rows])
    best = _best_scores(n, a, b, w)
    res, gain, u, v, p, q, _ = _two_opt_moves(a, b, w, index, mate, mate_w, best, 1e-12)
    ru, rv, rp, rq, rgain = two_opt_reference(a, b, w, index, mate, mate_w, best)
    assert ru.size > 10
    for mine, ref in zip((u, v, p, q, gain), (ru, rv, rp, rq, rgain), strict=True):
        assert mine.tolist() == ref.tolist()
    assert res[0].tolist() == np.minimum(ru, rp).tolist()
    assert res[1].tolist() == np.minimum(rv, rq).tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_later_scan_of_the_changed_ends_finds_the_moves_of_a_full_scan(seed: int) -> None:
    n = 400
    a, b, w = random_graph(n, 4000, seed)
    mate = np.full(n, -1, dtype=np.int64)
    greedy(n, a[::-1].copy(), b[::-1].copy(), mate)
    index = EdgeIndex(n, a, b, w)
    best = _best_scores(n, a, b, w)
    rows = np.flatnonzero(mate >= 0)

    def weights(mate: np.ndarray) -> np.ndarray:
        out = np.zeros(n)
        out[rows] = index.lookup(rows, mate[rows])
        return out

    res, gain, u, v, p, q, at = _two_opt_moves(a, b, w, index, mate, weights(mate), best, 1e-12)
    scanned = mate.copy()
    chosen = _dominant(res, gain, n)
    assert 0 < np.count_nonzero(chosen) < chosen.size  # some moves wait for a later round
    u, v, p, q = u[chosen], v[chosen], p[chosen], q[chosen]
    mate[u], mate[v], mate[p], mate[q] = v, u, q, p
    again = np.zeros(a.size, dtype=np.bool_)
    again[at] = True
    full = _two_opt_moves(a, b, w, index, mate, weights(mate), best, 1e-12)
    later = _two_opt_moves(a, b, w, index, mate, weights(mate), best, 1e-12, mate != scanned, again)
    for mine, ref in zip(later[1:], full[1:], strict=True):
        assert mine.tolist() == ref.tolist()


def test_free_to_matched_edges_are_those_of_the_vectorised_form() -> None:
    n = 300
    a, b, w = random_graph(n, 2000, 4)
    mate = np.full(n, -1, dtype=np.int64)
    greedy(n, a[: a.size // 4], b[: b.size // 4], mate)
    free_a, free_b = mate[a] < 0, mate[b] < 0
    ab, ba = free_a & ~free_b, free_b & ~free_a
    fu, fv, fw = _free_to_matched(a, b, w, mate)
    assert fu.size > 0
    assert fu.tolist() == np.concatenate([a[ab], b[ba]]).tolist()
    assert fv.tolist() == np.concatenate([b[ab], a[ba]]).tolist()
    assert fw.tolist() == np.concatenate([w[ab], w[ba]]).tolist()

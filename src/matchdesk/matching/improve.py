"""Matching on big candidate graphs, vectorised: greedy, then augment, then 2-opt.

Greedy here is the "locally dominant edge" form: an edge is taken when it is the best
remaining edge of both its ends. Repeating that until no edge is left gives exactly the
sequential greedy matching (edges by descending score, ties by pair key), but each
round is a few numpy passes over the remaining edges instead of a Python loop.

Improvement moves, each applied in rounds of non-conflicting moves chosen the same
locally dominant way (a move wins when it is the best move of every pair it touches):
- augment: free u - v = w - free x becomes u = v, w = x (one more pair matched);
- swap: free u - v = w becomes u = v (w freed; same count, higher score);
- 2-opt: u = p, v = q with edges u - v and p - q becomes u = v, p = q.
Cardinality moves run first; score moves never lower the count.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from matchdesk.matching import clock
from matchdesk.matching.sorting import bits_for

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class EdgeIndex:
    """Score lookup for arbitrary pairs of a candidate graph: an open-addressing hash table.

    Pair keys (`min * n + max`) are spread by Fibonacci hashing over a power-of-two table
    at most half full, with linear probing; inserts and lookups run as rounds of
    vectorised probes (about 1.5 per key), where a binary search over millions of sorted
    keys costs some 20 cache misses per lookup. Keys are distinct (a candidate graph). A
    slot holds the key and the edge's position (int32; the scores stay in `w`, which must
    not change): 12 bytes a slot instead of a key and a copied score's 16.
    """

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, n: int, a: IntArray, b: IntArray, w: FloatArray) -> None:
        self.n = n
        self.bits = max(4, int(2 * max(1, a.size) - 1).bit_length())
        size = 1 << self.bits
        self.mask = size - 1
        self.table = np.full(size, -1, dtype=np.int64)
        self.edge = np.zeros(size, dtype=np.int32 if a.size < 1 << 31 else np.int64)
        self.w = w if w.size else np.full(1, np.nan)  # a slot's position is read even when empty
        keys = np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)
        todo = np.arange(keys.size, dtype=np.int64)
        slot = self._hash(keys)
        while todo.size:
            s = slot[todo]
            empty = self.table[s] < 0
            todo_e, s_e = todo[empty], s[empty]
            self.table[s_e] = keys[todo_e]  # on a clash within the round, one key wins
            won = self.table[s_e] == keys[todo_e]
            self.edge[s_e[won]] = todo_e[won]
            placed = np.zeros(todo.size, dtype=np.bool_)
            placed[np.flatnonzero(empty)[won]] = True
            todo = todo[~placed]
            slot[todo] = (slot[todo] + 1) & self.mask

    def _hash(self, keys: IntArray) -> IntArray:
        mixed = keys.astype(np.uint64) * self._MULTIPLIER
        out: IntArray = (mixed >> np.uint64(64 - self.bits)).astype(np.int64)
        return out

    def lookup(self, x: IntArray, y: IntArray) -> FloatArray:
        """Score of each pair (x, y); NaN where the pair is not an edge."""
        keys = np.minimum(x, y).astype(np.int64) * self.n + np.maximum(x, y)
        slot = self._hash(keys)
        found = self.table[slot]
        hit = found == keys
        out: FloatArray = np.where(hit, self.w[self.edge[slot]], np.nan)
        todo = np.flatnonzero(~hit & (found >= 0))  # a clash: probe on
        s = slot[todo]
        while todo.size:
            s = (s + 1) & self.mask
            found = self.table[s]
            hit = found == keys[todo]
            out[todo[hit]] = self.w[self.edge[s[hit]]]
            go_on = ~hit & (found >= 0)
            todo, s = todo[go_on], s[go_on]
        return out


@njit(cache=True)
def _best_scores(n: int, a: IntArray, b: IntArray, w: FloatArray) -> FloatArray:
    """Each node's best edge score (0 when it has none or none above 0): what
    `np.maximum.at` over both ends gives (NaN included), in one compiled pass instead of
    two of its scattered updates (0.9 s at a million)."""
    best = np.zeros(n)
    for i in range(a.size):
        v = w[i]
        x = a[i]
        if v > best[x] or v != v:
            best[x] = v
        x = b[i]
        if v > best[x] or v != v:
            best[x] = v
    return best


def _dominant(resources: list[IntArray], gain: FloatArray, size: int) -> npt.NDArray[np.bool_]:
    """Moves that are the best (by gain, then index) of every resource they touch."""
    order = np.argsort(-gain, kind="stable")
    rank = np.empty(gain.size, dtype=np.int64)
    rank[order] = np.arange(gain.size)
    best = np.full(size, gain.size, dtype=np.int64)
    for res in resources:
        np.minimum.at(best, res, rank)
    ok = np.ones(gain.size, dtype=np.bool_)
    for res in resources:
        ok &= best[res] == rank
    return ok


def greedy(n: int, a: IntArray, b: IntArray, mate: IntArray) -> None:
    """Extend `mate` (-1 = free) greedily with edges between free nodes, in place.

    The edges must come in preference order (best first).
    """
    ea, eb = a, b
    alive = (mate[ea] < 0) & (mate[eb] < 0)
    ea, eb = ea[alive], eb[alive]
    er = np.arange(ea.size, dtype=np.int64)
    while ea.size:
        best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, ea, er)
        np.minimum.at(best, eb, er)
        dom = (best[ea] == er) & (best[eb] == er)
        mate[ea[dom]] = eb[dom]
        mate[eb[dom]] = ea[dom]
        alive = (mate[ea] < 0) & (mate[eb] < 0)
        ea, eb, er = ea[alive], eb[alive], er[alive]


def _free_to_matched(
    a: IntArray, b: IntArray, w: FloatArray, mate: IntArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Directed edges u -> v with u free and v matched: those of the edges a -> b in
    edge order, then those of b -> a (no copy of the whole list in both directions)."""
    free_a, free_b = mate[a] < 0, mate[b] < 0
    ab = free_a & ~free_b
    ba = free_b & ~free_a
    return (
        np.concatenate([a[ab], b[ba]]),
        np.concatenate([b[ab], a[ba]]),
        np.concatenate([w[ab], w[ba]]),
    )


def augment(
    n: int, a: IntArray, b: IntArray, w: FloatArray, index: EdgeIndex, mate: IntArray
) -> int:
    """Apply rounds of length-3 augmenting paths; returns how many pairs were added.

    The edges must come in preference order (best first).
    """
    added = 0
    shift = bits_for(a.size)
    edge = np.arange(a.size, dtype=np.int64)
    while True:
        # Free-to-matched directed edges (u free, v matched), grouped by v, best first.
        fa = (mate[a] < 0) & (mate[b] >= 0)
        fb = (mate[b] < 0) & (mate[a] >= 0)
        packed = np.sort(np.concatenate([(b[fa] << shift) | edge[fa], (a[fb] << shift) | edge[fb]]))
        if packed.size == 0:
            return added
        e = packed & ((1 << shift) - 1)
        v = packed >> shift
        u = a[e] + b[e] - v
        wuv = w[e]
        first = np.searchsorted(v, np.arange(n), side="left")
        count = np.searchsorted(v, np.arange(n), side="right") - first
        # For a path u - v = x - y: y is x's best free neighbour other than u.
        x = mate[v]
        has1 = count[x] >= 1
        y1 = np.where(has1, u[np.minimum(first[x], u.size - 1)], -1)
        w1 = np.where(has1, wuv[np.minimum(first[x], u.size - 1)], -np.inf)
        has2 = count[x] >= 2
        y2 = np.where(has2, u[np.minimum(first[x] + 1, u.size - 1)], -1)
        w2 = np.where(has2, wuv[np.minimum(first[x] + 1, u.size - 1)], -np.inf)
        y = np.where(y1 != u, y1, y2)
        wxy = np.where(y1 != u, w1, w2)
        ok = y >= 0
        if not np.any(ok):
            return added
        u, v, x, y, wuv, wxy = u[ok], v[ok], x[ok], y[ok], wuv[ok], wxy[ok]
        gain = wuv + wxy - index.lookup(v, x)
        pair = np.minimum(v, x)
        chosen = _dominant([u, y, n + pair], gain, 2 * n)
        u, v, x, y = u[chosen], v[chosen], x[chosen], y[chosen]
        mate[u], mate[v], mate[x], mate[y] = v, u, y, x
        added += int(u.size)


def _mate_weight(index: EdgeIndex, mate: IntArray) -> FloatArray:
    """Score of each creator's current pair (0 when free)."""
    rows = np.flatnonzero(mate >= 0)
    out = np.zeros(mate.size)
    out[rows] = index.lookup(rows, mate[rows])
    return out


def _two_opt_moves(
    a: IntArray,
    b: IntArray,
    w: FloatArray,
    index: EdgeIndex,
    mate: IntArray,
    mate_w: FloatArray,
    best: FloatArray,
) -> tuple[list[IntArray], FloatArray, IntArray, IntArray, IntArray, IntArray]:
    u, v = a, b
    p, q = mate[u], mate[v]
    sel = (p >= 0) & (q >= 0) & (p != v)
    # w(p, q) is at most min(best[p], best[q]): skip the moves that cannot gain before
    # paying for the lookup (a random access into millions of keys).
    wuv = w[sel]
    u, v, p, q = u[sel], v[sel], p[sel], q[sel]
    hope = wuv + np.minimum(best[p], best[q]) - mate_w[u] - mate_w[v] > 1e-12
    u, v, p, q, wuv = u[hope], v[hope], p[hope], q[hope], wuv[hope]
    wpq = index.lookup(p, q)
    ok = ~np.isnan(wpq)
    u, v, p, q, wuv, wpq = u[ok], v[ok], p[ok], q[ok], wuv[ok], wpq[ok]
    gain = wuv + wpq - mate_w[u] - mate_w[v]
    return [np.minimum(u, p), np.minimum(v, q)], gain, u, v, p, q


def local_search(
    n: int,
    a: IntArray,
    b: IntArray,
    w: FloatArray,
    index: EdgeIndex,
    mate: IntArray,
    deadline: float,
    max_rounds: int = 12,
) -> int:
    """Rounds of swap and 2-opt moves with positive gain; returns the rounds run."""
    tolerance = 1e-12
    best = _best_scores(n, a, b, w)
    rounds = 0
    while rounds < max_rounds and clock.now() < deadline:
        rounds += 1
        mate_w = _mate_weight(index, mate)
        # 2-opt over matched-matched non-matching edges.
        res, gain, u, v, p, q = _two_opt_moves(a, b, w, index, mate, mate_w, best)
        good = gain > tolerance
        moved = 0
        if np.any(good):
            res = [r[good] for r in res]
            gain, u, v, p, q = gain[good], u[good], v[good], p[good], q[good]
            chosen = _dominant(res, gain, n)
            u, v, p, q = u[chosen], v[chosen], p[chosen], q[chosen]
            mate[u], mate[v], mate[p], mate[q] = v, u, q, p
            moved += int(u.size)
        # Swap: a free node takes a matched node whose current edge is worse. The edges
        # from a free to a matched end, both directions (a -> b first, then b -> a),
        # picked from the edge list without a directed copy of it.
        fu, fv, fw = _free_to_matched(a, b, w, mate)
        if fu.size:
            fx = mate[fv]
            gain = fw - _mate_weight(index, mate)[fv]
            good = gain > tolerance
            fu, fv, fx, gain = fu[good], fv[good], fx[good], gain[good]
            if fu.size:
                chosen = _dominant([fu, n + np.minimum(fv, fx)], gain, 2 * n)
                fu, fv, fx = fu[chosen], fv[chosen], fx[chosen]
                mate[fx] = -1
                mate[fu], mate[fv] = fv, fu
                moved += int(fu.size)
                greedy(n, a, b, mate)
        if moved <= max(0, int(np.count_nonzero(mate >= 0)) // 4000):
            break  # the last moves are worth less than another pass over the edges
    return rounds

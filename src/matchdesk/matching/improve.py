"""Matching on big candidate graphs: greedy, then augment, then 2-opt.

Greedy is the sequential greedy matching (edges by descending score, ties by pair
key), one compiled pass. The "locally dominant edge" rounds (an edge is taken when it
is the best remaining edge of both its ends, repeated until no edge is left) give
exactly the same matching; the improvement moves below are chosen that way.

Improvement moves, each applied in rounds of non-conflicting moves chosen the same
locally dominant way (a move wins when it is the best move of every pair it touches):
- augment: free u - v = w - free x becomes u = v, w = x (one more pair matched);
- swap: free u - v = w becomes u = v (w freed; same count, higher score);
- 2-opt: u = p, v = q with edges u - v and p - q becomes u = v, p = q.
Cardinality moves run first; score moves never lower the count.
"""

from __future__ import annotations

from typing import Any

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
    at most half full, with linear probing; inserts and lookups are compiled loops (about
    1.5 probes per key), where a binary search over millions of sorted keys costs some 20
    cache misses per lookup. Keys are distinct (a candidate graph). A slot holds the key
    and the edge's position (int32; the scores stay in `w`, which must not change): 12
    bytes a slot instead of a key and a copied score's 16.
    """

    def __init__(self, n: int, a: IntArray, b: IntArray, w: FloatArray) -> None:
        self.n = n
        self.bits = max(4, int(2 * max(1, a.size) - 1).bit_length())
        size = 1 << self.bits
        self.mask = size - 1
        self.table = np.full(size, -1, dtype=np.int64)
        self.edge = np.zeros(size, dtype=np.int32 if a.size < 1 << 31 else np.int64)
        self.w = w if w.size else np.full(1, np.nan)  # a slot's position is read even when empty
        _insert(
            n,
            self.bits,
            np.asarray(a, dtype=np.int64),
            np.asarray(b, dtype=np.int64),
            self.table,
            self.edge,
        )

    def lookup(self, x: IntArray, y: IntArray) -> FloatArray:
        """Score of each pair (x, y); NaN where the pair is not an edge."""
        out: FloatArray = _lookup(
            self.n,
            self.bits,
            self.table,
            self.edge,
            self.w,
            np.asarray(x, dtype=np.int64),
            np.asarray(y, dtype=np.int64),
        )
        return out


_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True)
def _slot(key: int, bits: int) -> int:
    """Fibonacci hash of a pair key: the top `bits` bits of key * 2^64 / phi."""
    return np.int64((np.uint64(key) * _MULTIPLIER) >> np.uint64(64 - bits))  # type: ignore[return-value]


@njit(cache=True)
def _insert(n: int, bits: int, a: IntArray, b: IntArray, table: IntArray, edge: Any) -> None:
    mask = (1 << bits) - 1
    for i in range(a.size):
        x, y = a[i], b[i]
        key = min(x, y) * n + max(x, y)
        s = _slot(key, bits)
        while table[s] >= 0:
            s = (s + 1) & mask
        table[s] = key
        edge[s] = i


@njit(cache=True)
def _find_slot(n: int, bits: int, table: IntArray, x: int, y: int) -> int:
    """The slot of pair (x, y), -1 when it is not an edge."""
    mask = (1 << bits) - 1
    key = min(x, y) * n + max(x, y)
    s = _slot(key, bits)
    while True:
        found = table[s]
        if found == key:
            return s
        if found < 0:
            return -1
        s = (s + 1) & mask


@njit(cache=True)
def _lookup(
    n: int, bits: int, table: IntArray, edge: Any, w: FloatArray, x: IntArray, y: IntArray
) -> FloatArray:
    out = np.empty(x.size)
    for i in range(x.size):
        s = _find_slot(n, bits, table, x[i], y[i])
        out[i] = w[edge[s]] if s >= 0 else np.nan
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

    The edges must come in preference order (best first). One compiled pass in that
    order: the sequential greedy, which the rounds of locally dominant edges (the
    module docstring) give too.
    """
    _greedy(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64), mate)


@njit(cache=True)
def _greedy(a: IntArray, b: IntArray, mate: IntArray) -> None:
    for i in range(a.size):
        x, y = a[i], b[i]
        if mate[x] < 0 and mate[y] < 0:
            mate[x] = y
            mate[y] = x


def _free_to_matched(
    a: IntArray, b: IntArray, w: FloatArray, mate: IntArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Directed edges u -> v with u free and v matched: those of the edges a -> b in
    edge order, then those of b -> a (no copy of the whole list in both directions)."""
    out: tuple[IntArray, IntArray, FloatArray] = _free_to_matched_scan(
        np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64), w, mate
    )
    return out


@njit(cache=True)
def _free_to_matched_scan(
    a: IntArray, b: IntArray, w: FloatArray, mate: IntArray
) -> tuple[IntArray, IntArray, FloatArray]:
    count = 0
    for i in range(a.size):
        if (mate[a[i]] < 0) != (mate[b[i]] < 0):
            count += 1
    fu = np.empty(count, dtype=np.int64)
    fv = np.empty(count, dtype=np.int64)
    fw = np.empty(count)
    k = 0
    for side in range(2):
        for i in range(a.size):
            x, y = (a[i], b[i]) if side == 0 else (b[i], a[i])
            if mate[x] < 0 and mate[y] >= 0:
                fu[k], fv[k], fw[k] = x, y, w[i]
                k += 1
    return fu, fv, fw


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
    tolerance: float,
    changed: npt.NDArray[np.bool_] | None = None,
    again: npt.NDArray[np.bool_] | None = None,
) -> tuple[list[IntArray], FloatArray, IntArray, IntArray, IntArray, IntArray, IntArray]:
    """The 2-opt moves gaining more than `tolerance` (u = p, v = q become u = v, p = q
    for a non-matching edge u - v between matched creators and an edge p - q), in edge
    order: the resources each move touches, the gains, u, v, p, q and the edges' indices.

    With `changed` (per creator: its mate is not the one of an earlier scan) and `again`
    (per edge: it gave a move in that scan), an edge neither of whose ends changed and
    that gave no move is skipped: its move depends only on the mates of its ends (p, q,
    their pair scores) and on fixed scores, so it would give no move now either. The
    moves are the same as a full scan's."""
    none = np.zeros(0, dtype=np.bool_)
    u, v, p, q, gain, at = _two_opt_scan(
        index.n,
        index.bits,
        index.table,
        index.edge,
        index.w,
        a,
        b,
        w,
        mate,
        mate_w,
        best,
        tolerance,
        none if changed is None else changed,
        none if again is None else again,
    )
    return [np.minimum(u, p), np.minimum(v, q)], gain, u, v, p, q, at


@njit(cache=True)
def _two_opt_scan(
    n: int,
    bits: int,
    table: IntArray,
    edge: Any,
    ew: FloatArray,
    a: IntArray,
    b: IntArray,
    w: FloatArray,
    mate: IntArray,
    mate_w: FloatArray,
    best: FloatArray,
    tolerance: float,
    changed: npt.NDArray[np.bool_],
    again: npt.NDArray[np.bool_],
) -> tuple[IntArray, IntArray, IntArray, IntArray, FloatArray, IntArray]:
    """One pass over the edges for `_two_opt_moves`. w(p, q) is at most min(best[p],
    best[q]): the moves that cannot gain are skipped before paying for the lookup (a
    random access into millions of keys)."""
    cap = 1024
    out_u = np.empty(cap, dtype=np.int64)
    out_v = np.empty(cap, dtype=np.int64)
    out_p = np.empty(cap, dtype=np.int64)
    out_q = np.empty(cap, dtype=np.int64)
    out_g = np.empty(cap)
    out_i = np.empty(cap, dtype=np.int64)
    k = 0
    skip = changed.size > 0
    for i in range(a.size):
        u, v = a[i], b[i]
        if skip and not (changed[u] or changed[v] or again[i]):
            continue
        p, q = mate[u], mate[v]
        if p < 0 or q < 0 or p == v:
            continue
        wuv = w[i]
        bp, bq = best[p], best[q]
        low = bp if bp <= bq or bp != bp else bq  # as np.minimum: NaN wins
        if not wuv + low - mate_w[u] - mate_w[v] > 1e-12:
            continue
        s = _find_slot(n, bits, table, p, q)
        if s < 0:
            continue
        wpq = ew[edge[s]]
        if wpq != wpq:
            continue
        gain = wuv + wpq - mate_w[u] - mate_w[v]
        if not gain > tolerance:
            continue
        if k == cap:
            cap *= 2
            out_u = _grown(out_u, cap)
            out_v = _grown(out_v, cap)
            out_p = _grown(out_p, cap)
            out_q = _grown(out_q, cap)
            out_i = _grown(out_i, cap)
            bigger = np.empty(cap)
            bigger[:k] = out_g[:k]
            out_g = bigger
        out_u[k], out_v[k], out_p[k], out_q[k], out_g[k], out_i[k] = u, v, p, q, gain, i
        k += 1
    return out_u[:k], out_v[:k], out_p[:k], out_q[:k], out_g[:k], out_i[:k]


@njit(cache=True)
def _grown(x: IntArray, cap: int) -> IntArray:
    bigger = np.empty(cap, dtype=np.int64)
    bigger[: x.size] = x
    return bigger


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
    scanned: IntArray | None = None  # the mates at the last 2-opt scan
    again = np.zeros(0, dtype=np.bool_)
    while rounds < max_rounds and clock.now() < deadline:
        rounds += 1
        mate_w = _mate_weight(index, mate)
        # 2-opt over matched-matched non-matching edges; after the first round only the
        # edges with a changed end or a move last time (the same moves as a full scan).
        changed = None if scanned is None else mate != scanned
        res, gain, u, v, p, q, at = _two_opt_moves(
            a, b, w, index, mate, mate_w, best, tolerance, changed, again
        )
        scanned = mate.copy()
        again = np.zeros(a.size, dtype=np.bool_)
        again[at] = True
        moved = 0
        if gain.size:
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
            gain = fw - index.lookup(fv, fx)  # fv is matched (to fx): its pair score
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

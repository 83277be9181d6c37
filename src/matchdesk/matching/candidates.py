"""Candidate pairs: the feasible pairs worth giving to the matcher.

A dense weekly pool has hundreds of feasible partners per creator, but strength
similarity dominates the score, so the best partners of a creator are its neighbours in
strength among those who share a tier, a language and a time. Every creator is put in
one bucket per (tier band, language, 3-hour cell where it can start); each bucket is
sorted by log revenue and by log followers, and each creator is paired with its `window`
nearest neighbours on both sides in both orders. Any feasible partner shares at least
one bucket with the creator, so a partner that was *not* checked lies beyond the window
in both orders of every shared bucket: that gives a bound on its score (see bounds.py).

The checked pairs are filtered by the hard rules, scored, and pruned to the `keep`
best of each creator (an edge survives if either end keeps it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matchdesk.matching.parallel import sort_inplace, thread_map
from matchdesk.matching.prepare import PoolArrays
from matchdesk.matching.scoring import IndexArray, feasible, scores, similarity, window_pairs
from matchdesk.matching.sorting import bits_for, unique_sorted

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Candidates:
    """Candidate edges (a < b) with scores, and what the search proved about the rest."""

    a: IntArray  # by descending score, ties by pair key (solve: shard by shard, each so)
    b: IntArray
    score: FloatArray
    best_checked: FloatArray  # per creator: best score over every checked feasible pair
    unchecked_bound: FloatArray  # per creator: bound on any unchecked partner (-inf: none)
    pruned_bound: FloatArray  # per creator: bound on any checked partner pruned away (0: none)
    checked: int  # distinct pairs checked against the hard rules
    feasible_checked: int  # of which feasible
    exhaustive: bool  # True when every pair was checked (full feasible graph)


def _empty(n: int) -> Candidates:
    z = np.zeros(0, dtype=np.int64)
    return Candidates(
        z, z, np.zeros(0), np.full(n, -np.inf), np.full(n, -np.inf), np.zeros(n), 0, 0, True
    )


def _best_per_creator(n: int, a: IndexArray, b: IndexArray, score: FloatArray) -> FloatArray:
    best = np.full(n, -np.inf)
    np.maximum.at(best, a, score)
    np.maximum.at(best, b, score)
    return best


def full_graph(prep: PoolArrays) -> tuple[IntArray, IntArray, FloatArray]:
    """Every feasible pair (a < b) with its score: the unpruned graph (quadratic)."""
    rows = np.flatnonzero(prep.active & prep.has_start)
    parts_a: list[IntArray] = []
    parts_b: list[IntArray] = []
    step = max(1, (1 << 21) // max(1, rows.size))
    for first in range(0, rows.size, step):
        block = rows[first : first + step]
        i = np.repeat(block, rows.size)
        j = np.tile(rows, block.size)
        upper = i < j
        i, j = i[upper], j[upper]
        ok = feasible(prep, i, j)
        parts_a.append(i[ok])
        parts_b.append(j[ok])
    if not parts_a:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    a, b = np.concatenate(parts_a), np.concatenate(parts_b)
    return a, b, scores(prep, a, b)


def _in_score_order(
    n: int, a: IntArray, b: IntArray, score: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    keys = a * n + b
    order = np.argsort(keys)
    a, b, score = a[order], b[order], score[order]
    order = by_score(n, a, b, score)
    return a[order], b[order], score[order]


def exhaustive_candidates(prep: PoolArrays) -> Candidates:
    """Candidates = the full feasible graph (small pools)."""
    a, b, score = full_graph(prep)
    a, b, score = _in_score_order(prep.n, a, b, score)
    m = int(np.count_nonzero(prep.active & prep.has_start))
    best = _best_per_creator(prep.n, a, b, score)
    nothing_unchecked = np.full(prep.n, -np.inf)
    nothing_pruned = np.zeros(prep.n)
    pairs = m * (m - 1) // 2
    return Candidates(
        a, b, score, best, nothing_unchecked, nothing_pruned, pairs, a.size, exhaustive=True
    )


def candidate_entries(prep: PoolArrays) -> tuple[IntArray, IntArray, int]:
    """(creator, bucket) of every bucket membership of an active creator, and #buckets."""
    rules = prep.rules
    keep = prep.active[prep.entry_creator]
    creator, cell = prep.entry_creator[keep], prep.entry_cell[keep]
    cells = int(cell.max()) + 1 if cell.size else 1
    band = prep.tier[creator] if rules.max_tier_distance == 0 else np.zeros_like(creator)
    if rules.require_shared_language:
        count = np.diff(prep.lang_ptr)[creator]
        lang = prep.lang_code[
            np.repeat(prep.lang_ptr[:-1][creator], count)
            + np.arange(int(count.sum()))
            - np.repeat(np.cumsum(count) - count, count)
        ]
        creator, cell, band = (np.repeat(x, count) for x in (creator, cell, band))
    else:
        lang = np.zeros_like(creator)
    vocab = max(1, prep.vocab_size)
    bands = int(prep.tier.max()) + 1 if band.size else 1
    return creator, (band * cells + cell) * vocab + lang, bands * cells * vocab


def score_quantum(score: FloatArray) -> float:
    """The resolution of `by_score`: edges closer than this may come in key order."""
    top = float(score.max()) if score.size else 1.0
    return max(top, 1e-12) / (1 << 26)


def by_score(n: int, a: IndexArray, b: IndexArray, score: FloatArray) -> IntArray:
    """Order of edges by descending score, ties by pair key (edges given in key order).

    Scores are quantised to 2^-26 of the maximum so the order is one np.sort of packed
    int64 keys; edges closer than that are ordered by key, which changes nothing a
    matcher could measure.
    """
    m = a.size
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    quantum = score_quantum(score)
    q = np.floor((float(score.max()) - score) / quantum).astype(np.int64)
    shift = bits_for(m)
    packed = (q << shift) | np.arange(m, dtype=np.int64)
    sort_inplace(packed)
    order: IntArray = packed & ((1 << shift) - 1)
    return order


def keep_best(
    n: int, a: IndexArray, b: IndexArray, order: IntArray, keep: int
) -> tuple[IntArray, IntArray]:
    """The edges of `order` (best first) among the `keep` best of at least one endpoint,
    and per creator the rank (index in `order`) of its keep-th best edge when it has more
    than `keep` (-1 otherwise): every edge it loses ranks after that one.

    One sort of (endpoint, rank) keys groups each creator's edges best first; an edge's
    position in its group is its index minus where the group starts (from the degrees).
    The positions are read in slices so no full-length temporary is made besides the keys.
    Returns the kept part of `order`, still best first, and the cut ranks.
    """
    m = a.size
    cut = np.full(n, -1, dtype=np.int64)
    if m == 0:
        return order, cut
    shift = bits_for(m)
    low = (1 << shift) - 1
    packed = np.empty(2 * m, dtype=np.int64)
    rank = np.arange(m, dtype=np.int64)
    np.left_shift(a[order], shift, out=packed[:m], dtype=np.int64)
    packed[:m] |= rank
    np.left_shift(b[order], shift, out=packed[m:], dtype=np.int64)
    packed[m:] |= rank
    del rank
    sort_inplace(packed)
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    group_start = np.cumsum(degree) - degree
    kept = np.zeros(m, dtype=np.bool_)
    step = 1 << 22
    for lo in range(0, 2 * m, step):
        chunk = packed[lo : lo + step]
        position = np.arange(lo, lo + chunk.size) - group_start[chunk >> shift]
        kept[chunk[position < keep] & low] = True
    more = np.flatnonzero(degree > keep)
    cut[more] = packed[group_start[more] + keep - 1] & low
    result: IntArray = order[kept]
    return result, cut


def _sorted_entries(
    bucket: IntArray, creator: IntArray, strength: FloatArray, n_buckets: int
) -> tuple[IntArray, IntArray, IntArray, float]:
    """Entries sorted by (bucket, strength): entry index, bucket, quantised strength."""
    e = bucket.size
    entry_bits = bits_for(e)
    bucket_bits = bits_for(n_buckets)
    q_bits = min(20, 62 - entry_bits - bucket_bits)
    if q_bits < 8:
        raise ValueError("pool too large for the packed candidate sort")
    top = float(strength.max()) if strength.size else 1.0
    quantum = max(top, 1e-9) / ((1 << q_bits) - 1)
    q = np.floor(strength[creator] / quantum).astype(np.int64)
    packed = (bucket << (q_bits + entry_bits)) | (q << entry_bits) | np.arange(e)
    sort_inplace(packed)
    entry = packed & ((1 << entry_bits) - 1)
    return (
        entry,
        packed >> (q_bits + entry_bits),
        (packed >> entry_bits) & ((1 << q_bits) - 1),
        quantum,
    )


def _neighbour_keys(
    n: int,
    creator: IntArray,
    bucket: IntArray,
    n_buckets: int,
    window: int,
    strengths: tuple[FloatArray, FloatArray],
) -> tuple[IntArray, list[FloatArray], IntArray]:
    """Distinct pair keys of the strength windows, the gaps beyond them, the first order.

    Each strength order (one thread each) writes its window keys into its half of one
    preallocated array; the halves are closed up and deduplicated with one in-place sort
    (a list of parts and a concatenation would double the peak).
    """
    size = creator.size
    half = window * max(size - 1, 0)
    keys = np.empty(2 * half, dtype=np.int64)

    def one_order(side: int) -> tuple[int, FloatArray, IntArray]:
        entry, bs, qs, quantum = _sorted_entries(bucket, creator, strengths[side], n_buckets)
        cs = creator[entry]
        filled = side * half
        for d in range(1, window + 1):
            same = np.flatnonzero(bs[:-d] == bs[d:])
            x, y = cs[same], cs[same + d]
            out = keys[filled : filled + same.size]
            np.minimum(x, y, out=out)
            out *= n
            out += np.maximum(x, y)
            filled += same.size
        del cs
        # Distance to the first entry beyond the window on each side (inf: none there).
        # Quantisation can shrink a distance by at most one quantum, hence the - 1.
        delta = np.full(size, np.inf)
        g = window + 1
        if size > g:
            gap = np.maximum(qs[g:] - qs[:-g] - 1, 0) * quantum
            right = np.where(bs[g:] == bs[:-g], gap, np.inf)
            delta[:-g] = np.minimum(delta[:-g], right)
            delta[g:] = np.minimum(delta[g:], right)
        back = np.empty(size)
        back[entry] = delta
        return filled - side * half, back, entry

    (first, delta0, first_order), (second, delta1, _) = thread_map(
        one_order, [0, 1], work=keys.size
    )
    keys[first : first + second] = keys[half : half + second]  # numpy copes with overlap
    keys = keys[: first + second]
    sort_inplace(keys)
    keep = np.empty(keys.size, dtype=np.bool_)
    if keys.size:
        keep[0] = True
        np.not_equal(keys[1:], keys[:-1], out=keep[1:])
        keep &= keys % (n + 1) != 0  # x * n + y is a multiple of n + 1 iff x == y
    return keys[keep], [delta0, delta1], first_order


def window_candidates(prep: PoolArrays, window: int, keep: int) -> Candidates:
    """Candidates from strength windows in (tier, language, time) buckets.

    Pairs of one bucket share a language (when required), a tier band (when the tier
    distance must be 0) and are both active, so only the rest of the hard rules is
    checked: a shared start, the tier distance otherwise, blocks and the cooldown. The
    checks, slots and scores run over slices of the sorted keys (`window_pairs`).
    """
    n = prep.n
    creator, bucket, n_buckets = candidate_entries(prep)
    if creator.size == 0:
        return _empty(n)
    w = prep.weights
    span = w.strength_span_decades
    keys, deltas, first_order = _neighbour_keys(
        n, creator, bucket, n_buckets, window, (prep.log_revenue, prep.log_followers)
    )
    checked = int(keys.size)
    a, b, score = window_pairs(prep, keys, check_tier=prep.rules.max_tier_distance > 0)
    del keys

    # Bound on any partner outside both windows of some shared bucket.
    has_evening = np.any(prep.evening != 0, axis=0)
    sigma = np.where(has_evening, 1.0, 0.5)
    rest = w.slot * sigma + w.novelty + w.fairness * (prep.fair + prep.fair.max()) / 2.0
    both = np.isfinite(deltas[0]) & np.isfinite(deltas[1])
    entry_bound = np.where(
        both,
        w.revenue * similarity(np.where(both, deltas[0], 0.0), span)
        + w.audience * similarity(np.where(both, deltas[1], 0.0), span)
        + rest[creator],
        -np.inf,
    )
    del deltas
    bound = np.full(n, -np.inf)
    np.maximum.at(bound, creator, entry_bound)

    # Creators left without any feasible candidate: check their whole buckets.
    lonely = np.zeros(n, dtype=np.bool_)
    lonely[creator] = True
    lonely[a] = False
    lonely[b] = False
    if np.any(lonely):
        extra, extra_checked = _scan_buckets(prep, creator, bucket, first_order, lonely)
        checked += extra_checked
        extra = extra[feasible(prep, extra // n, extra % n)]
        ea, eb = extra // n, extra % n
        keys = np.concatenate([a.astype(np.int64) * n + b, extra])
        order = np.argsort(keys, kind="stable")
        keys, first = keys[order], np.ones(keys.size, dtype=np.bool_)
        first[1:] = keys[1:] != keys[:-1]
        order = order[first]
        a = np.concatenate([a, ea.astype(a.dtype)])[order]
        b = np.concatenate([b, eb.astype(b.dtype)])[order]
        score = np.concatenate([score, scores(prep, ea, eb)])[order]
        bound[lonely] = -np.inf
    feasible_count = int(a.size)
    best = _best_per_creator(n, a, b, score)
    ranked = by_score(n, a, b, score)
    order, cut = keep_best(n, a, b, ranked, keep)
    # A pruned edge ranks after its creators' cut edges; the sort is exact to one quantum.
    pruned = np.zeros(n)
    has_cut = cut >= 0
    pruned[has_cut] = score[ranked[cut[has_cut]]] + 2 * score_quantum(score)
    return Candidates(
        a[order].astype(np.int64),
        b[order].astype(np.int64),
        score[order],
        best,
        bound,
        pruned,
        checked,
        feasible_count,
        exhaustive=False,
    )


def _scan_buckets(
    prep: PoolArrays,
    creator: IntArray,
    bucket: IntArray,
    order: IntArray,
    lonely: npt.NDArray[np.bool_],
) -> tuple[IntArray, int]:
    """Pair keys of each lonely creator with every member of its buckets."""
    bs, cs = bucket[order], creator[order]
    starts = np.searchsorted(bs, bs, side="left")
    ends = np.searchsorted(bs, bs, side="right")
    mine = np.flatnonzero(lonely[cs])
    sizes = ends[mine] - starts[mine]
    a = np.repeat(cs[mine], sizes)
    offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    b = cs[np.repeat(starts[mine], sizes) + offsets]
    keys = unique_sorted(prep.key(a, b)[a != b])
    return keys, int(keys.size)

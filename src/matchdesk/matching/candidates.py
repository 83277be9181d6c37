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
from typing import Any

import numpy as np
import numpy.typing as npt

from matchdesk.matching.parallel import MIN_PARALLEL, current_threads, sort_inplace, thread_map
from matchdesk.matching.prepare import PoolArrays
from matchdesk.matching.scoring import IndexArray, feasible, scores, similarity
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


def _sorted_entries(
    bucket: IntArray, creator: IntArray, strength: FloatArray, n_buckets: int
) -> tuple[IntArray, int, int, float]:
    """Entries sorted by (bucket, strength), as packed keys bucket | quantised strength |
    entry, with the strength's and the entry's bits and the quantum."""
    e = bucket.size
    entry_bits = bits_for(e)
    bucket_bits = bits_for(n_buckets)
    q_bits = min(20, 62 - entry_bits - bucket_bits)
    if q_bits < 8:
        raise ValueError("pool too large for the packed candidate sort")
    top = float(strength.max()) if strength.size else 1.0
    quantum = max(top, 1e-9) / ((1 << q_bits) - 1)
    # In place where it can be: a million creators have some 5 million entries.
    level = strength[creator]
    level /= quantum
    np.floor(level, out=level)
    q = level.astype(np.int64)
    del level
    packed = bucket << (q_bits + entry_bits)
    q <<= entry_bits
    packed |= q
    del q
    packed |= np.arange(e)
    sort_inplace(packed)
    return packed, q_bits, entry_bits, quantum


def _window_orders(
    creator: IntArray,
    bucket: IntArray,
    n_buckets: int,
    window: int,
    strengths: tuple[FloatArray, FloatArray],
) -> tuple[
    npt.NDArray[np.signedinteger[Any]],
    IntArray,
    npt.NDArray[np.signedinteger[Any]],
    list[FloatArray],
]:
    """Both strength orders of the entries (one thread each): the entry at each place
    (2 x entries), the rank of its bucket among the buckets, each entry's place, and per
    entry the strength distance to the first entry beyond its window on either side
    (inf: none there). Each thread writes its rows of the shared arrays."""
    from matchdesk.matching.windows import unpack_order  # numba

    size = creator.size
    places = index_dtype(size)
    sorted_entry = np.empty((2, size), dtype=places)
    sorted_rank = np.empty((2, size), dtype=np.int64)
    deltas = np.empty((2, size))

    def one_order(side: int) -> None:
        packed, q_bits, entry_bits, quantum = _sorted_entries(
            bucket, creator, strengths[side], n_buckets
        )
        unpack_order(
            packed,
            q_bits,
            entry_bits,
            quantum,
            window,
            sorted_entry[side],
            sorted_rank[side],
            deltas[side],
        )

    thread_map(one_order, [0, 1], work=2 * size)
    position = np.empty(sorted_entry.shape, dtype=places)
    position[0, sorted_entry[0]] = np.arange(size, dtype=places)
    position[1, sorted_entry[1]] = np.arange(size, dtype=places)
    return sorted_entry, sorted_rank, position, [deltas[0], deltas[1]]


def index_dtype(size: int) -> type[np.signedinteger[Any]]:
    """int32 for indices below `size` when they fit (half the memory), else int64."""
    return np.int32 if size < 1 << 31 else np.int64


SPLIT_FROM = MIN_PARALLEL // 8  # entries from which two threads walk the windows


def _renumbered_keys(keys: IntArray, n: int, renumber: IntArray) -> IntArray:
    """Sorted pair keys `min * n + max` after renumbering the rows."""
    x, y = renumber[keys // n], renumber[keys % n]
    return unique_sorted(np.minimum(x, y) * n + np.maximum(x, y))


def window_candidates(prep: PoolArrays, window: int, keep: int) -> Candidates:
    """Candidates from strength windows in (tier, language, time) buckets.

    Pairs of one bucket share a language (when required), a tier band (when the tier
    distance must be 0) and are both active, so only the rest of the hard rules is
    checked: a shared start, the tier distance otherwise, blocks and the cooldown. The
    walk over the windows, the checks, the scores and each creator's `keep` best are one
    compiled pass (windows.py); an edge kept by either end is a candidate.
    """
    from matchdesk.matching.windows import (  # numba
        gathered_bits,
        group_entries,
        kept_lists,
        merge_lists,
        union_edges,
        window_reach,
    )

    n = prep.n
    if n >= 1 << 31:
        raise ValueError("pool too large for the window walk (2^31 creators or more)")
    creator, bucket, n_buckets = candidate_entries(prep)
    if creator.size == 0:
        return _empty(n)
    w = prep.weights
    span = w.strength_span_decades
    sorted_entry, place, position, deltas = _window_orders(
        creator, bucket, n_buckets, window, (prep.log_revenue, prep.log_followers)
    )
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
    del deltas, both
    bound = np.full(n, -np.inf)
    np.maximum.at(bound, creator, entry_bound)
    del entry_bound
    # Each strength order is walked on its own, the creators renumbered by that
    # strength (`perm[new] = old`), so that the window partners of consecutive creators
    # are near each other in memory; the followers walk skips the pairs the revenue walk
    # checks, so the two see disjoint pairs. The result does not depend on either.
    rules = prep.rules
    weights = np.array([w.revenue, w.audience, w.slot, w.novelty, w.fairness])
    perms: list[IntArray] = []
    renumbers: list[IntArray] = []
    walks_args: list[tuple[Any, ...]] = []
    for o, value in enumerate((prep.log_revenue, prep.log_followers)):
        perm = np.argsort(value, kind="stable")
        renumber = np.empty(n, dtype=np.int64)
        renumber[perm] = np.arange(n)
        moved = renumber[creator]
        entry_ptr, place_of, other_place_of = group_entries(moved, n, position, o, o == 1)
        sorted_place = place[o]  # in place: bucket rank << 32 | creator, one read for both
        sorted_place <<= 32
        sorted_place |= moved[sorted_entry[o]]
        del moved
        if o == 0:
            other: tuple[Any, ...] = (
                other_place_of,
                np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=np.int64),
                np.zeros(0),
            )
        else:
            to_other = renumbers[0][perm]
            reach = window_reach(walks_args[0][3], window, prep.log_revenue[perms[0]])
            other = (other_place_of, walks_args[0][3], to_other, reach[to_other])
        perms.append(perm)
        renumbers.append(renumber)
        walks_args.append(
            (
                perm,
                entry_ptr,
                place_of,
                sorted_place,
                window,
                keep,
                gathered_bits(prep.starts, prep.evening, perm),
                prep.tier[perm].astype(np.int64),
                rules.max_tier_distance > 0,
                rules.max_tier_distance,
                _renumbered_keys(prep.forbidden, n, renumber),
                _renumbered_keys(prep.met, n, renumber),
                np.stack(
                    [prep.log_revenue[perm], prep.log_followers[perm], prep.fair[perm]], axis=1
                ),
                weights,
                float(span),
                *other,
            )
        )
    # For the lonely creators' bucket scan.
    # The revenue order's places (bucket rank << 32 | creator there) serve the lonely
    # creators' bucket scan below: the entries themselves can go.
    rev_place, rev_ptr = walks_args[0][3], walks_args[0][1]
    del sorted_entry, place, position, renumbers, creator, bucket
    # The two walks in two threads when two are allowed.
    split = current_threads() > 1 and rev_place.size >= SPLIT_FROM
    if split:
        walks = thread_map(lambda args: kept_lists(n, 0, n, *args), walks_args)
    else:
        walks = [kept_lists(n, 0, n, *args) for args in walks_args]
    del walks_args
    lists: list[tuple[Any, Any]] = []
    degree = np.zeros(n, dtype=np.int64)
    best = np.full(n, -np.inf)
    checked = feasible_count = 0
    for perm in perms:  # back to the pool's rows, one walk's lists alive at a time
        walk_y, walk_s, walk_degree, walk_best, walk_checked, walk_feasible = walks.pop(0)
        back_y = np.empty_like(walk_y)
        back_y[perm] = np.where(walk_y >= 0, perm[np.maximum(walk_y, 0)], -1)
        back_s = np.empty_like(walk_s)
        back_s[perm] = walk_s
        lists.append((back_y, back_s))
        degree[perm] += walk_degree
        best[perm] = np.maximum(best[perm], walk_best)  # perm: a permutation
        checked += walk_checked
        feasible_count += walk_feasible
        del walk_y, walk_s
    top_y, top_s = merge_lists(*lists[0], *lists[1], np.arange(n))
    del lists

    # A checked partner a creator did not keep scores at most its keep-th best.
    cut = np.where(degree > keep, top_s[:, keep - 1], -np.inf)

    # Creators left without any feasible candidate: check their whole buckets.
    lonely = np.zeros(n, dtype=np.bool_)
    lonely[perms[0]] = rev_ptr[1:] > rev_ptr[:-1]  # the creators with an entry
    lonely &= degree == 0
    extra_a = extra_b = np.zeros(0, dtype=np.int64)
    extra_s = np.zeros(0)
    if np.any(lonely):
        extra, extra_checked = _scan_buckets(
            prep, perms[0][rev_place & 0xFFFFFFFF], rev_place >> 32, lonely
        )
        checked += extra_checked
        extra = extra[feasible(prep, extra // n, extra % n)]
        extra_a, extra_b = extra // n, extra % n
        extra_s = scores(prep, extra_a, extra_b)
        bound[lonely] = -np.inf
    del rev_place, rev_ptr
    a, b, score = union_edges(n, top_y, top_s)
    del top_y, top_s
    if extra_s.size:
        # The whole buckets' pairs of a lonely creator: its `keep` best, and every pair
        # its partner would keep (better than the partner's keep-th best).
        ends = np.concatenate([extra_a, extra_b])
        partner = np.concatenate([extra_b, extra_a])
        twice = np.concatenate([extra_s, extra_s])
        rank = np.lexsort((partner, -twice, ends))
        ends_r = ends[rank]
        group_start = np.searchsorted(ends_r, ends_r, side="left")
        mine = lonely[ends_r] & (np.arange(ends_r.size) - group_start < keep)
        kept = np.zeros(extra_s.size, dtype=np.bool_)
        kept[rank[mine] % extra_s.size] = True
        kept |= (extra_s > cut[extra_a]) & ~lonely[extra_a]
        kept |= (extra_s > cut[extra_b]) & ~lonely[extra_b]
        ext_degree = np.bincount(ends, minlength=n)
        for side in (extra_a, extra_b):
            np.maximum.at(best, side, extra_s)
        last = np.flatnonzero(lonely & (ext_degree > keep))
        first_of = np.searchsorted(ends_r, last)
        cut[last] = twice[rank[first_of + keep - 1]]
        feasible_count += int(extra_s.size)
        keys = np.concatenate([a * n + b, extra_a[kept] * n + extra_b[kept]])
        order = np.argsort(keys, kind="stable")
        a = np.concatenate([a, extra_a[kept]])[order]
        b = np.concatenate([b, extra_b[kept]])[order]
        score = np.concatenate([score, extra_s[kept]])[order]
    ranked = by_score(n, a, b, score)
    # A pruned edge scores at most the keep-th best of both its ends (one quantum's slack).
    pruned = np.where(np.isfinite(cut), cut + 2 * score_quantum(score), 0.0)
    return Candidates(
        a[ranked],
        b[ranked],
        score[ranked],
        best,
        bound,
        pruned,
        checked,
        feasible_count,
        exhaustive=False,
    )


def _scan_buckets(
    prep: PoolArrays, cs: IntArray, bs: IntArray, lonely: npt.NDArray[np.bool_]
) -> tuple[IntArray, int]:
    """Pair keys of each lonely creator with every member of its buckets, from the
    entries' creators `cs` in one order of the buckets and the ranks `bs` of their
    buckets (ascending)."""
    starts = np.searchsorted(bs, bs, side="left")
    ends = np.searchsorted(bs, bs, side="right")
    mine = np.flatnonzero(lonely[cs])
    sizes = ends[mine] - starts[mine]
    a = np.repeat(cs[mine], sizes)
    offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    b = cs[np.repeat(starts[mine], sizes) + offsets]
    keys = unique_sorted(prep.key(a, b)[a != b])
    return keys, int(keys.size)

"""The strength-window candidate search, compiled: one walk per strength order, no pair keys.

candidates.py sorts each (tier band, language, 3-hour cell) bucket by both strengths;
this module walks, for every creator x, the `window` nearest entries on both sides of
each of x's entries in one order (the same neighbour relation as before: y is within
x's window in a bucket order exactly when x is within y's), checks the hard rules the
bucket does not imply (a shared start, the tier distance when tiers may differ, the
forbidden pairs), scores each distinct feasible neighbour (the float operations of
scoring.score_parts, in the same order, so the scores are the same to the bit) and
keeps x's `keep` best, best first by (score descending, partner ascending), which is the
order (score descending, pair key ascending) restricted to x's pairs.

The two orders are walked apart, each with the creators renumbered by its own strength:
walking x in that order, the window partners of consecutive creators are near each
other in memory (one walk over both orders, numbered by revenue, spent most of its time
waiting for the followers partners' rows: 5.2 s of CPU on the million-creator pool's
biggest shard, 0.9 + 1.2 s now). The followers walk skips the pairs of the revenue
windows (the few it meets, about 0.2%, are looked up among x's revenue partners, listed
only when y is near enough in revenue to be one), so each distinct pair is checked once
and the two walks can run in two threads; their kept lists are merged (merge_lists).

An edge is a candidate when either end keeps it (the union of the kept lists); every
other feasible pair the windows met scores at most the keep-th best of both its ends.
Each pair is looked at from both ends (twice the checks of a single pass), which is what
lets a creator's kept list be chosen without first collecting every checked pair: the
memory is the kept lists (n x keep), not the millions of checked pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _member(sorted_keys: Any, key: int) -> bool:
    """Whether key is in the sorted array (binary search)."""
    lo, hi = 0, sorted_keys.size
    while lo < hi:
        mid = (lo + hi) // 2
        if sorted_keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo < sorted_keys.size and bool(sorted_keys[lo] == key)


@njit(cache=True, inline="always")
def _offer(top_y: Any, top_s: Any, count: int, x: int, y: int, score: float, original: Any) -> None:
    """Put partner y into x's kept list (score descending, then partner ascending in the
    original numbering), which holds min(count, keep) partners before this one."""
    keep = top_y.shape[1]
    filled = min(count, keep)
    if filled == keep:
        ws = top_s[x, keep - 1]
        if score < ws or (score == ws and original[y] > original[top_y[x, keep - 1]]):
            return
        filled -= 1
    i = filled
    while i > 0 and (
        top_s[x, i - 1] < score
        or (top_s[x, i - 1] == score and original[top_y[x, i - 1]] > original[y])
    ):
        top_s[x, i] = top_s[x, i - 1]
        top_y[x, i] = top_y[x, i - 1]
        i -= 1
    top_s[x, i] = score
    top_y[x, i] = y


@njit(cache=True, nogil=True)
def kept_lists(
    n: int,
    first: int,
    last: int,
    original: Any,
    entry_ptr: Any,
    place_of: Any,
    sorted_place: Any,
    window: int,
    keep: int,
    bits: Any,
    tier: Any,
    check_tier: bool,
    max_distance: int,
    forbidden: Any,
    met: Any,
    strength: Any,
    weights: Any,
    span: float,
    other_place_of: Any,
    other_place: Any,
    to_other: Any,
    reach: Any,
) -> tuple[Any, Any, Any, Any, int, int]:
    """One strength order's walk: each creator's kept partners (int32: n < 2^31) and
    scores (n x keep, best first; -1 past its count), its count of feasible
    neighbours, its best score (-inf: none), and the distinct pairs checked and found
    feasible.

    The creators come renumbered by this order's strength, so that a creator's window
    neighbours sit near it in every array; original[x] is x's row before, which breaks
    ties of equal scores, so the result does not depend on the renumbering. A pair is
    checked once, from its lower end, and offered to both ends' lists; only the pairs
    whose lower end is in first..last-1 are walked.
    entry_ptr: creator x's entries are entry_ptr[x]:entry_ptr[x+1]; place_of[t]: where
    entry t sits in this order; sorted_place[i]: bucket rank << 32 | creator of the
    entry at place i (one read for both). bits[x]: x's start words, then its evening
    words, side by side; strength[x]: its log revenue, log followers and fairness part.
    The pair keys of `forbidden` and `met` are in this numbering. weights: revenue,
    audience, slot, novelty, fairness.

    The other order (other_place_of, other_place: the same for the revenue order, in
    its own numbering; to_other[x]: x's number there) is walked on its own; pairs it
    walks are skipped here, so the two walks see disjoint pairs (their union: every
    pair within a window of a shared bucket in either order). reach[x]: the greatest
    log revenue distance from x to a partner of its revenue windows; a pair farther
    apart than that is not one of them, and only the others are looked up among x's
    revenue window partners. Empty `reach`: nothing skipped (the revenue walk itself).
    """
    size = sorted_place.size
    words = bits.shape[1] // 2
    w_rev, w_aud, w_slot, w_nov, w_fair = weights[0], weights[1], weights[2], weights[3], weights[4]
    top_y = np.full((n, keep), -1, dtype=np.int32)
    top_s = np.zeros((n, keep))
    degree = np.zeros(n, dtype=np.int64)
    best = np.full(n, -np.inf)
    # Only creators with a forbidden (or met) pair need the binary search.
    flagged = np.zeros(n, dtype=np.int8)
    for key in forbidden:
        flagged[key // n] |= 1
        flagged[key % n] |= 1
    for key in met:
        flagged[key // n] |= 2
        flagged[key % n] |= 2
    seen = np.full(n, -1, dtype=np.int64)
    exclude = reach.size > 0
    most = 0
    if exclude:
        for x in range(first, last):
            most = max(most, entry_ptr[x + 1] - entry_ptr[x])
    near = np.empty(most * 2 * window, dtype=np.int64)
    checked = 0
    feasible_count = 0
    for x in range(first, last):
        listed = -1  # x's revenue window partners, listed on demand (their count)
        for t in range(entry_ptr[x], entry_ptr[x + 1]):
            p = place_of[t]
            bk = sorted_place[p] >> 32
            lo = max(0, p - window)
            hi = min(size - 1, p + window)
            for j in range(lo, hi + 1):
                place = sorted_place[j]
                if j == p or place >> 32 != bk:
                    continue
                y = place & 0xFFFFFFFF
                if y <= x or seen[y] == x:
                    continue
                seen[y] = x
                if exclude and abs(strength[x, 0] - strength[y, 0]) <= reach[x]:
                    if listed < 0:
                        listed = _window_partners(
                            entry_ptr[x],
                            entry_ptr[x + 1],
                            other_place_of,
                            other_place,
                            window,
                            near,
                        )
                    if _member(near[:listed], to_other[y]):
                        continue  # the revenue walk's pair
                checked += 1
                if check_tier and abs(tier[x] - tier[y]) > max_distance:
                    continue
                shared = False
                both = False
                for k in range(words):
                    if bits[x, k] & bits[y, k]:
                        shared = True
                    if bits[x, words + k] & bits[y, words + k]:
                        both = True
                        break
                if not shared:
                    continue
                key = x * n + y
                marks = flagged[x] & flagged[y]
                if marks & 1 and _member(forbidden, key):
                    continue
                feasible_count += 1
                if both:
                    slot = 1.0
                else:
                    slot = 0.0
                    for k in range(words):
                        ev = words + k
                        if (bits[x, ev] & bits[y, k]) | (bits[x, k] & bits[y, ev]):
                            slot = 0.5
                            break
                revenue = max(0.0, 1.0 - abs(strength[x, 0] - strength[y, 0]) / span)
                audience = max(0.0, 1.0 - abs(strength[x, 1] - strength[y, 1]) / span)
                novelty = 0.0 if marks & 2 and _member(met, key) else 1.0
                fairness = (strength[x, 2] + strength[y, 2]) / 2.0
                score = (
                    w_rev * revenue
                    + w_aud * audience
                    + w_slot * slot
                    + w_nov * novelty
                    + w_fair * fairness
                )
                best[x] = max(best[x], score)
                best[y] = max(best[y], score)
                _offer(top_y, top_s, degree[x], x, y, score, original)
                _offer(top_y, top_s, degree[y], y, x, score, original)
                degree[x] += 1
                degree[y] += 1
    return top_y, top_s, degree, best, checked, feasible_count


@njit(cache=True, inline="always")
def _window_partners(
    first: int, last: int, place_of: Any, sorted_place: Any, window: int, out: Any
) -> int:
    """The window partners of one creator's entries first..last-1 in an order (its
    numbering there), sorted into out; returns their count."""
    size = sorted_place.size
    count = 0
    for t in range(first, last):
        p = place_of[t]
        bk = sorted_place[p] >> 32
        for j in range(max(0, p - window), min(size - 1, p + window) + 1):
            place = sorted_place[j]
            if j != p and place >> 32 == bk:
                out[count] = place & 0xFFFFFFFF
                count += 1
    out[:count].sort()
    return count


@njit(cache=True, nogil=True)
def window_reach(sorted_place: Any, window: int, value: Any) -> Any:
    """Per creator (sorted_place's numbering): the greatest |value[x] - value[y]| over
    the partners y of its windows in that order (0: none)."""
    size = sorted_place.size
    reach = np.zeros(value.size)
    for i in range(size):
        x = sorted_place[i] & 0xFFFFFFFF
        bk = sorted_place[i] >> 32
        for j in range(i + 1, min(size, i + window + 1)):
            place = sorted_place[j]
            if place >> 32 != bk:
                break
            y = place & 0xFFFFFFFF
            d = abs(value[x] - value[y])
            if d > reach[x]:
                reach[x] = d
            if d > reach[y]:
                reach[y] = d
    return reach


@njit(cache=True, inline="always")
def _group_starts(keys: Any, m: int, n: int) -> Any:
    """A counting sort's group starts: ptr[x]:ptr[x + 1] is where key x's entries of
    keys[:m] go (keys in 0..n-1)."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    for k in range(m):
        ptr[keys[k] + 1] += 1
    for x in range(n):
        ptr[x + 1] += ptr[x]
    return ptr


@njit(cache=True, nogil=True)
def group_entries(moved: Any, n: int, position: Any, o: int, other: bool) -> tuple[Any, Any, Any]:
    """The entries grouped by creator (moved[e]: entry e's creator), in entry order within
    each (a counting sort): entry_ptr (creator x's entries are entry_ptr[x]:entry_ptr[x+1])
    and each entry's place in order o (position[o]) and, when `other`, in order 0."""
    size = moved.size
    ptr = _group_starts(moved, size, n)
    fill = ptr[:-1].copy()
    place_of = np.empty(size, dtype=position.dtype)
    other_of = np.empty(size if other else 0, dtype=position.dtype)
    for e in range(size):
        x = moved[e]
        t = fill[x]
        fill[x] = t + 1
        place_of[t] = position[o, e]
        if other:
            other_of[t] = position[0, e]
    return ptr, place_of, other_of


@njit(cache=True, nogil=True)
def gathered_bits(starts: Any, evening: Any, perm: Any) -> Any:
    """Row x: the start words, then the evening words, of creator perm[x] (perm: a
    permutation of the columns). The columns are read in order and each written to its
    row (two cache lines), where reading column perm[x] for row x costs a miss per word
    row."""
    words = starts.shape[0]
    out = np.empty((perm.size, 2 * words), dtype=np.uint64)
    row = np.empty(perm.size, dtype=np.int64)
    for x in range(perm.size):
        row[perm[x]] = x
    for c in range(perm.size):
        x = row[c]
        for k in range(words):
            out[x, k] = starts[k, c]
            out[x, words + k] = evening[k, c]
    return out


@njit(cache=True, nogil=True)
def unpack_order(
    packed: Any,
    q_bits: int,
    entry_bits: int,
    quantum: float,
    window: int,
    entry: Any,
    rank: Any,
    delta: Any,
) -> None:
    """One strength order of the entries from its sorted packed keys (bucket, quantised
    strength, entry), written into the given rows: the entry at each place, the rank of
    its bucket among the buckets, and per entry (by entry) the strength distance to the
    first entry beyond its window on either side in its bucket (inf: none there; the
    quantisation can shrink a distance by one quantum, hence the - 1)."""
    size = packed.size
    entry_mask = (1 << entry_bits) - 1
    q_mask = (1 << q_bits) - 1
    shift = q_bits + entry_bits
    r = 0
    for i in range(size):
        value = packed[i]
        entry[i] = value & entry_mask
        if i > 0 and value >> shift != packed[i - 1] >> shift:
            r += 1
        rank[i] = r
        delta[i] = np.inf
    g = window + 1
    for i in range(size - g):
        lo, hi = packed[i], packed[i + g]
        if lo >> shift != hi >> shift:
            continue
        gap = max(((hi >> entry_bits) & q_mask) - ((lo >> entry_bits) & q_mask) - 1, 0) * quantum
        for e in (entry[i], entry[i + g]):
            if gap < delta[e]:
                delta[e] = gap


@njit(cache=True)
def merge_lists(
    top_y: Any, top_s: Any, other_y: Any, other_s: Any, original: Any
) -> tuple[Any, Any]:
    """The kept lists of two walks of disjoint pairs, merged (each list best first)."""
    n, keep = top_y.shape
    out_y = np.full((n, keep), -1, dtype=np.int32)
    out_s = np.zeros((n, keep))
    for x in range(n):
        i = j = 0
        for k in range(keep):
            yi, yj = top_y[x, i] if i < keep else -1, other_y[x, j] if j < keep else -1
            if yi < 0 and yj < 0:
                break
            take_i = yj < 0 or (
                yi >= 0
                and (
                    top_s[x, i] > other_s[x, j]
                    or (top_s[x, i] == other_s[x, j] and original[yi] < original[yj])
                )
            )
            if take_i:
                out_y[x, k], out_s[x, k] = yi, top_s[x, i]
                i += 1
            else:
                out_y[x, k], out_s[x, k] = yj, other_s[x, j]
                j += 1
    return out_y, out_s


@njit(cache=True)
def union_edges(n: int, top_y: Any, top_s: Any) -> tuple[Any, Any, Any]:
    """The edges kept by either end, once each, as (a < b, score) in pair-key order."""
    keep = top_y.shape[1]
    total = 0
    for x in range(n):
        for j in range(keep):
            if top_y[x, j] >= 0:
                total += 1
    ea = np.empty(total, dtype=np.int64)
    eb = np.empty(total, dtype=np.int64)
    es = np.empty(total)
    m = 0
    for x in range(n):
        for j in range(keep):
            y = top_y[x, j]
            if y < 0:
                break
            if y < x:  # also in y's list? then it was emitted from there
                again = False
                for i in range(keep):
                    if top_y[y, i] == x:
                        again = True
                        break
                    if top_y[y, i] < 0:
                        break
                if again:
                    continue
            ea[m] = min(x, y)
            eb[m] = max(x, y)
            es[m] = top_s[x, j]
            m += 1
    # Counting sort by a, then each a's group by b (insertion sort: groups are short).
    ptr = _group_starts(ea, m, n)
    fill = ptr[:-1].copy()
    oa = np.empty(m, dtype=np.int64)
    ob = np.empty(m, dtype=np.int64)
    os_ = np.empty(m)
    for k in range(m):
        at = fill[ea[k]]
        fill[ea[k]] += 1
        oa[at] = ea[k]
        ob[at] = eb[k]
        os_[at] = es[k]
    for x in range(n):
        for i in range(ptr[x] + 1, ptr[x + 1]):
            vb, vs = ob[i], os_[i]
            j = i
            while j > ptr[x] and ob[j - 1] > vb:
                ob[j] = ob[j - 1]
                os_[j] = os_[j - 1]
                j -= 1
            ob[j] = vb
            os_[j] = vs
    return oa, ob, os_


def compile_ahead() -> None:
    """Compile (or load from numba's cache) the walk on a tiny pool of two creators."""
    z = np.zeros(2, dtype=np.int64)
    i32 = np.arange(2, dtype=np.int32)
    top_y, top_s, *_ = kept_lists(
        2,
        0,
        2,
        np.arange(2),
        np.arange(3),
        i32,
        np.arange(2),
        1,
        1,
        np.ones((2, 2), dtype=np.uint64),
        z,
        False,
        0,
        z[:0],
        z[:0],
        np.zeros((2, 3)),
        np.ones(5),
        2.0,
        i32,
        np.arange(2),
        np.arange(2),
        np.zeros(2),
    )
    window_reach(np.arange(2), 1, np.zeros(2))
    for other in (False, True):
        group_entries(np.arange(2), 2, np.zeros((2, 2), dtype=np.int32), 1, other)
    gathered_bits(np.ones((1, 2), dtype=np.uint64), np.ones((1, 2), dtype=np.uint64), np.arange(2))
    merge_lists(top_y, top_s, top_y, top_s, np.arange(2))
    rows = np.zeros((2, 2), dtype=np.int32), np.zeros((2, 2), dtype=np.int64), np.zeros((2, 2))
    unpack_order(np.arange(2), 1, 1, 1.0, 1, rows[0][0], rows[1][0], rows[2][0])
    union_edges(2, top_y, top_s)

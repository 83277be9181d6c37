"""Maximum cardinality on the full feasible graph, proved: Edmonds' search, lazily.

The candidate graph is a subgraph of the feasible graph, and its big components are
matched by heuristics, so the matching the candidate solve hands over may miss pairs
that a maximum-cardinality matching of the full feasible graph makes. This module
finishes the job. It runs Edmonds' cardinality algorithm (alternating trees grown from
every free creator at once, odd cycles contracted into blossoms, bases kept in a
union-find) on the *full* feasible graph, whose edges it generates only around the
creators the search reaches: a creator's feasible partners are among the members of
its (tier band, language, 3-hour cell) buckets (candidates.py), checked against the
hard rules here and cached for the next phase.

A phase grows the forest until the queue is empty; when an even creator of one tree
meets an even creator of another, the augmenting path between the two roots is flipped
and both trees are dead for the rest of the phase (their creators are skipped; the
others' trees are untouched, so the paths found later are still augmenting). Phases
repeat until one finds no path. That last phase is a complete Edmonds search over the
full feasible graph: every even (outer) creator had all its feasible partners scanned,
so by Edmonds' theorem (equivalently, the Tutte-Berge formula with the odd creators as
the barrier) the matching has maximum cardinality. In particular every free creator is
even and had every feasible partner scanned, and none of them was free: a free one
would have been the root of another tree and the two would have been paired.

The path bookkeeping is that of the classic O(V^3) presentation (a parent pointer per
creator, rewritten around each new blossom so that walking "mate, then parent" from
any even creator leads to its root along an alternating path); only the bases use a
union-find, so contracting a blossom costs its path, not a pass over every creator.

Cost: the search scans the buckets of the creators it reaches. The candidate solve
leaves few creators free and most of them without a free partner nearby, so the
trees stay small, except where the matching really is maximum and the last phase has
to prove it around every free creator.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

UNLABELLED, EVEN, ODD = 0, 1, 2
CACHE_LIMIT = 1 << 26  # cached partner entries (512 MB); past it, generated on each scan


class Buckets(NamedTuple):
    """Bucket memberships of a shard, both ways (CSR): each creator's buckets and each
    bucket's members."""

    creator_ptr: IntArray
    creator_bucket: IntArray
    bucket_ptr: IntArray
    bucket_member: IntArray


class SearchOutcome(NamedTuple):
    """What a search did: pairs added, phases, pair checks, whether it finished (False:
    the work budget ran out; the matching is valid but not proved maximum), and the
    labels of its last phase (EVEN creators were scanned in full)."""

    added: int
    phases: int
    checks: int
    complete: bool
    label: npt.NDArray[np.int8]


@njit(cache=True)
def _find(uf: Any, x: int) -> int:
    r = x
    while uf[r] != r:
        r = uf[r]
    while uf[x] != r:
        nxt = uf[x]
        uf[x] = r
        x = nxt
    return r


@njit(cache=True)
def _base(uf: Any, basev: Any, x: int) -> int:
    return int(basev[_find(uf, x)])


@njit(cache=True)
def _union(uf: Any, size: Any, basev: Any, x: int, b: int) -> None:
    """Merge x's set into b's; the merged set's base is b's base."""
    rx = _find(uf, x)
    rb = _find(uf, b)
    if rx == rb:
        return
    keep = basev[rb]
    if size[rx] > size[rb]:
        rx, rb = rb, rx
    uf[rx] = rb
    size[rb] += size[rx]
    basev[rb] = keep


@njit(cache=True)
def _flip(v: int, mate: Any, parent: Any) -> None:
    """Flip the alternating path from even creator v to its root (v ends up free)."""
    w = mate[v]
    while w >= 0:
        pw = parent[w]
        ppw = mate[pw]
        mate[w] = pw
        mate[pw] = w
        w = ppw


@njit(cache=True)
def _expand(
    x: int,
    n: int,
    creator_ptr: Any,
    creator_bucket: Any,
    bucket_ptr: Any,
    bucket_member: Any,
    starts: Any,
    tier: Any,
    max_distance: int,
    check_tier: bool,
    forbidden: Any,
    seen: Any,
    stamp: int,
    buf: Any,
    used: int,
) -> tuple[Any, int, int]:
    """Append x's feasible partners to buf (`stamp`: unique per call, marks the
    creators already looked at); returns (buf, used, pairs checked)."""
    checks = 0
    words = starts.shape[0]
    for e in range(creator_ptr[x], creator_ptr[x + 1]):
        bk = creator_bucket[e]
        for t in range(bucket_ptr[bk], bucket_ptr[bk + 1]):
            y = bucket_member[t]
            if y == x or seen[y] == stamp:
                continue
            seen[y] = stamp
            checks += 1
            if check_tier and abs(tier[x] - tier[y]) > max_distance:
                continue
            shared = False
            for k in range(words):
                if starts[k, x] & starts[k, y]:
                    shared = True
                    break
            if not shared:
                continue
            if forbidden.size:
                key = min(x, y) * n + max(x, y)
                pos = np.searchsorted(forbidden, key)
                if pos < forbidden.size and forbidden[pos] == key:
                    continue
            if used == buf.size:
                bigger = np.empty(2 * buf.size, dtype=np.int64)
                bigger[:used] = buf[:used]
                buf = bigger
            buf[used] = y
            used += 1
    return buf, used, checks


@njit(cache=True)
def _search(
    n: int,
    mate: Any,
    eligible: Any,
    lazy: bool,
    adj_ptr: Any,
    adj_dst: Any,
    creator_ptr: Any,
    creator_bucket: Any,
    bucket_ptr: Any,
    bucket_member: Any,
    starts: Any,
    tier: Any,
    max_distance: int,
    check_tier: bool,
    forbidden: Any,
    budget: int,
    cache_limit: int,
) -> tuple[int, int, int, bool, Any]:
    """Phases of the multi-tree Edmonds search (module docstring), `mate` in place.

    Not lazy: the adjacency is the CSR (adj_ptr, adj_dst). Lazy: each creator's feasible
    partners are generated from the buckets the first time it is scanned, then cached.
    """
    nb_start = np.zeros(n, dtype=np.int64)
    nb_len = np.full(n, -1, dtype=np.int64)
    if lazy:
        buf = np.empty(max(1024, 4 * n), dtype=np.int64)
        used = 0
    else:
        buf = adj_dst.copy()
        used = buf.size
        for v in range(n):
            nb_start[v] = adj_ptr[v]
            nb_len[v] = adj_ptr[v + 1] - adj_ptr[v]
    seen = np.zeros(n, dtype=np.int64)
    label = np.zeros(n, dtype=np.int8)
    parent = np.full(n, -1, dtype=np.int64)
    root = np.full(n, -1, dtype=np.int64)
    uf = np.arange(n)
    basev = np.arange(n)
    size = np.ones(n, dtype=np.int64)
    dead = np.zeros(n, dtype=np.bool_)
    mark = np.zeros(n, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    path = np.empty(2 * n + 2, dtype=np.int64)
    stamp = 0
    expansions = 0
    added = 0
    phases = 0
    work = 0
    while True:
        phases += 1
        for v in range(n):
            label[v] = UNLABELLED
            parent[v] = -1
            root[v] = -1
            uf[v] = v
            basev[v] = v
            size[v] = 1
            dead[v] = False
        head = 0
        tail = 0
        for v in range(n):
            if eligible[v] and mate[v] < 0:
                label[v] = EVEN
                root[v] = v
                queue[tail] = v
                tail += 1
        found = 0
        while head < tail:
            x = queue[head]
            head += 1
            if dead[root[x]]:
                continue
            if nb_len[x] < 0:
                start = used
                expansions += 1
                buf, end, checks = _expand(
                    x,
                    n,
                    creator_ptr,
                    creator_bucket,
                    bucket_ptr,
                    bucket_member,
                    starts,
                    tier,
                    max_distance,
                    check_tier,
                    forbidden,
                    seen,
                    expansions,
                    buf,
                    used,
                )
                work += checks
                s = start
                count = end - start
                if end <= cache_limit:  # kept for the next phases
                    nb_start[x] = start
                    nb_len[x] = count
                    used = end
                # else: read once from the scratch space past `used`, generated again
            else:
                s = nb_start[x]
                count = nb_len[x]
            work += count
            if work > budget:
                return added, phases, work, False, label
            for k in range(count):
                y = buf[s + k]
                ly = label[y]
                if ly == UNLABELLED:
                    z = mate[y]
                    if z < 0:  # cannot happen (free creators are roots); pair them anyway
                        _flip(x, mate, parent)
                        mate[x] = y
                        mate[y] = x
                        dead[root[x]] = True
                        label[y] = EVEN
                        root[y] = root[x]
                        dead[y] = True
                        found += 1
                        break
                    label[y] = ODD
                    parent[y] = x
                    root[y] = root[x]
                    label[z] = EVEN
                    root[z] = root[x]
                    queue[tail] = z
                    tail += 1
                elif ly == EVEN:
                    ry = root[y]
                    rx = root[x]
                    if dead[ry]:
                        continue
                    if ry != rx:  # an augmenting path between two trees
                        _flip(x, mate, parent)
                        _flip(y, mate, parent)
                        mate[x] = y
                        mate[y] = x
                        dead[rx] = True
                        dead[ry] = True
                        found += 1
                        break
                    bx = _base(uf, basev, x)
                    by = _base(uf, basev, y)
                    if bx == by:
                        continue
                    # A blossom: its base is the lowest common base of x and y.
                    stamp += 1
                    a = bx
                    while True:
                        a = _base(uf, basev, a)
                        mark[a] = stamp
                        if mate[a] < 0:
                            break
                        a = parent[mate[a]]
                    b = by
                    while True:
                        b = _base(uf, basev, b)
                        if mark[b] == stamp:
                            break
                        b = parent[mate[b]]
                    # Rewrite the parents along both sides (old bases), then merge.
                    filled = 0
                    for side in range(2):
                        v = x if side == 0 else y
                        child = y if side == 0 else x
                        while _base(uf, basev, v) != b:
                            parent[v] = child
                            child = mate[v]
                            path[filled] = v
                            path[filled + 1] = child
                            filled += 2
                            if label[child] == ODD:
                                label[child] = EVEN
                                queue[tail] = child
                                tail += 1
                            v = parent[child]
                    for t in range(filled):
                        _union(uf, size, basev, path[t], b)
                    basev[_find(uf, b)] = b
        added += found
        if found == 0:
            return added, phases, work, True, label


@njit(cache=True)
def _neighbour_barrier(
    n: int,
    mate: Any,
    eligible: Any,
    creator_ptr: Any,
    creator_bucket: Any,
    bucket_ptr: Any,
    bucket_member: Any,
    starts: Any,
    tier: Any,
    max_distance: int,
    check_tier: bool,
    forbidden: Any,
    budget: int,
) -> tuple[int, int]:
    """The lower of two bounds on any matching of the feasible graph (`barrier_proves`
    says why they hold), and the pair checks it took; (-1, checks) when those passed
    `budget`: |S| + floor(|R| / 2), with S the feasible partners of the free eligible
    creators F and R the eligible creators in neither S nor F, and floor(|V - L| / 2)
    with V the eligible creators and L the free ones without any feasible partner."""
    seen = np.zeros(n, dtype=np.int64)
    in_s = np.zeros(n, dtype=np.bool_)
    buf = np.empty(1024, dtype=np.int64)
    work = 0
    stamp = 0
    lonely = 0  # free creators without any feasible partner
    for x in range(n):
        if not eligible[x] or mate[x] >= 0:
            continue
        stamp += 1
        buf, used, checks = _expand(
            x,
            n,
            creator_ptr,
            creator_bucket,
            bucket_ptr,
            bucket_member,
            starts,
            tier,
            max_distance,
            check_tier,
            forbidden,
            seen,
            stamp,
            buf,
            0,
        )
        work += checks + used
        if work > budget:
            return -1, work
        if used == 0:
            lonely += 1
        for k in range(used):
            in_s[buf[k]] = True
    size_s = 0
    size_r = 0
    size_v = 0
    for x in range(n):
        if not eligible[x]:
            continue
        size_v += 1
        if in_s[x]:
            size_s += 1
        elif mate[x] >= 0:
            size_r += 1
    return min(size_s + size_r // 2, (size_v - lonely) // 2), work


def barrier_proves(
    n: int,
    mate: IntArray,
    eligible: BoolArray,
    buckets: Buckets,
    starts: npt.NDArray[np.uint64],
    tier: IntArray,
    max_distance: int,
    check_tier: bool,
    forbidden: IntArray,
    budget: int,
) -> tuple[bool, int]:
    """Whether a short argument proves `mate` a maximum-cardinality matching of the
    full feasible graph, and the pair checks it took: the first step of the search's
    proof, often its last.

    Let F be the free eligible creators, S their feasible partners (their buckets
    scanned) and R the other eligible creators, matched and outside S. Every pair of a
    matching either has an end in S (at most |S| such pairs) or lies outside S: a
    creator of F has no partner outside S, so such a pair lies inside R (at most
    floor(|R| / 2)). So no matching has more than |S| + floor(|R| / 2) pairs; nor more
    than floor(|V - L| / 2), V the eligible creators and L those of F without any
    feasible partner (no pair touches L). When `mate` has as many pairs as the lower
    bound it is maximum, and then no free creator has a free feasible partner (that
    pair would make one more). The search (`augment_on_feasible`) would scan every
    creator its trees reach to say the same, on a dense shard the whole shard: the
    million-creator demo pool has a 6,326-creator shard whose free creators are one
    without any partner and the odd one out of the other 6,325 (the second bound), which
    took the search 48.7 million pair visits (1.3 s) and these scans some thousands.
    """
    if n == 0:
        return True, 0
    matched = eligible & (mate >= 0)
    rows = np.flatnonzero(matched)
    if not np.all(eligible[mate[rows]]):
        return False, 0  # a pair with a creator outside the graph: not this argument
    bound, work = _neighbour_barrier(
        n,
        mate,
        eligible,
        *buckets,
        np.ascontiguousarray(starts),
        np.ascontiguousarray(tier, dtype=np.int64),
        max_distance,
        check_tier,
        np.ascontiguousarray(forbidden, dtype=np.int64),
        budget,
    )
    return bound >= 0 and rows.size // 2 == bound, work


def bucket_index(creator: IntArray, bucket: IntArray, n: int) -> Buckets:
    """Both CSR directions of the (creator, bucket) memberships."""
    if creator.size == 0:
        z = np.zeros(1, dtype=np.int64)
        return Buckets(np.zeros(n + 1, dtype=np.int64), z[:0], z, z[:0])
    _, compact = np.unique(bucket, return_inverse=True)
    compact = compact.astype(np.int64).reshape(-1)
    count = int(compact.max()) + 1
    by_bucket = np.argsort(compact, kind="stable")
    bucket_ptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(compact, minlength=count), out=bucket_ptr[1:])
    by_creator = np.argsort(creator, kind="stable")
    creator_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(creator, minlength=n), out=creator_ptr[1:])
    return Buckets(
        creator_ptr,
        compact[by_creator],
        bucket_ptr,
        creator[by_bucket].astype(np.int64),
    )


def csr(n: int, a: IntArray, b: IntArray) -> tuple[IntArray, IntArray]:
    """CSR adjacency (both directions) of an edge list, neighbours in edge order."""
    src = np.concatenate([a, b]).astype(np.int64)
    dst = np.concatenate([b, a]).astype(np.int64)
    order = np.argsort(src, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=ptr[1:])
    return ptr, dst[order]


_NO_BUCKETS = Buckets(
    np.zeros(1, dtype=np.int64),
    np.zeros(0, dtype=np.int64),
    np.zeros(1, dtype=np.int64),
    np.zeros(0, dtype=np.int64),
)


def augment_on_edges(
    n: int, a: IntArray, b: IntArray, mate: IntArray, eligible: BoolArray, budget: int
) -> SearchOutcome:
    """Maximum cardinality on the graph of edges (a, b), from `mate` (in place)."""
    ptr, dst = csr(n, a, b)
    buckets = Buckets(np.zeros(n + 1, dtype=np.int64), *_NO_BUCKETS[1:])
    return SearchOutcome(
        *_search(
            n,
            mate,
            eligible,
            False,
            ptr,
            dst,
            *buckets,
            np.zeros((1, n), dtype=np.uint64),
            np.zeros(n, dtype=np.int64),
            0,
            False,
            np.zeros(0, dtype=np.int64),
            budget,
            0,
        )
    )


def augment_on_feasible(
    n: int,
    mate: IntArray,
    eligible: BoolArray,
    buckets: Buckets,
    starts: npt.NDArray[np.uint64],
    tier: IntArray,
    max_distance: int,
    check_tier: bool,
    forbidden: IntArray,
    budget: int,
    cache_limit: int = CACHE_LIMIT,
) -> SearchOutcome:
    """Maximum cardinality on the full feasible graph (generated from the buckets),
    from `mate` (in place). Members of a bucket must share its language (when one is
    required), be active and share the tier band unless `check_tier`. At most
    `cache_limit` partner entries are kept between phases; past it a creator's partners
    are generated again each time it is scanned (same result, bounded memory). When
    `barrier_proves` shows the matching maximum already, the search is not run (it would
    add nothing): the outcome is complete, with no phase and every creator unlabelled."""
    proved, checks = barrier_proves(
        n, mate, eligible, buckets, starts, tier, max_distance, check_tier, forbidden, budget
    )
    if proved:
        return SearchOutcome(0, 0, checks, True, np.zeros(n, dtype=np.int8))
    budget -= checks
    z = np.zeros(n + 1, dtype=np.int64)
    return SearchOutcome(
        *_search(
            n,
            mate,
            eligible,
            True,
            z,
            z[:0],
            *buckets,
            np.ascontiguousarray(starts),
            np.ascontiguousarray(tier, dtype=np.int64),
            max_distance,
            check_tier,
            np.ascontiguousarray(forbidden, dtype=np.int64),
            budget,
            cache_limit,
        )
    )

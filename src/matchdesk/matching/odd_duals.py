"""Small shards solved on their full feasible graph: one exact run for the matching and
the certificate, and the odd-set duals of that graph.

The matching polytope's dual (Edmonds): values y >= 0 and odd sets B with z_B >= 0 such
that y_u + y_v + (the sum of z_B over the sets holding both u and v) >= w_uv for every
feasible pair bound every matching M of the feasible graph by
sum y + sum_B z_B floor(|B| / 2): M's weight is the sum over its pairs of w_uv, each at
most y_u + y_v + the z of the sets holding both; every vertex is in at most one pair,
and a set B holds at most floor(|B| / 2) pairs of M. The LP bound of certificate.py has
no odd sets and cannot go below the LP optimum (a triangle of good pairs is 1.5 pairs to
it, 1 to any matching): 0.27 to 0.38% above the exact optimum on 3,000-creator pools.

A shard whose feasible graph is small enough to list (`list_pairs`: every feasible pair
shares a bucket, candidates.py, so the distinct pairs of every bucket's members, scored
with the hard rules, are all of them) is used two ways:

- A shard of at most `SolverOptions.exhaustive_limit` creators (as small as an exhaustive
  pool; the solver's `_exact_shard`) skips the candidate search and the candidate
  matching: `exact_solve` runs blossom.blossom_duals ONCE with the cardinality shift on
  the integer weights rint(w * SCALE) of the whole listed graph. Its matching has maximum
  cardinality (proved by the duals' value, blossom.cardinality_proved) and then the
  greatest integer weight (the matching exact_matching would give on that graph), and
  its duals bound every matching with as many pairs: the exact optimum among the
  maximum-cardinality matchings, up to the rounding margin of 0.5 / SCALE per pair
  (`exact_solve` proves it). That is the engine's objective (cardinality first); the
  bound does not cover a heavier matching with fewer pairs, so the pool's upper bound
  holds for every maximum-cardinality matching of the pool (the other shards' bounds
  hold for every matching, so for those too, and a maximum-cardinality matching of the
  pool is one of every shard, no pair crossing them). On the 3,000-creator demo pools
  (seeds 0 to 3) every shard but the biggest goes this way: their matching was already
  exact on candidates, and the second run of the certificate is gone.
- A bigger shard whose buckets hold at most EXACT_VISITS pairs keeps its candidate
  path, and its certificate is `exact_shard_bound`: blossom_duals without the shift,
  optimal duals (y, z) of the maximum-weight matching of the listed graph on the
  integers, whose value is that matching's weight; the real scores are at most
  0.5 / SCALE above the integers, so y / SCALE + 0.25 / SCALE per creator and z / SCALE
  cover every feasible pair: the bound is the optimum on the integers plus n / (4 SCALE)
  (a few millionths of a score per creator), for every matching.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from matchdesk.matching.certificate import _Pricing, _score
from matchdesk.matching.exact import SCALE
from matchdesk.matching.prepare import PoolArrays

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Pairs the buckets may hold (with repeats: the visits of `list_pairs`) for a shard to be
# listed whole: the exact solve of a small shard, or the exact certificate of a bigger
# one; above it the candidates and the priced LP bound of certificate.py. The
# 3,000-creator demo pools' biggest shard (1,759 creators) holds 438,787, its
# 577-creator one 49,795; the biggest of the 100,000 pool 5.1e8. Measured on the 3,000
# pools (seeds 0 to 3, load 6 to 8, best of 3, beside the LP bound in one process): at
# 100,000 the bound phase takes 0.049 to 0.115 s against the LP bound's 0.037 to 0.078 s
# and the bound falls from 0.27-0.38% to 0.067-0.133% above the engine; at 500,000 (the
# biggest shard exact too) to 0.003-0.023%, but the bound phase takes 0.36 to 0.96 s (the
# blossom on the 139,040 feasible pairs of the biggest shard), more than the rest of the
# solve.
EXACT_VISITS = 100_000
# Listed graphs with fewer pairs are solved by the blossom started cold: measured on the
# 3,000-creator pools' shards (load 6), up to about 30 creators and 300 pairs the cold
# start takes 0.02 to 0.2 ms where the LP start's fixed cost makes it 0.15 to 0.3 ms; at
# 400 to 500 pairs they are even, above it the LP start wins (1,500 pairs: 0.9 against
# 2.7 ms).
COLD_BELOW = 300


@njit(cache=True)
def _distinct_pairs(
    n: int,
    creator: Any,
    bucket: Any,
    n_buckets: int,
    limit: int,
    starts: Any,
    evening: Any,
    log_revenue: Any,
    log_followers: Any,
    fair: Any,
    tier: Any,
    max_distance: int,
    check_tier: bool,
    forbidden: Any,
    met: Any,
    weight: Any,
    span: float,
) -> Any:
    """The distinct pairs the buckets hold, each checked and scored once: the feasible
    ones (a < b, in key order) with their scores, each creator's best score (-inf: no
    feasible partner), the pairs checked, and the pairs the buckets hold with repeats
    (`visits`; count -1 and nothing listed when that is above `limit`).

    Each creator i walks the members of its buckets and keeps the partners j > i not
    seen yet (a stamp per partner), so a pair that shares several buckets is scored
    once; then its feasible partners are put in order."""
    bucket_ptr = np.zeros(n_buckets + 1, dtype=np.int64)
    creator_ptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(creator.size):
        bucket_ptr[bucket[e] + 1] += 1
        creator_ptr[creator[e] + 1] += 1
    visits = 0
    for bk in range(n_buckets):
        size = bucket_ptr[bk + 1]
        visits += size * (size - 1) // 2
        bucket_ptr[bk + 1] += bucket_ptr[bk]
    best = np.full(n, -np.inf)
    if visits > limit:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), best, 0, -1
    for i in range(n):
        creator_ptr[i + 1] += creator_ptr[i]
    member = np.empty(creator.size, dtype=np.int64)
    buckets_of = np.empty(creator.size, dtype=np.int64)
    fill_b = bucket_ptr[:-1].copy()
    fill_c = creator_ptr[:-1].copy()
    for e in range(creator.size):
        member[fill_b[bucket[e]]] = creator[e]
        fill_b[bucket[e]] += 1
        buckets_of[fill_c[creator[e]]] = bucket[e]
        fill_c[creator[e]] += 1
    out_a = np.empty(visits, dtype=np.int64)
    out_b = np.empty(visits, dtype=np.int64)
    out_w = np.empty(visits)
    seen = np.full(n, -1, dtype=np.int64)
    part = np.empty(n, dtype=np.int64)
    part_w = np.empty(n)
    count = 0
    checked = 0
    for i in range(n):
        found = 0
        for q in range(creator_ptr[i], creator_ptr[i + 1]):
            bk = buckets_of[q]
            for p in range(bucket_ptr[bk], bucket_ptr[bk + 1]):
                j = member[p]
                if j <= i or seen[j] == i:
                    continue
                seen[j] = i
                checked += 1
                w = _score(
                    i,
                    j,
                    n,
                    starts,
                    evening,
                    log_revenue,
                    log_followers,
                    fair,
                    tier,
                    max_distance,
                    check_tier,
                    forbidden,
                    met,
                    weight,
                    span,
                )
                if w >= 0:
                    part[found] = j
                    part_w[found] = w
                    found += 1
        if found:
            order = np.argsort(part[:found])
            for t in range(found):
                j = part[order[t]]
                w = part_w[order[t]]
                out_a[count] = i
                out_b[count] = j
                out_w[count] = w
                count += 1
                if w > best[i]:
                    best[i] = w
                if w > best[j]:
                    best[j] = w
    return out_a[:count], out_b[:count], out_w[:count], best, checked, visits


@dataclass(frozen=True, eq=False)
class Listed:
    """Every feasible pair of a shard (a < b, key order) with its score, listed through
    its buckets: each creator's best score (-inf: no feasible partner), the distinct
    pairs checked against the hard rules."""

    n: int
    a: IntArray
    b: IntArray
    score: FloatArray
    best: FloatArray
    checked: int


def list_pairs(shard: PoolArrays, limit: int) -> Listed | None:
    """The shard's full feasible graph (`Listed`), or None when its buckets hold more
    than `limit` pairs (with repeats). Every feasible pair shares a bucket (tier band,
    language, 3-hour cell: candidates.py), so these are all of them."""
    from matchdesk.matching.candidates import candidate_entries

    n = shard.n
    creator, bucket, n_buckets = candidate_entries(shard)
    w = shard.weights
    rules = shard.rules
    a, b, score, best, checked, visits = _distinct_pairs(
        n,
        creator,
        bucket,
        n_buckets,
        limit,
        np.ascontiguousarray(shard.starts),
        np.ascontiguousarray(shard.evening),
        shard.log_revenue,
        shard.log_followers,
        shard.fair,
        np.ascontiguousarray(shard.tier, dtype=np.int64),
        rules.max_tier_distance,
        rules.max_tier_distance > 0,
        np.ascontiguousarray(shard.forbidden, dtype=np.int64),
        np.ascontiguousarray(shard.met, dtype=np.int64),
        np.array([w.revenue, w.audience, w.slot, w.novelty, w.fairness]),
        float(w.strength_span_decades),
    )
    if visits < 0:
        return None
    return Listed(n, a, b, score, best, int(checked))


@dataclass(frozen=True, eq=False)
class Solved:
    """One exact solve of a listed graph: the mates (-1 free) of a maximum-cardinality
    matching of greatest weight on the integers rint(w * SCALE), an upper bound on the
    weight of every matching with as many pairs (`exact_solve`), whether its maximum
    cardinality is proved by the duals, and the graph's connected components (with a
    pair)."""

    mate: IntArray
    bound: float
    proved: bool
    components: int


def exact_solve(listed: Listed) -> Solved:
    """The matching and the certificate of a listed shard from ONE blossom run:
    blossom.blossom_duals(max_cardinality=True) on the integer weights
    W = rint(w * SCALE) of every feasible pair (on the creators that have one).

    The matching M has maximum cardinality (proved by the duals: bound < shift,
    blossom.cardinality_proved) and the greatest integer weight among those; from
    COLD_BELOW pairs on it is the matching blossom_mates (exact_matching) gives on that
    graph, below it the blossom starts cold (as fast there, without the LP's fixed
    cost). The bound: every matching M' with at least |M| pairs (so every
    maximum-cardinality one) has W(M') <= D - shift |M| (blossom_duals, weak duality on
    the raised weights), and each real score is at most 0.5 / SCALE above its integer
    (rounding), so
    w(M') <= (W(M') + 0.5 |M'|) / SCALE <= (D - (shift - 0.5) |M'|) / SCALE
    <= (D - shift |M| + 0.5 |M|) / SCALE (shift > 0.5, |M'| >= |M|) = `bound` (plus
    1e-12 per pair for the float products): at most |M| / (2 SCALE) above the exact
    optimum among the maximum-cardinality matchings, which is what the engine
    maximises (cardinality first). Unlike the max-weight bound (blossom_duals without
    the shift) it does not cover heavier matchings with fewer pairs."""
    from matchdesk.matching.blossom import blossom_duals, cardinality_proved
    from matchdesk.matching.regions import label_components

    n = listed.n
    mate = np.full(n, -1, dtype=np.int64)
    if listed.a.size == 0:
        return Solved(mate, 0.0, True, 0)
    used = np.zeros(n, dtype=np.bool_)
    used[listed.a] = True
    used[listed.b] = True
    nodes = np.flatnonzero(used)
    local = np.cumsum(used) - 1  # creator -> its place among `nodes`
    la, lb = local[listed.a], local[listed.b]
    weights = np.rint(listed.score * SCALE).astype(np.int64)
    warm = listed.a.size >= COLD_BELOW
    duals = blossom_duals(nodes.size, la, lb, weights, max_cardinality=True, warm=warm)
    paired = duals.mates >= 0
    mate[nodes[paired]] = nodes[duals.mates[paired]]
    pairs = int(np.count_nonzero(paired)) // 2
    bound = (duals.bound + (0.5 + 1e-6) * pairs) / SCALE
    components, _ = label_components(nodes.size, la, lb)  # every node has a pair
    return Solved(mate, bound, cardinality_proved(duals), components)


def full_pairs(
    shard: PoolArrays, limit: int, pricing: _Pricing | None = None
) -> tuple[IntArray, IntArray, FloatArray] | None:
    """Every feasible pair (a < b, key order) of the shard with its score (`list_pairs`),
    or None when the buckets hold more than `limit` pairs to visit. `pricing` is not
    needed (the buckets are counted from the shard's entries) and is ignored."""
    del pricing
    listed = list_pairs(shard, limit)
    if listed is None:
        return None
    return listed.a, listed.b, listed.score


def odd_set_duals(
    n: int, a: IntArray, b: IntArray, w: FloatArray
) -> tuple[FloatArray, IntArray, IntArray, FloatArray]:
    """Duals (y, set_ptr, set_nodes, z) of the matching polytope covering every edge
    (a, b, w) (the module docstring: optimal for the integer weights, then widened by
    0.25 / SCALE per vertex for the rounding)."""
    from matchdesk.matching.blossom import blossom_duals

    weights = np.rint(w * SCALE).astype(np.int64)
    duals = blossom_duals(n, a, b, weights)
    y: FloatArray = duals.y / SCALE + 0.25 / SCALE + 1e-12
    z: FloatArray = duals.z / SCALE
    return y, duals.set_ptr, duals.set_nodes, z


def odd_set_value(y: FloatArray, set_ptr: IntArray, z: FloatArray) -> float:
    """sum y + sum_B z_B floor(|B| / 2): the bound the duals give."""
    return float(y.sum() + (z * (np.diff(set_ptr) // 2)).sum())


def exact_bound(n: int, a: IntArray, b: IntArray, w: FloatArray) -> float:
    """The odd-set bound of the graph (a, b, w): its maximum-weight matching's weight,
    up to the rounding margin. Valid for the shard when (a, b) are all its feasible
    pairs."""
    if a.size == 0:
        return 0.0
    y, set_ptr, _, z = odd_set_duals(n, a, b, w)
    return odd_set_value(y, set_ptr, z)


def exact_shard_bound(
    shard: PoolArrays, limit: int, pricing: _Pricing | None = None
) -> float | None:
    """The odd-set bound of the shard's full feasible graph (its exact optimum, up to
    the rounding margin), or None when its buckets hold more than `limit` pairs."""
    listed = full_pairs(shard, limit, pricing)
    if listed is None:
        return None
    return exact_bound(shard.n, *listed)


def uncovered_odd(
    a: IntArray,
    b: IntArray,
    w: FloatArray,
    y: FloatArray,
    set_ptr: IntArray,
    set_nodes: IntArray,
    z: FloatArray,
    tolerance: float = 1e-9,
) -> tuple[IntArray, IntArray, FloatArray]:
    """The pairs (a, b, w) the duals leave uncovered (y_a + y_b + the z of the sets
    holding both < w - tolerance) and their excess: the validity check of the tests
    (one pass per set: for small graphs)."""
    if np.any(y < 0) or np.any(z < 0):
        raise ValueError("duals must be >= 0")
    cover = y[a] + y[b]
    inside = np.zeros(y.size, dtype=np.bool_)
    for c in range(z.size):
        members = set_nodes[set_ptr[c] : set_ptr[c + 1]]
        inside[members] = True
        cover = cover + z[c] * (inside[a] & inside[b])
        inside[members] = False
    excess = w - cover
    bad = excess > tolerance
    return a[bad], b[bad], excess[bad]

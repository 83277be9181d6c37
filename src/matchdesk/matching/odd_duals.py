"""The exact certificate of a small shard: odd-set duals of its full feasible graph.

The matching polytope's dual (Edmonds): values y >= 0 and odd sets B with z_B >= 0 such
that y_u + y_v + (the sum of z_B over the sets holding both u and v) >= w_uv for every
feasible pair bound every matching M of the feasible graph by
sum y + sum_B z_B floor(|B| / 2): M's weight is the sum over its pairs of w_uv, each at
most y_u + y_v + the z of the sets holding both; every vertex is in at most one pair,
and a set B holds at most floor(|B| / 2) pairs of M. The LP bound of certificate.py has
no odd sets and cannot go below the LP optimum (a triangle of good pairs is 1.5 pairs to
it, 1 to any matching): 0.27 to 0.38% above the exact optimum on 3,000-creator pools.

Here, for a shard whose feasible graph is small enough to list (`full_pairs`: every
feasible pair shares a bucket, certificate.py, so the pairs of every bucket's members,
scored with the hard rules, are all of them), blossom.blossom_duals gives optimal duals
(y, z) of the maximum-weight matching of that graph on integer weights
rint(w * SCALE): their value is that matching's weight, the exact optimum. The real
scores are at most 0.5 / SCALE above the integers, so y / SCALE + 0.25 / SCALE per
creator and z / SCALE cover every feasible pair: the bound is the optimum on the
integers plus n / (4 SCALE) (a few millionths of a score per creator).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from matchdesk.matching.certificate import (
    _bucket_members,
    _entries_with_cell,
    _Pricing,
    _score,
)
from matchdesk.matching.exact import SCALE
from matchdesk.matching.prepare import PoolArrays

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Pairs the buckets may hold (visits of `full_pairs`) for the exact certificate; above it
# the priced LP bound of certificate.py. The 3,000-creator demo pools' biggest shard
# (1,759 creators) holds 438,787, its 577-creator one 49,795; the biggest of the 100,000
# pool 5.1e8. Measured on the 3,000 pools (seeds 0 to 3, load 6 to 8, best of 3, beside
# the LP bound in one process): at 100,000 the bound phase takes 0.049 to 0.115 s against
# the LP bound's 0.037 to 0.078 s and the bound falls from 0.27-0.38% to 0.067-0.133%
# above the engine; at 500,000 (the biggest shard exact too) to 0.003-0.023%, but the
# bound phase takes 0.36 to 0.96 s (the blossom on the 139,040 feasible pairs of the
# biggest shard), more than the rest of the solve.
EXACT_VISITS = 100_000


@njit(cache=True)
def _list_pairs(
    n: int,
    bucket_ptr: Any,
    member: Any,
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
    """Keys (min * n + max) and scores of the feasible pairs of every bucket (a pair in
    several buckets comes once per bucket), or count -1 once more than `limit` pairs
    would be visited."""
    visits = 0
    for bk in range(bucket_ptr.size - 1):
        size = bucket_ptr[bk + 1] - bucket_ptr[bk]
        visits += size * (size - 1) // 2
    if visits > limit:
        return np.zeros(0, dtype=np.int64), np.zeros(0), -1
    keys = np.empty(visits, dtype=np.int64)
    scores = np.empty(visits)
    count = 0
    for bk in range(bucket_ptr.size - 1):
        lo, hi = bucket_ptr[bk], bucket_ptr[bk + 1]
        for p in range(lo, hi):
            i = member[p]
            for q in range(p + 1, hi):
                j = member[q]
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
                    keys[count] = min(i, j) * n + max(i, j)
                    scores[count] = w
                    count += 1
    return keys[:count], scores[:count], count


def full_pairs(
    shard: PoolArrays, limit: int, pricing: _Pricing | None = None
) -> tuple[IntArray, IntArray, FloatArray] | None:
    """Every feasible pair (a < b) of the shard with its score, listed through the
    buckets, or None when the buckets hold more than `limit` pairs to visit. `pricing`:
    the shard's bucket systems when the caller has them (certificate._Pricing)."""
    n = shard.n
    if pricing is not None:
        creator = pricing.entries[0]
        _, ptr, member = pricing.systems[1]  # every membership (the sigma 1/2 system)
        sizes = np.diff(ptr)
    else:
        creator, bucket, _ = _entries_with_cell(shard)
        sizes = np.bincount(bucket) if creator.size else np.zeros(0, dtype=np.int64)
    if creator.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    if int((sizes * (sizes - 1) // 2).sum()) > limit:  # before any sort: a big shard
        return None
    if pricing is None:
        ptr, member = _bucket_members(creator, bucket, shard.log_revenue)
    w = shard.weights
    rules = shard.rules
    keys, scores, count = _list_pairs(
        n,
        ptr,
        member,
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
    if count < 0:
        return None
    keys, first = np.unique(keys, return_index=True)
    return keys // n, keys % n, scores[first]


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

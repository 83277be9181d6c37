"""A tight upper bound on the best matching of a shard's full feasible graph.

Weak LP duality, as in bounds.py: values y_i >= 0 with y_i + y_j >= w_ij for every
feasible pair (i, j) bound the weight of every matching of the full feasible graph by
sum_i y_i (a matching's weight is the sum of w_ij over its pairs, each at most
y_i + y_j, and every creator is in at most one pair).

The values are built in two steps, each keeping every constraint it has covered:

1. The candidate graph. Each candidate component gets near-optimal duals of its
   matching LP without odd sets, from the prices of an auction on the bipartite double
   cover (lp.auction; `_lp_values` proves that any prices give values that cover every
   candidate edge, and the auction's are within n * eps of the LP optimum).

2. Pricing, over every other feasible pair. Any feasible pair shares a bucket (tier band,
   language, 3-hour cell, candidates.py); a pair whose match is in both creators' evening
   shares an *evening* bucket (both can start there in their evening). The score of a pair
   is at most R s_r + A s_a + S sigma + N + F (f_i + f_j) / 2 with s_r, s_a its strength
   similarities and sigma its slot part, so with c_k = (S sigma + N + F f_k) / 2 and
   d_k = y_k - c_k a pair can violate y_i + y_j >= w_ij only if R s_r + A s_a > d_i + d_j.
   Evening buckets are scanned with sigma = 1, all buckets with sigma = 1/2 (a pair
   whose slot part is 1 is in an evening bucket, so it is scanned there). In a bucket
   sorted by revenue, a creator with d below the bucket's threshold theta is checked
   against every member; two creators at or above it only while R s_r + A > d_i + theta
   (s_r falls as the revenue gap grows, so the scan stops there) and, inside that,
   only if R s_r + A s_a > d_i + d_j. Every pair that can violate is thus scored
   exactly, and a violated one raises both creators by half its excess: afterwards
   y_i + y_j >= w_ij holds for it, and raising never breaks a constraint.

3. Column generation: the violated pairs the pricing found join the candidate edges,
   the duals are solved again and priced again (ROUNDS in all); every round's raised
   values are a bound, and so is y plus the LP duals of the graph of the violated pairs
   weighted by their excess (a cover of the excesses, where half of each excess on both
   ends is the crude one), when every violated pair was recorded (`_covered`); the
   lowest is kept. Measured before that cover on the 100,000-creator demo pool:
   one round 1.24% above the engine's weight, two 0.56% (the default; quantile 0.03),
   eight 0.45% (the raises, half an excess to each end, are what is left); on
   synthetic pools of 150, 300 and 500 creators 1.5%, 0.55% and 0.17% above the exact
   optimum (bounds.py: 4 to 5%). SolverOptions.certificate_work limits the work.
   What the LP cannot see is the odd-set part (a triangle of good pairs is worth 1.5
   pairs to it): on small pools that is most of the gap.

If the pricing's work budget runs out, the shard falls back to the fitted bound of
bounds.py with its floors (valid, looser); the solver keeps the lower of the two.
The result is a valid bound in every case; the tests compare it with the exact
optimum of the full feasible graph (rustworkx).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from matchdesk.matching.candidates import Candidates
from matchdesk.matching.exact import SCALE
from matchdesk.matching.lp import _cover_rows, auction
from matchdesk.matching.prepare import PoolArrays
from matchdesk.matching.regions import Pieces, label_components

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

EPS_START = 100_000  # auction steps, in profit units (1 / SCALE of a score)
EPS_FINAL = 10
EPS_FACTOR = 6
ROUNDS = 2  # pricing rounds (column generation)
VISITS_PER_CREATOR = 2000  # a round's pricing visits per creator, as measured (see shard_bound)
VIOLATED_PER_CREATOR = 4  # violated pairs kept per round, per creator of the shard
SLACK = 1e-12


def _lp_values(nodes: IntArray, a: IntArray, b: IntArray, w: FloatArray) -> FloatArray:
    """Near-optimal duals of the matching LP of edges (a, b, w) among `nodes` (sorted),
    as values with y_i + y_j >= w_ij on every edge and y >= 0.

    The matching LP without odd sets is half the assignment LP of the double cover
    (lp.py): row i, column j, profit p_ij for every edge both ways and 0 for i, i. For
    ANY column prices v, u_i = max_j (p_ij - v_j) and v are feasible for the
    assignment's dual (u_i + v_j >= p_ij), so y_i = (u_i + v_i) / 2 gives y_i + y_j =
    (u_i + v_j + u_j + v_i) / 2 >= (p_ij + p_ji) / 2 = p_ij and y_i >= (0 - v_i + v_i) / 2
    = 0. The auction's prices make that sum within n * eps of the LP optimum. Profits are
    rint(w * SCALE), at most 0.5 / SCALE below w, hence the 0.25 / SCALE per creator.
    """
    la, lb = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    profit = np.rint(w * SCALE).astype(np.int64)
    ptr, col, gain = _cover_rows(nodes.size, la, lb, profit)
    u, v, _ = auction(nodes.size, ptr, col, gain, EPS_START, EPS_FINAL, EPS_FACTOR)
    values: FloatArray = (u + v) / (2.0 * SCALE) + 0.25 / SCALE + SLACK
    return values


def candidate_duals(n: int, a: IntArray, b: IntArray, w: FloatArray) -> FloatArray:
    """Values y >= 0 covering every candidate edge: each candidate component's LP
    duals (step 1 of the module docstring)."""
    y = np.zeros(n)
    if a.size == 0:
        return y
    count, labels = label_components(n, a, b)
    sizes = np.bincount(labels, minlength=count)
    grouped = Pieces.of(count, labels, np.arange(n), a, b, w)
    for c in np.flatnonzero(sizes >= 2).tolist():
        nodes = grouped.members(c)
        y[nodes] = _lp_values(nodes, *grouped.edges(c))
    return y


@njit(cache=True)
def _score(
    i: int,
    j: int,
    n: int,
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
) -> float:
    """The score of pair (i, j), or -1 when it is not feasible (as scoring.py)."""
    if check_tier and abs(tier[i] - tier[j]) > max_distance:
        return -1.0
    shared = False
    both = False
    one = False
    for k in range(starts.shape[0]):
        si, sj = starts[k, i], starts[k, j]
        ei, ej = evening[k, i], evening[k, j]
        if si & sj:
            shared = True
        if ei & ej:
            both = True
        if (ei & sj) | (si & ej):
            one = True
    if not shared:
        return -1.0
    key = min(i, j) * n + max(i, j)
    if forbidden.size:
        pos = np.searchsorted(forbidden, key)
        if pos < forbidden.size and forbidden[pos] == key:
            return -1.0
    novelty = 1.0
    if met.size:
        pos = np.searchsorted(met, key)
        if pos < met.size and met[pos] == key:
            novelty = 0.0
    slot = 1.0 if both else (0.5 if one else 0.0)
    revenue = max(0.0, 1.0 - abs(log_revenue[i] - log_revenue[j]) / span)
    audience = max(0.0, 1.0 - abs(log_followers[i] - log_followers[j]) / span)
    fairness = (fair[i] + fair[j]) / 2.0
    total: float = (
        weight[0] * revenue
        + weight[1] * audience
        + weight[2] * slot
        + weight[3] * novelty
        + weight[4] * fairness
    )
    return total


@njit(cache=True)
def _price(
    n: int,
    y: Any,
    raise_: Any,
    bucket_ptr: Any,
    member: Any,
    sigma: float,
    quantile: float,
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
    budget: int,
    out_i: Any,
    out_j: Any,
    out_w: Any,
    out_count: Any,
) -> tuple[int, bool]:
    """Step 2 of the module docstring over one bucket system (members of each bucket
    sorted by revenue); raises `raise_` in place and records the violated pairs in
    out_i, out_j, out_w (as many as they hold; out_count[0] counts them). Returns the
    work done and whether it finished within `budget`."""
    rw, aw = weight[0], weight[1]
    work = 0
    d = np.empty(n)
    for k in range(n):
        d[k] = y[k] - (weight[2] * sigma + weight[3] + weight[4] * fair[k]) / 2.0
    for bk in range(bucket_ptr.size - 1):
        lo, hi = bucket_ptr[bk], bucket_ptr[bk + 1]
        if hi - lo < 2:
            continue
        # theta: a low quantile of the bucket's d; members below it are "low".
        ds = np.sort(d[member[lo:hi]])
        theta = ds[min(hi - lo - 1, int(quantile * (hi - lo)))]
        for t in range(lo, hi):
            i = member[t]
            di = d[i]
            low = di < theta
            first = lo if low else t + 1
            for u in range(first, hi):
                j = member[u]
                work += 1
                if j == i:
                    continue
                dj = d[j]
                sr = max(0.0, 1.0 - abs(log_revenue[j] - log_revenue[i]) / span)
                if not low:
                    if dj < theta:
                        continue  # j is low: checked from j's side
                    if rw * sr + aw <= di + theta:
                        break
                sa = max(0.0, 1.0 - abs(log_followers[i] - log_followers[j]) / span)
                if rw * sr + aw * sa <= di + dj:
                    continue  # cannot violate (module docstring)
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
                excess = w - y[i] - y[j]
                if excess > 0:
                    c = out_count[0]
                    if c < out_i.size:
                        out_i[c] = i
                        out_j[c] = j
                        out_w[c] = w
                    out_count[0] = c + 1
                    half = excess / 2.0 + SLACK
                    if half > raise_[i]:
                        raise_[i] = half
                    if half > raise_[j]:
                        raise_[j] = half
            if work > budget:
                return work, False
    return work, True


def _bucket_members(
    creator: IntArray, bucket: IntArray, strength: FloatArray
) -> tuple[IntArray, IntArray]:
    """Bucket CSR with each bucket's members sorted by `strength`."""
    if creator.size == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    _, compact = np.unique(bucket, return_inverse=True)
    compact = compact.reshape(-1).astype(np.int64)
    order = np.lexsort((creator, strength[creator], compact))
    count = int(compact.max()) + 1
    ptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(compact, minlength=count), out=ptr[1:])
    return ptr, creator[order].astype(np.int64)


@njit(cache=True)
def _evening_cells(evening: Any, creator: Any, cell: Any, cell_size: int, grid: int) -> Any:
    out = np.zeros(creator.size, dtype=np.bool_)
    for e in range(creator.size):
        c = creator[e]
        for k in range(cell[e] * cell_size, min(grid, (cell[e] + 1) * cell_size)):
            if (evening[k >> 6, c] >> np.uint64(k & 63)) & np.uint64(1):
                out[e] = True
                break
    return out


def _evening_in_cell(shard: PoolArrays, creator: IntArray, cell: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each creator can start in its local evening somewhere in the given cell."""
    found: npt.NDArray[np.bool_] = _evening_cells(
        np.ascontiguousarray(shard.evening), creator, cell, shard.cell_size, shard.grid
    )
    return found


def shard_bound(
    shard: PoolArrays,
    cands: Candidates,
    budget: int,
    quantile: float = 0.03,
    rounds: int = ROUNDS,
) -> tuple[float, bool]:
    """The bound of the module docstring on the shard's scores, and whether the pricing
    finished within `budget` (False: the fitted bound of bounds.py is returned).

    A round costs about VISITS_PER_CREATOR pair visits per creator of the shard (1.1e8
    on the 59,718-creator shard of the 100,000-creator demo pool, 1.3 s); a shard whose
    estimate exceeds `budget` is not priced at all.

    Column generation: the violated pairs a round of pricing finds (up to
    VIOLATED_PER_CREATOR per creator) join the candidate edges and the duals are solved
    again, `rounds` times at most; each round's values, raised where its pricing found a
    violation, are a valid bound, and the lowest is returned.
    """
    from matchdesk.matching.bounds import fitted_bound

    n = shard.n
    if n * VISITS_PER_CREATOR > budget:  # a round would not finish: do not start
        return fitted_bound(cands, 0.0), False
    creator, bucket, cell = _entries_with_cell(shard)
    w = shard.weights
    weight = np.array([w.revenue, w.audience, w.slot, w.novelty, w.fairness])
    rules = shard.rules
    common = (
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
        weight,
        float(w.strength_span_decades),
    )
    evening = _evening_in_cell(shard, creator, cell)
    systems = [
        (sigma, *_bucket_members(creator[keep], bucket[keep], shard.log_revenue))
        for sigma, keep in ((1.0, evening), (0.5, np.ones(creator.size, dtype=np.bool_)))
    ]
    a, b, score = cands.a, cands.b, cands.score
    left = budget
    best = np.inf
    capacity = VIOLATED_PER_CREATOR * n
    for _ in range(rounds):
        y = candidate_duals(n, a, b, score)
        raise_ = np.zeros(n)
        out_i = np.empty(capacity, dtype=np.int64)
        out_j = np.empty(capacity, dtype=np.int64)
        out_w = np.empty(capacity)
        count = np.zeros(1, dtype=np.int64)
        for sigma, ptr, member in systems:
            work, done = _price(
                n,
                y,
                raise_,
                ptr,
                member,
                sigma,
                quantile,
                *common,
                left,
                out_i,
                out_j,
                out_w,
                count,
            )
            left -= work
            if not done:
                return (best, True) if np.isfinite(best) else (fitted_bound(cands, 0.0), False)
        total = float((y + raise_).sum())
        found = int(count[0])
        if 0 < found <= capacity:
            total = min(total, _covered(n, y, out_i[:found], out_j[:found], out_w[:found]))
        best = min(best, total)
        found = min(found, capacity)
        if found == 0:
            break
        keys = np.concatenate(
            [
                a * n + b,
                np.minimum(out_i[:found], out_j[:found]) * n
                + np.maximum(out_i[:found], out_j[:found]),
            ]
        )
        keys, first = np.unique(keys, return_index=True)
        score = np.concatenate([score, out_w[:found]])[first]
        a, b = keys // n, keys % n
    return best, True


def _covered(n: int, y: FloatArray, i: IntArray, j: IntArray, w: FloatArray) -> float:
    """sum(y + delta) where delta >= 0 covers every violated pair's excess (delta_i +
    delta_j >= w_ij - y_i - y_j): the LP duals of the violation graph (`candidate_duals`),
    usually well below half of each excess on both ends. Valid when the pairs given
    are all the violated ones: every other pair is covered by y alone."""
    excess = w - y[i] - y[j]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    keys = lo * n + hi
    order = np.lexsort((-excess, keys))  # per pair, its largest excess first
    keys, excess = keys[order], excess[order]
    first = np.ones(keys.size, dtype=np.bool_)
    first[1:] = keys[1:] != keys[:-1]
    keys, excess = keys[first], excess[first]
    delta = candidate_duals(n, keys // n, keys % n, excess)
    return float((y + delta).sum())


def _entries_with_cell(shard: PoolArrays) -> tuple[IntArray, IntArray, IntArray]:
    """(creator, bucket, cell) of every bucket membership (as candidate_entries)."""
    from matchdesk.matching.candidates import candidate_entries

    creator, bucket, _ = candidate_entries(shard)
    keep = shard.active[shard.entry_creator]
    cell_of = shard.entry_cell[keep]
    cells = int(cell_of.max()) + 1 if cell_of.size else 1
    vocab = max(1, shard.vocab_size)
    cell = (bucket // vocab) % cells
    return creator, bucket, cell

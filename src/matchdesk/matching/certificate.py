"""A tight upper bound on the best matching of a shard's full feasible graph.

Weak LP duality, as in bounds.py: values y_i >= 0 with y_i + y_j >= w_ij for every
feasible pair (i, j) bound the weight of every matching of the full feasible graph by
sum_i y_i (a matching's weight is the sum of w_ij over its pairs, each at most
y_i + y_j, and every creator is in at most one pair). The search keeps only candidate
edges; the pairs it pruned or never checked are covered here without being listed.

1. The candidate graph. Each candidate component gets near-optimal duals of its
   matching LP without odd sets, from the prices of an auction on the bipartite double
   cover (lp.auction; `_lp_values` proves that any prices give values that cover every
   candidate edge, and the auction's are within n * eps of the LP optimum).

2. Pricing: every other feasible pair, without listing them. A feasible pair shares a
   bucket (tier band, language, 3-hour cell: candidates.py); a pair whose match is in
   both creators' evening shares an *evening* bucket (both can start in their evening
   in that cell). Its score is at most rho + S sigma + N + F (f_i + f_j) / 2, with
   rho = R max(0, 1 - |dr| / span) + A max(0, 1 - |da| / span) its strength part and
   sigma its slot part (1 in an evening bucket, else at most 1/2), so with
   d_k = y_k - (S sigma + N + F f_k) / 2 it can violate y_i + y_j >= w_ij only if
   rho_ij > d_i + d_j. Evening buckets are priced with sigma = 1, all buckets with
   sigma = 1/2: every feasible pair is in a bucket of one of them whose sigma bounds
   its slot part.
   In each bucket every member's *reach* max over the other members j of rho_ij - d_j
   is computed exactly in O(B log B) (`_bucket_reach`: with X = R lr / span and
   Y = A la / span, rho = max(R + A - |dX| - |dY|, A - |dY|, R - |dX|, 0), so the reach is
   the largest of an L1 distance transform, two 1-D ones and the smallest other d).
   A pair with rho_ij > d_i + d_j has reach_i > d_i and reach_j > d_j, so every pair
   that can violate lies among the bucket's *flagged* members (reach > d); those pairs
   are scored exactly (hard rules included) and each violated one (w_ij > y_i + y_j) is
   recorded. The scan: a flagged member whose d is below theta (a low quantile of the
   flagged members' d) is checked against every flagged member; two others, in
   revenue order, only while R max(0, 1 - |dr| / span) + A > d_i + theta (beyond that
   rho_ij <= d_i + theta <= d_i + d_j for every later one). Within the work budget
   that lists every violated pair; past it a bucket's flagged members are raised by
   (reach_k - d_k) / 2 instead (the *crude* raise: a pair's excess rho_ij - d_i - d_j
   is at most reach - d at both ends, so half of it on each covers the pair).

3. Covering: values y + crude + delta, with delta >= 0 covering the excess of every
   recorded violated pair (delta_i + delta_j >= w_ij - y_i - y_j: the LP duals of the
   graph of the violated pairs weighted by their excess, `_covered`, or half of each
   excess on both ends when not all were recorded), satisfy every constraint: a
   candidate edge and a pair priced as not violated are covered by y (delta and crude
   are >= 0), a violated pair by delta, a pair of a crude bucket by crude.

4. Column generation: the violated pairs join the candidate edges, the duals are solved
   again and priced again (ROUNDS in all); every round's covered values are valid and
   the lowest sum is kept. When a round finds no violated pair, y is optimal for the
   LP of the full feasible graph (its optimum, within the auction's eps): the best an
   LP bound without odd sets can give. Measured on the 59,718-creator shard of the
   100,000-creator demo pool: 0.76% above the engine's weight after one round, 0.558%
   after two, 0.535% after three (the default: each round costs an LP and a pricing),
   0.533% after four and 0.532% from five on, where it stops moving (the full LP's
   optimum). What is left is the engine's weight below the optimum (with 16 / 40
   candidates the engine finds 0.26% more on that shard) and the odd-set part (a
   triangle of good pairs is worth 1.5 pairs to the LP; the LP optimum there has
   7,639 creators in 2,349 odd cycles). On the cardinality families (sparse graphs)
   the odd-set part is 0.56 to 4.4% of the optimum, on the 3,000-creator demo pools
   0.27 to 0.38%.

5. Odd sets. A shard whose buckets hold at most odd_duals.EXACT_VISITS pairs gets the
   odd-set duals of its whole feasible graph instead (odd_duals.py: its exact optimum).
   For the big shards what was measured (2026-12-06, the 59,718-creator shard, load 5
   to 11) says why they keep this LP bound: the blossom's exact duals of the candidate
   graph (blossom.blossom_duals) are 0.175% above the engine against 0.19% for the
   LP's, but took 173 s, and priced against their y alone (ignoring z is valid) they
   leave 358,000 pairs violated and a cover 9% above the engine (the blossoms are big
   and nested, and y is small where z carries the weight); one Edmonds shrink of the
   LP's 2,347 odd cycles on the full graph (lower y on the cycle by t / 2, z = t, t
   limited by the slack of every feasible pair leaving it) gains 0.006%: at the LP
   optimum the pairs leaving a cycle are tight. Re-solving the cycles' 7,629 creators
   exactly (each one's floor the most any feasible pair leaving the set needs, the
   blossom on the pairs inside at their weight less both floors; valid, as the floors
   cover every pair leaving) gains 0.007%: the integrality gap is not in the cycles but
   spread over the paths around them. And the engine there was itself about
   0.26% below what wider candidates find: step 6 closes most of that.

6. The primal from the pricing. The pairs round 0 finds violated (w_ij > y_i + y_j for
   the candidate graph's LP duals) are the pairs the LP would use that the candidate
   search pruned, so round 0 runs before the matching (`first_columns`, from
   solver._solve_shard): they join the candidates (their scores are exact and they are
   feasible: `_score` gives -1 to a pair a hard rule forbids, which cannot be violated;
   no candidate edge is among them, y covers those), the matching runs on that graph,
   and rounds 1 and 2 continue from round 0's prices. The bound is unchanged in kind
   (every round's values cover every feasible pair, as above); only the matching it is
   compared with is better. Measured on the 59,718-creator shard (2026-12-07, CPU
   seconds, load 10): 493,180 candidate edges + 153,914 violated pairs, the matching's
   weight +0.32% (more than the thorough preset's doubled candidates give), the bound
   0.211% above it after three rounds and 0.235% after two (without the primal step
   0.535% above the engine); the rounds cost an LP 0.8 s, a pricing 0.9 s and a merge
   0.07 s before the matching (which takes 0.5 s more on the bigger graph), and 1.3 s
   for round 1 after it, 1.4 s more for round 2. Rounds 1 and on take the LP cover of
   their (few) violated pairs, and STOP (0.05% of the sum) ends the rounds after
   round 1 there: at 100,000 the bound phase 4.8 s against 10.6 s for three rounds,
   0.209% above the engine's weight against 0.189% (side by side, load 9 to 10). At a
   million creators (the 597,326-creator shard, candidates of 6) round
   0 alone costs 14.5 s of LP and 12.4 s of pricing (past 250,000,000 visits): there
   the pricing stays off (SolverOptions.large_certificate_work; switched on, the
   million's bound phase took 93 s of a 144 s solve at load 5 to 7 for 2.96% above the
   engine against the fitted 3.34%, the weight +0.18%).

The pricing prices each bucket system in PARTS runs of consecutive buckets (about equal
pairs each) on the solve's threads, joined in order: the same result as one run (the
raises are per bucket, maxima joined; the records in bucket order), whatever the thread
count. Rounds 1 and on read the candidates and round 0 only, never the matching: with
two threads they run beside it (solver._solve_shard_threaded; every kernel here and in
lp.py releases the GIL).

Each LP's auction stops once the time is up (`limited_duals`: any prices give valid
values), and no round starts after it. SolverOptions.certificate_work limits the
pricing's pair visits; the solver keeps the lower of this bound and the fitted one of
bounds.py. The result is a valid bound in every case; `uncovered` checks values against
the full feasible graph, and the tests compare the bound with the exact optimum
(rustworkx).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from matchdesk.matching.candidates import Candidates, full_graph
from matchdesk.matching.exact import SCALE
from matchdesk.matching.lp import NO_LIMIT, _cover_rows, auction_from
from matchdesk.matching.parallel import thread_map
from matchdesk.matching.prepare import PoolArrays
from matchdesk.matching.regions import Pieces, label_components

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

EPS_START = 100_000  # auction steps, in profit units (1 / SCALE of a score)
EPS_FINAL = 10
EPS_WARM = 10_000  # first auction step of a warm start (a later round)
EPS_FACTOR = 6
ROUNDS = 3  # pricing rounds at most (column generation; see the module docstring)
STOP = 5e-4  # ... stopped once a round's cover adds at most this fraction
VIOLATED_PER_CREATOR = 6  # violated pairs kept per round, per creator of the shard
SLACK = 1e-12


def _lp_values(
    nodes: IntArray,
    a: IntArray,
    b: IntArray,
    w: FloatArray,
    prices: IntArray | None = None,
    warm: bool = False,
    work: int = NO_LIMIT,
) -> tuple[FloatArray, int]:
    """Near-optimal duals of the matching LP of edges (a, b, w) among `nodes` (sorted),
    as values with y_i + y_j >= w_ij on every edge and y >= 0, and the auction's work.

    The matching LP without odd sets is half the assignment LP of the double cover
    (lp.py): row i, column j, profit p_ij for every edge both ways and 0 for i, i. For
    ANY column prices v, u_i = max_j (p_ij - v_j) and v are feasible for the
    assignment's dual (u_i + v_j >= p_ij), so y_i = (u_i + v_i) / 2 gives y_i + y_j =
    (u_i + v_j + u_j + v_i) / 2 >= (p_ij + p_ji) / 2 = p_ij and y_i >= (0 - v_i + v_i) / 2
    = 0. The auction's prices make that sum within n * eps of the LP optimum; an auction
    cut short by `work` (row entries its bids may scan) leaves prices that are valid all
    the same, only further from it. Profits are rint(w * SCALE), at most 0.5 / SCALE
    below w, hence the 0.25 / SCALE per creator. `prices` (per node of the shard, profit
    units) receive the auction's prices; with `warm` the auction starts from them at
    EPS_WARM (a previous round's, for a graph with a few more edges), else from zero at
    EPS_START.
    """
    la, lb = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    profit = np.rint(w * SCALE).astype(np.int64)
    ptr, col, gain = _cover_rows(nodes.size, la, lb, profit)
    if prices is None or not warm:
        start, eps = np.zeros(nodes.size, dtype=np.int64), EPS_START
    else:
        start, eps = prices[nodes].copy(), EPS_WARM
    u, v, _, spent = auction_from(start, ptr, col, gain, eps, EPS_FINAL, EPS_FACTOR, work)
    if prices is not None:
        prices[nodes] = v
    values: FloatArray = (u + v) / (2.0 * SCALE) + 0.25 / SCALE + SLACK
    return values, int(spent)


def candidate_duals(
    n: int,
    a: IntArray,
    b: IntArray,
    w: FloatArray,
    prices: IntArray | None = None,
    warm: bool = False,
) -> FloatArray:
    """Values y >= 0 covering every candidate edge: each candidate component's LP
    duals (step 1 of the module docstring); `prices` and `warm` as in `_lp_values`."""
    return limited_duals(n, a, b, w, prices, warm)[0]


def limited_duals(
    n: int,
    a: IntArray,
    b: IntArray,
    w: FloatArray,
    prices: IntArray | None = None,
    warm: bool = False,
    work: int = NO_LIMIT,
) -> tuple[FloatArray, int]:
    """`candidate_duals` within `work` (the auctions' row entries scanned: a component
    reached past it gets the values of its start prices, cut short; valid all the
    same) and the work spent."""
    y = np.zeros(n)
    if a.size == 0:
        return y, 0
    count, labels = label_components(n, a, b)
    sizes = np.bincount(labels, minlength=count)
    grouped = Pieces.of(count, labels, np.arange(n), a, b, w)
    spent = 0
    for c in np.flatnonzero(sizes >= 2).tolist():
        nodes = grouped.members(c)
        y[nodes], used = _lp_values(nodes, *grouped.edges(c), prices, warm, max(0, work - spent))
        spent += used
    return y, spent


@njit(cache=True, nogil=True)
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


INF = np.inf
LOW_SHARE = 32  # about 1 / LOW_SHARE of a bucket's flagged members are scanned in full
TOL = 1e-9  # flagging and crude raises err this much on the safe side (float rounding)


@njit(cache=True, nogil=True)
def _fen_query(fen: Any, r: int) -> float:
    """max over positions < r of a prefix-max Fenwick tree (-inf when none)."""
    best = -INF
    while r > 0:
        if fen[r] > best:
            best = fen[r]
        r -= r & -r
    return best


@njit(cache=True, nogil=True)
def _fen_update(fen: Any, r: int, value: float) -> None:
    r += 1
    while r < fen.size:
        if value > fen[r]:
            fen[r] = value
        r += r & -r


@njit(cache=True, nogil=True)
def _bucket_reach(xs: Any, ys: Any, ds: Any, rw: float, aw: float, out: Any) -> None:
    """out[t] = max over s != t of max(0, rw - |xs_t - xs_s|) + max(0, aw - |ys_t - ys_s|)
    - ds[s], exactly (members sorted by xs; -inf for a bucket of one).

    max(0, R - a) + max(0, A - b) is the largest of R + A - a - b, A - b, R - a and 0, so
    the maximum over s is the largest of four transforms: min over s of |dx| + |dy| +
    d_s (two sweeps along xs, each with two Fenwick trees over the ys ranks: the
    partners below and above in ys, where |dy| is linear), min of |dy| + d_s and of
    |dx| + d_s (running minima both ways) and min of d_s (the two smallest)."""
    size = xs.size
    for t in range(size):
        out[t] = -INF
    if size < 2:
        return
    oy = np.argsort(ys, kind="mergesort")
    rank = np.empty(size, dtype=np.int64)
    for k in range(size):
        rank[oy[k]] = k
    near = np.full(size, INF)
    lo = np.full(size + 1, -INF)
    hi = np.full(size + 1, -INF)
    for t in range(size):  # partners s before t: xs_s <= xs_t
        r = rank[t]
        p = _fen_query(lo, r)
        q = _fen_query(hi, size - 1 - r)
        v = min(xs[t] + ys[t] - p, xs[t] - ys[t] - q)
        if v < near[t]:
            near[t] = v
        _fen_update(lo, r, xs[t] + ys[t] - ds[t])
        _fen_update(hi, size - 1 - r, xs[t] - ys[t] - ds[t])
    lo[:] = -INF
    hi[:] = -INF
    for t in range(size - 1, -1, -1):  # partners s after t: xs_s >= xs_t
        r = rank[t]
        p = _fen_query(lo, r)
        q = _fen_query(hi, size - 1 - r)
        v = min(ys[t] - xs[t] - p, -xs[t] - ys[t] - q)
        if v < near[t]:
            near[t] = v
        _fen_update(lo, r, ys[t] - xs[t] - ds[t])
        _fen_update(hi, size - 1 - r, -xs[t] - ys[t] - ds[t])
    for t in range(size):
        out[t] = rw + aw - near[t]
    # |dx| + d_s along xs, |dy| + d_s along ys (the pairs clipped in one strength).
    run_a = -INF
    run_b = -INF
    for t in range(size):
        if run_a > -INF:
            out[t] = max(out[t], rw - (xs[t] - run_a))
        run_a = max(run_a, xs[t] - ds[t])
    for t in range(size - 1, -1, -1):
        if run_b > -INF:
            out[t] = max(out[t], rw - (-xs[t] - run_b))
        run_b = max(run_b, -xs[t] - ds[t])
    run_a = -INF
    run_b = -INF
    for k in range(size):
        t = oy[k]
        if run_a > -INF:
            out[t] = max(out[t], aw - (ys[t] - run_a))
        run_a = max(run_a, ys[t] - ds[t])
    for k in range(size - 1, -1, -1):
        t = oy[k]
        if run_b > -INF:
            out[t] = max(out[t], aw - (-ys[t] - run_b))
        run_b = max(run_b, -ys[t] - ds[t])
    # Both clipped: 0 - d_s, the smallest d_s of the others.
    first = INF
    second = INF
    for t in range(size):
        if ds[t] < first:
            second = first
            first = ds[t]
        elif ds[t] < second:
            second = ds[t]
    for t in range(size):
        other = second if ds[t] == first else first
        out[t] = max(out[t], -other)


@njit(cache=True, nogil=True)
def _price_buckets(
    n: int,
    y: Any,
    raise_: Any,
    crude: Any,
    bucket_ptr: Any,
    member: Any,
    sigma: float,
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
) -> int:
    """Step 2 of the module docstring over one bucket system (each bucket's members
    sorted by revenue). Per bucket: every member's reach (`_bucket_reach`); the members
    whose reach exceeds their d are flagged, and every pair of flagged members that
    can violate is scored exactly: a violated one is recorded in out_i, out_j, out_w (as
    many as they hold; out_count[0] counts them) and raises both ends by half its excess
    in `raise_`. Once `budget` pair visits are spent, the flagged members of the
    remaining buckets are raised in `crude` by half of reach - d instead (valid without
    scoring: every pair's excess is at most that at both ends). Returns the work done."""
    rw, aw = weight[0], weight[1]
    d = np.empty(n)
    for k in range(n):
        d[k] = y[k] - (weight[2] * sigma + weight[3] + weight[4] * fair[k]) / 2.0
    xscale = rw / span
    yscale = aw / span
    work = 0
    for bk in range(bucket_ptr.size - 1):
        lo, hi = bucket_ptr[bk], bucket_ptr[bk + 1]
        size = hi - lo
        if size < 2:
            continue
        ids = member[lo:hi]
        xs = np.empty(size)
        ys = np.empty(size)
        ds = np.empty(size)
        for t in range(size):
            xs[t] = log_revenue[ids[t]] * xscale
            ys[t] = log_followers[ids[t]] * yscale
            ds[t] = d[ids[t]]
        reach = np.empty(size)
        _bucket_reach(xs, ys, ds, rw, aw, reach)
        work += 8 * size
        flagged = np.empty(size, dtype=np.int64)
        count = 0
        for t in range(size):
            if reach[t] > ds[t] - TOL:
                flagged[count] = t
                count += 1
        if count < 2:
            continue
        # theta: a low quantile of the flagged members' d. A low member (d < theta) is
        # checked against every flagged member; two others only while rho can exceed
        # d_t + theta (rho falls as xs moves away).
        theta = np.sort(ds[flagged[:count]])[count // LOW_SHARE]
        if work > budget:
            for u in range(count):
                t = flagged[u]
                half = (reach[t] - ds[t]) / 2.0 + TOL
                if half > crude[ids[t]]:
                    crude[ids[t]] = half
            continue
        for u in range(count):
            if work > budget:  # cut short: the whole bucket the crude way
                for z in range(count):
                    tz = flagged[z]
                    half = (reach[tz] - ds[tz]) / 2.0 + TOL
                    if half > crude[ids[tz]]:
                        crude[ids[tz]] = half
                break
            t = flagged[u]
            i = ids[t]
            low = ds[t] < theta
            for v in range(0 if low else u + 1, count):
                s = flagged[v]
                if v == u or (low and v < u and ds[s] < theta):
                    continue  # itself, or a pair of low members scanned from the first
                work += 1
                if work > budget:
                    break
                dx = abs(xs[s] - xs[t])
                if not low:
                    if ds[s] < theta:
                        continue  # scanned from s, which is low
                    if max(0.0, rw - dx) + aw <= ds[t] + theta - TOL:
                        break  # xs only grows, and every partner left has d >= theta
                relaxed = max(0.0, rw - dx) + max(0.0, aw - abs(ys[s] - ys[t]))
                if relaxed <= ds[t] + ds[s] - TOL:
                    continue
                j = ids[s]
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
    return work


def _bucket_members(
    creator: IntArray, bucket: IntArray, strength: FloatArray
) -> tuple[IntArray, IntArray]:
    """Bucket CSR with each bucket's members sorted by `strength` (ties by creator):
    one sort of packed (bucket, strength rank) keys."""
    if creator.size == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    n = strength.size
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(strength, kind="stable")] = np.arange(n)
    key = bucket.astype(np.int64) * n + rank[creator]
    key.sort()
    count = int(bucket.max()) + 1
    ptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(key // n, minlength=count), out=ptr[1:])
    by_rank = np.empty(n, dtype=np.int64)
    by_rank[rank] = np.arange(n)
    members: IntArray = by_rank[key % n]
    return ptr, members


@njit(cache=True, nogil=True)
def _evening_cells(evening: Any, creator: Any, cell: Any, cell_size: int, grid: int) -> Any:
    """Whether each entry's creator has an evening start in the entry's cell: the
    cell's grid starts as word masks, ANDed with the creator's evening words."""
    out = np.zeros(creator.size, dtype=np.bool_)
    full = np.uint64(0xFFFFFFFFFFFFFFFF)
    for e in range(creator.size):
        c = creator[e]
        first = cell[e] * cell_size
        last = min(grid, first + cell_size)  # exclusive
        k = first
        while k < last:
            word = k >> 6
            lo = k & 63
            hi = min(64, lo + (last - k))  # bits lo..hi-1 of this word
            mask = full >> np.uint64(64 - (hi - lo))
            mask = mask << np.uint64(lo)
            if evening[word, c] & mask:
                out[e] = True
                break
            k += hi - lo
    return out


def _evening_in_cell(shard: PoolArrays, creator: IntArray, cell: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each creator can start in its local evening somewhere in the given cell."""
    found: npt.NDArray[np.bool_] = _evening_cells(
        np.ascontiguousarray(shard.evening), creator, cell, shard.cell_size, shard.grid
    )
    return found


PARTS = 4  # runs per bucket system in a pricing (`_Pricing.price`)


def _runs(
    sigma: float, ptr: IntArray, member: IntArray
) -> list[tuple[float, IntArray, IntArray, int]]:
    """A bucket system cut into PARTS runs of consecutive buckets with about equal pair
    counts: (sigma, the run's bucket pointers, the members, its pairs)."""
    sizes = np.diff(ptr)
    pairs = sizes * (sizes - 1) // 2 + 8 * sizes  # the most a bucket's pricing visits
    ends = np.cumsum(pairs)
    total = int(ends[-1]) if ends.size else 0
    cuts = [0] + [int(np.searchsorted(ends, total * k // PARTS)) for k in range(1, PARTS)]
    cuts.append(sizes.size)
    runs = []
    for lo, hi in itertools.pairwise(cuts):
        if hi > lo:
            runs.append((sigma, ptr[lo : hi + 1], member, int(pairs[lo:hi].sum())))
    return runs


class _Pricing:
    """The bucket systems of a shard and the arguments of `_price_buckets` (step 2)."""

    def __init__(self, shard: PoolArrays) -> None:
        creator, bucket, cell = _entries_with_cell(shard)
        w = shard.weights
        rules = shard.rules
        self.n = shard.n
        self.common = (
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
        evening = _evening_in_cell(shard, creator, cell)
        self.entries = (creator, bucket)
        self.systems = [
            (sigma, *_bucket_members(creator[keep], bucket[keep], shard.log_revenue))
            for sigma, keep in ((1.0, evening), (0.5, np.ones(creator.size, dtype=np.bool_)))
        ]
        self.runs = [run for system in self.systems for run in _runs(*system)]

    def pair_visits(self) -> int:
        """Pairs the buckets hold (each bucket's, with repeats): what listing every
        feasible pair would visit (odd_duals.full_pairs)."""
        sizes = np.diff(self.systems[1][1])
        return int((sizes * (sizes - 1) // 2).sum())

    def price(self, y: FloatArray, budget: int, capacity: int) -> Priced:
        """Every pair y leaves uncovered (up to `capacity` recorded), the raises that
        cover them, and the work done (step 2).

        Each bucket system's buckets are priced in PARTS runs of about equal pair
        visits (on the solve's threads, `parallel.thread_map`), each with its share of
        `budget` (by its pairs: every run within its share when the budget covers all
        pairs) and its own raises and records, joined in order: the raises are the
        largest of the runs' (a bucket is in one run), the records those of the runs
        one after the other. The cut does not depend on the thread count, so neither
        does the result."""
        runs = self.runs
        total = sum(r[3] for r in runs)
        shares = [budget if budget >= total else budget * r[3] // max(1, total) for r in runs]

        def one(k: int) -> tuple[FloatArray, FloatArray, IntArray, IntArray, FloatArray, int, int]:
            sigma, ptr, member, _ = runs[k]
            raise_ = np.zeros(self.n)
            crude = np.zeros(self.n)
            out_i = np.empty(capacity, dtype=np.int64)
            out_j = np.empty(capacity, dtype=np.int64)
            out_w = np.empty(capacity)
            count = np.zeros(1, dtype=np.int64)
            work = _price_buckets(
                self.n,
                y,
                raise_,
                crude,
                ptr,
                member,
                sigma,
                *self.common,
                shares[k],
                out_i,
                out_j,
                out_w,
                count,
            )
            return raise_, crude, out_i, out_j, out_w, int(count[0]), int(work)

        done = thread_map(one, list(range(len(runs))), self.entries[0].size * 64)
        raise_ = np.zeros(self.n)
        crude = np.zeros(self.n)
        found = 0
        work = 0
        picked: list[tuple[IntArray, IntArray, FloatArray]] = []
        for r, c, out_i, out_j, out_w, count, spent in done:
            np.maximum(raise_, r, out=raise_)
            np.maximum(crude, c, out=crude)
            take = max(0, min(count, capacity - found))  # as one run would record them
            picked.append((out_i[:take], out_j[:take], out_w[:take]))
            found += count
            work += spent
        return Priced(
            raise_,
            crude,
            np.concatenate([x[0] for x in picked]),
            np.concatenate([x[1] for x in picked]),
            np.concatenate([x[2] for x in picked]),
            found <= capacity,
            work,
        )


@dataclass(frozen=True, eq=False)
class Priced:
    """What one pricing of values y found: `raise_` (half of each violated pair's excess
    on both ends), `crude` (the flagged members of the buckets left unscored, raised by
    half of reach - d), the violated pairs (i, j, their scores w), whether every one was
    recorded, and the pair visits spent."""

    raise_: FloatArray
    crude: FloatArray
    i: IntArray
    j: IntArray
    w: FloatArray
    all_recorded: bool
    work: int

    def cover(self, y: FloatArray) -> FloatArray:
        """Valid values from y: y + crude + the LP cover of the violated pairs' excess
        when they were all recorded, else y + crude + raise_ (the lower sum of both)."""
        halves = y + self.raise_ + self.crude
        if not self.all_recorded or self.i.size == 0:
            return halves
        covered = _covered(y.size, y, self.i, self.j, self.w) + self.crude
        return covered if covered.sum() < halves.sum() else halves


@dataclass(frozen=True, eq=False)
class Columns:
    """The first round of the column generation, run before the matching
    (`first_columns`): the candidate graph's duals priced against every feasible pair.

    Its violated pairs (w_ij > y_i + y_j) are the pairs the LP wants that the candidate
    search pruned: the matching runs on `cands`, the candidates with them joined (step 6
    of the module docstring), and the later rounds start from `prices`. `values` is the
    round's cover (y + raise_ + crude: valid by itself), `work` the pair visits spent,
    `complete` whether every flagged pair was scored."""

    cands: Candidates
    values: FloatArray
    prices: IntArray
    work: int
    complete: bool


def first_columns(
    shard: PoolArrays,
    cands: Candidates,
    budget: int,
    pricing: _Pricing,
    work_left: Callable[[], int] = lambda: NO_LIMIT,
) -> Columns:
    """Round 0 of `shard_duals` on the candidate graph, and the candidates with its
    violated pairs joined (up to VIOLATED_PER_CREATOR per creator of the shard)."""
    n = shard.n
    prices = np.zeros(n, dtype=np.int64)
    y, _ = limited_duals(n, cands.a, cands.b, cands.score, prices, work=work_left())
    priced = pricing.price(y, budget, VIOLATED_PER_CREATOR * n)
    values = y + priced.raise_ + priced.crude
    joined = _joined(n, cands, priced.i, priced.j, priced.w)
    return Columns(joined, values, prices, priced.work, not priced.crude.any())


def _joined(n: int, cands: Candidates, i: IntArray, j: IntArray, w: FloatArray) -> Candidates:
    """`cands` with the pairs (i, j, w) joined (violated pairs: never candidate edges,
    which y covers; a pair found in several buckets comes once), every edge by
    descending score, ties by pair key (as the search gives them), the new ones merged
    in; each creator's best checked score raised to its best joined pair's (they were
    checked)."""
    if i.size == 0:
        return cands
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    keys, first = np.unique(lo * n + hi, return_index=True)
    w = w[first]
    order = np.lexsort((keys, -w))
    keys, w = keys[order], w[order]
    a, b, score = _merge_by_score(n, cands.a, cands.b, cands.score, keys, w)
    best = cands.best_checked.copy()
    np.maximum.at(best, keys // n, w)
    np.maximum.at(best, keys % n, w)
    return replace(cands, a=a, b=b, score=score, best_checked=best)


@njit(cache=True, nogil=True)
def _merge_by_score(n: int, a: Any, b: Any, score: Any, keys: Any, w: Any) -> Any:
    """Edges (a, b, score) and (keys // n, keys % n, w), each by descending score, ties
    by key, merged into one list so ordered."""
    m = a.size + keys.size
    out_a = np.empty(m, dtype=np.int64)
    out_b = np.empty(m, dtype=np.int64)
    out_w = np.empty(m)
    p = 0
    q = 0
    for t in range(m):
        take_old = q >= keys.size or (
            p < a.size and (score[p] > w[q] or (score[p] == w[q] and a[p] * n + b[p] < keys[q]))
        )
        if take_old:
            out_a[t], out_b[t], out_w[t] = a[p], b[p], score[p]
            p += 1
        else:
            out_a[t], out_b[t], out_w[t] = keys[q] // n, keys[q] % n, w[q]
            q += 1
    return out_a, out_b, out_w


def shard_duals(
    shard: PoolArrays,
    cands: Candidates,
    budget: int,
    rounds: int = ROUNDS,
    pricing: _Pricing | None = None,
    columns: Columns | None = None,
    work_left: Callable[[], int] = lambda: NO_LIMIT,
) -> tuple[FloatArray, bool]:
    """Values y >= 0 with y_i + y_j >= w_ij for every feasible pair of the shard (the
    module docstring), and whether every round scored every flagged pair within `budget`
    pair visits and ran to its end (False: some buckets were covered by the crude raise
    instead, or the time, `work_left`, cut the rounds short; the values are valid
    either way).

    Column generation: the violated pairs a round of pricing finds (up to
    VIOLATED_PER_CREATOR per creator) join the candidate edges and the duals are solved
    again, `rounds` times at most, and stops once a round's cover adds at most STOP of
    the sum (the LP's value on the round's graph is at most the full graph's, so later
    rounds cannot gain more); each round's covered values are valid, and those of the
    lowest sum are returned. `columns` (`first_columns`, whose cands are then `cands`)
    is round 0 already done. Round 0's cover is y + raise_ + crude unless it is the
    last, later rounds' the LP cover of their violated pairs (`Priced.cover`: lower, one
    more LP, small once round 0's pairs have joined).
    """
    n = shard.n
    if pricing is None:  # the shard's bucket systems (or the caller's, built once)
        pricing = _Pricing(shard)
    a, b, score = cands.a, cands.b, cands.score
    left = budget
    best: FloatArray | None = None
    complete = True
    capacity = VIOLATED_PER_CREATOR * n
    prices = np.zeros(n, dtype=np.int64)
    first = 0
    if columns is not None:
        best, prices, first = columns.values, columns.prices.copy(), 1
        left -= columns.work
        complete = columns.complete
    for round_ in range(first, max(1, rounds)):
        if round_ > 0 and (left <= 0 or work_left() <= 0):
            complete = False
            break
        y, _ = limited_duals(n, a, b, score, prices, warm=round_ > 0, work=work_left())
        priced = pricing.price(y, left, capacity)
        left -= priced.work
        complete &= not priced.crude.any()
        # y's sum is within the auction's eps of an LP optimum on a subgraph, so at
        # most the full graph's: no later round can gain more than the cover added.
        # Round 0's violation graph is big (its LP cover costs about an LP): it takes
        # the half-excess cover unless it is the last; later rounds' are small.
        last = round_ + 1 >= rounds or priced.i.size == 0 or left <= 0 or work_left() <= 0
        values = priced.cover(y) if last or round_ > 0 else y + priced.raise_ + priced.crude
        if not last and float(values.sum() - y.sum()) <= STOP * float(y.sum()):
            last = True
            values = priced.cover(y) if round_ == 0 else values
        if best is None or values.sum() < best.sum():
            best = values
        if last:
            break
        keys = np.concatenate(
            [a * n + b, np.minimum(priced.i, priced.j) * n + np.maximum(priced.i, priced.j)]
        )
        keys, first_seen = np.unique(keys, return_index=True)
        score = np.concatenate([score, priced.w])[first_seen]
        a, b = keys // n, keys % n
    assert best is not None
    return best, complete


def shard_bound(
    shard: PoolArrays,
    cands: Candidates,
    budget: int,
    rounds: int = ROUNDS,
    pricing: _Pricing | None = None,
    columns: Columns | None = None,
    work_left: Callable[[], int] = lambda: NO_LIMIT,
) -> tuple[float, bool]:
    """sum of `shard_duals`: the bound on any matching of the shard's feasible graph."""
    y, complete = shard_duals(shard, cands, budget, rounds, pricing, columns, work_left)
    return float(y.sum()), complete


def _covered(n: int, y: FloatArray, i: IntArray, j: IntArray, w: FloatArray) -> FloatArray:
    """y + delta where delta >= 0 covers every violated pair's excess (delta_i +
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
    covered: FloatArray = y + delta
    return covered


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


def uncovered(
    shard: PoolArrays, y: FloatArray, tolerance: float = 1e-9
) -> tuple[IntArray, IntArray, FloatArray]:
    """The validity check of values y on the shard's full feasible graph (every pair
    scored: quadratic, for tests and small pools): each feasible pair (i < j) with
    y_i + y_j < w_ij - tolerance, and its excess w_ij - y_i - y_j. Values that leave no
    pair and are >= 0 bound every matching (weak LP duality)."""
    if np.any(y < 0):
        raise ValueError("values must be >= 0")
    a, b, w = full_graph(shard)
    excess = w - y[a] - y[b]
    bad = excess > tolerance
    return a[bad], b[bad], excess[bad]

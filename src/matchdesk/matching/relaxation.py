"""A near-optimal start for big components from the bipartite double-cover relaxation.

Used for components over exact_limit (5,000 creators by default; those up to it are
solved exactly) and up to relaxation_limit (200,000). Above 5,000 creators the double
cover is solved by an auction (lp.auction: an eps-optimal assignment in 0.2 to 1 s where
LAPJV took 14 s at 59,718 creators); greedy started the components over 20,000 before,
and lost 1.0% of the exact weight on that 59,718-creator component of the 100,000-creator
demo pool, where the rounded relaxation loses 0.2%.

The double-cover relaxation (lp.py) with profit `M + w` per pair, so covering creators
comes first and score second, gives a permutation whose 2-cycles are pairs and whose
longer cycles are the fractional part of the matching LP optimum.

Rounding: 2-cycles are kept. The creators of longer cycles (and the unmatched) are where
the LP and the best matching differ, but not only there: an odd cycle must leave one
creator out or hand the defect on along an alternating path, through pairs the LP liked.
So the region re-matched exactly (regions.py) is the fractional part grown `hops` times
along each creator's best candidate and the pairs. Measured on demo pools of 2,000 to
4,000 creators (with exact_limit 300), the rounded 2-cycles alone reach about 99.1% of
the component's exact weight, the grown region (about a third of the component) 99.9%;
the rest of the loss sits in a few long alternating paths (the odd one out moved by
dozens of creators). A second region, seeded by the creators whose pair scores at least
`regret` below their best candidate, takes most of what is left.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matchdesk.matching.exact import SCALE
from matchdesk.matching.lp import double_cover
from matchdesk.matching.regions import Adjacency, grow_region, resolve_regions

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

UNMATCHED_PENALTY = 10.0  # M: larger than any score difference
COST_SCALE = 1e5


def _rounded_pairs(
    size: int, la: IntArray, lb: IntArray, w: FloatArray, start: IntArray | None = None
) -> IntArray:
    """Local mates from the relaxation's 2-cycles (-1 for the fractional part); `start`
    the auction's start prices (lp.double_cover), in COST_SCALE units."""
    # Profit M + w per pair and 0 for single: covering creators comes first; 1e-5
    # resolution is plenty for a start.
    profit = np.rint((UNMATCHED_PENALTY + w) * COST_SCALE).astype(np.int64)
    sigma = double_cover(size, la, lb, profit, start)
    own = np.arange(size)
    pair = (sigma[sigma] == own) & (sigma != own)
    local: IntArray = np.where(pair, sigma, -1)
    return local


def _best_edges(size: int, la: IntArray, lb: IntArray) -> tuple[IntArray, IntArray]:
    """Each creator's best candidate edge (edges come best first), once each."""
    first = np.full(size, la.size, dtype=np.int64)
    position = np.arange(la.size, dtype=np.int64)
    np.minimum.at(first, la, position)
    np.minimum.at(first, lb, position)
    edges = np.unique(first[first < la.size])
    return la[edges], lb[edges]


def double_cover_start(
    nodes: IntArray,
    a: IntArray,
    b: IntArray,
    w: FloatArray,
    mate: IntArray,
    *,
    limit: int,
    hops: int,
    regret: float,
    regret_hops: int,
    prices: IntArray | None = None,
) -> None:
    """Set `mate` for `nodes` (a component, sorted; edges best first) from the rounded
    relaxation and its exactly re-solved regions (pieces of at most `limit` creators).

    `prices` (per creator of the shard, in exact.SCALE units of the scores: the
    certificate's round 0, certificate.Columns) start the relaxation's auction: the
    column prices of the matching LP on the scores alone, on the candidates before
    round 0's pairs joined, so a start, not the answer (the penalty M pairs more
    creators). Any start gives an assignment within the same distance of the optimum
    (lp.double_cover); a near one takes fewer bids."""
    size = nodes.size
    la, lb = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    start = None if prices is None else prices[nodes] // (SCALE // int(COST_SCALE))
    local = _rounded_pairs(size, la, lb, w, start)
    best = Adjacency(size, *_best_edges(size, la, lb))
    region = grow_region(best, local, local < 0, hops)
    resolve_regions(size, la, lb, w, local, region, limit)
    if np.isfinite(regret):
        paired = local[la] == lb
        pair_score = np.zeros(size)
        pair_score[la[paired]] = w[paired]
        pair_score[lb[paired]] = w[paired]
        top = np.zeros(size)
        np.maximum.at(top, la, w)
        np.maximum.at(top, lb, w)
        region = grow_region(best, local, top - pair_score >= regret, regret_hops)
        resolve_regions(size, la, lb, w, local, region, limit)
    matched = local >= 0
    mate[nodes[matched]] = nodes[local[matched]]

"""An upper bound on the best matching of the full feasible graph, to certify quality.

Weak LP duality: give every creator a value y_i >= 0 with y_i + y_j >= w_ij for every
feasible pair (i, j). Any matching M of the full feasible graph then has weight
sum over (i, j) in M of w_ij <= sum over M of (y_i + y_j) <= sum over all creators of
y_i, since every creator is in at most one pair. Locked pairs are fixed, so their scores
are added as they are and their creators are left out.

The search never sees the whole feasible graph, so the values are built to cover what it
did not keep:
- a candidate edge (kept by the search) is covered directly: y_i + y_j >= w_ij;
- a pair the search checked, found feasible and pruned (in neither creator's `keep`
  best) scores at most each creator's keep-th best (`Candidates.pruned_bound`, plus the
  sort's resolution), so y_i >= pruned_bound_i / 2 covers it;
- a pair the search never checked lies beyond the strength window of a bucket both
  share, so its score is at most each creator's `Candidates.unchecked_bound` (revenue
  and audience similarity at the window's edge, slot, novelty and fairness at their
  maxima), and y_i >= unchecked_bound_i / 2 covers it.

The start, y_i = half of the best score creator i could have with any feasible partner
(its best checked score or its unchecked bound), satisfies all three: that alone is the
per-creator best-edge bound. Then rounds of a half step lower it while keeping every
constraint: need_i is the least value creator i's constraints allow given the others'
(the floors, and w_ij - y_j over its candidate edges), and y_i becomes (y_i + need_i) / 2.
For a candidate edge the new values still cover it: (y_i + need_i + y_j + need_j) / 2 >=
(y_i + w_ij - y_j + y_j + w_ij - y_i) / 2 = w_ij. On the 3,000-creator demo pool this
takes the bound from 2.9% above the exact optimum to 1.8% above it. On 100,000 and more
it barely moves (0.02%): there the floors of the unchecked pairs (slot, novelty and
fairness taken at their maxima) are what hold it up.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from matchdesk.matching.candidates import Candidates

FloatArray = npt.NDArray[np.float64]

BOUND_NAME = (
    "dual bound (weak duality), valid for every maximum-cardinality matching: in small "
    "shards the odd-set duals of the whole feasible graph (y and odd sets with z covering "
    "every feasible pair, with the cardinality shift in the shards solved at once: the "
    "exact optimum, matching/odd_duals.py); in bigger ones the LP duals (sum over "
    "creators of y_i with y_i + y_j >= the score of every feasible pair) of the "
    "candidate graph and the violated pairs the pricing of every other feasible pair "
    "found, column-generated (matching/certificate.py), or the fitted values of "
    "matching/bounds.py where the pricing was not run"
)
ROUNDS = 12
SLACK = 1e-12  # per creator, against rounding in the half steps


def best_edge_bound(candidates: Candidates, locked_weight: float) -> float:
    """The per-creator best-edge upper bound: the fitted bound's starting point."""
    return float(_start(candidates).sum()) + locked_weight


def _start(candidates: Candidates) -> FloatArray:
    best = np.maximum(candidates.best_checked, candidates.unchecked_bound)
    start: FloatArray = np.where(np.isfinite(best), best, 0.0) / 2.0
    return start


@njit(cache=True)
def _raise_needs(need: Any, a: Any, b: Any, w: Any, y: Any) -> None:
    """need_i = max(need_i, w_ij - y_j + SLACK) over the edges of i (np.maximum.at's
    result, the same float operations, without its per-element dispatch)."""
    for k in range(a.size):
        i, j = a[k], b[k]
        x = w[k] - y[j] + SLACK
        if x > need[i]:
            need[i] = x
        x = w[k] - y[i] + SLACK
        if x > need[j]:
            need[j] = x


def fitted_bound(candidates: Candidates, locked_weight: float, rounds: int = ROUNDS) -> float:
    """The fitted dual upper bound (see the module docstring)."""
    y = _start(candidates) + SLACK
    unchecked = np.where(np.isfinite(candidates.unchecked_bound), candidates.unchecked_bound, 0)
    floor = np.maximum(np.maximum(unchecked, candidates.pruned_bound), 0.0) / 2.0 + SLACK
    a, b, w = candidates.a, candidates.b, candidates.score
    for _ in range(rounds):
        need = floor.copy()
        _raise_needs(need, a, b, w, y)
        lower = (y + need) / 2.0
        gain = float(y.sum() - lower.sum())
        y = lower
        if gain <= 1e-5 * max(float(y.sum()), 1.0):  # below what a report shows
            break
    return float(y.sum()) + locked_weight

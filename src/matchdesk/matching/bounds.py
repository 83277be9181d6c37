"""An upper bound on the best matching of the full feasible graph, to certify quality.

The per-creator best-edge bound: give every creator i the value y_i = half the best
score it could get with any feasible partner. Any matching M of the full feasible graph
has weight sum over (i, j) in M of w_ij = sum of (w_ij / 2 + w_ij / 2)
<= sum of (y_i + y_j) <= sum over all creators of y_i, because w_ij <= 2 y_i and 2 y_j
and every creator is in at most one pair. (It is the dual of the matching LP with
y_i + y_j >= w_ij for every edge.) Locked pairs are fixed, so their scores are added as
they are and their creators are left out of the sum.

"The best score with any feasible partner" needs no enumeration of the feasible graph:
for partners the candidate search checked, it is their exact score; for the others it
is the bound of the search (`Candidates.unchecked_bound`): an unchecked partner lies
beyond the strength window in both the revenue and the follower order of a shared
bucket, so its revenue and audience similarity are at most those at the window's edge,
and its slot, novelty and fairness parts are at most their maxima. When the candidates
are the full feasible graph the bound uses the exact best partner of each creator.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matchdesk.matching.candidates import Candidates

FloatArray = npt.NDArray[np.float64]

BOUND_NAME = "per-creator best-edge bound (sum of half of each creator's best feasible score)"


def best_edge_bound(candidates: Candidates, locked_weight: float) -> float:
    """The per-creator best-edge upper bound (see the module docstring)."""
    best = np.maximum(candidates.best_checked, candidates.unchecked_bound)
    half = np.where(np.isfinite(best), best, 0.0) / 2.0
    return float(half.sum()) + locked_weight

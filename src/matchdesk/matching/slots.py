"""The slot of each match: the best start in the pair's shared availability, spread out.

A pair's options are its shared grid starts of the best quality it can have (both in
their local evening, else one, else any). Among those, starts are given out in rounds:
pairs with the fewest options first, each taking the option whose clock hour of the
period has the fewest matches so far (ties broken by a seeded random order). Rounds of
a few thousand pairs keep this vectorised while still levelling the load.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matchdesk.matching.prepare import Prepared

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

ROUNDS = 32


def _unpack(words: npt.NDArray[np.uint64], grid: int) -> BoolArray:
    """(pairs, words) uint64 to (pairs, grid) booleans."""
    bits = np.unpackbits(np.ascontiguousarray(words).view(np.uint8), axis=1, bitorder="little")
    out: BoolArray = bits[:, :grid].astype(np.bool_)
    return out


def _options(prep: Prepared, a: IntArray, b: IntArray) -> BoolArray:
    st, ev = prep.starts[:, a].T, prep.evening[:, a].T
    st_b, ev_b = prep.starts[:, b].T, prep.evening[:, b].T
    both = ev & ev_b
    one = (ev & st_b) | (st & ev_b)
    shared = st & st_b
    has_both = np.any(both != 0, axis=1)
    has_one = np.any(one != 0, axis=1)
    chosen = np.where(has_both[:, None], both, np.where(has_one[:, None], one, shared))
    return _unpack(chosen, prep.grid)


def choose_starts(prep: Prepared, a: IntArray, b: IntArray, seed: int) -> IntArray:
    """Grid index of the start of each pair (a[i], b[i]); every pair must share a start."""
    p = a.size
    result = np.zeros(p, dtype=np.int64)
    if p == 0:
        return result
    hour = (prep.start_minute(np.arange(prep.grid)) // 60).astype(np.int64)
    hours = int(hour.max()) + 1
    tiebreak = np.random.default_rng(seed).random(prep.grid)
    load = np.zeros(hours, dtype=np.int64)
    # Option counts decide the order: the most constrained pairs choose first.
    counts = np.zeros(p, dtype=np.int64)
    chunk = max(1, -(-p // ROUNDS)) if p > ROUNDS else 1
    block = 1 << 16
    for lo in range(0, p, block):
        counts[lo : lo + block] = _options(prep, a[lo : lo + block], b[lo : lo + block]).sum(axis=1)
    order = np.lexsort((np.minimum(a, b) * prep.n + np.maximum(a, b), counts))
    for lo in range(0, p, chunk):
        rows = order[lo : lo + chunk]
        options = _options(prep, a[rows], b[rows])
        cost = np.where(options, load[hour][None, :] + tiebreak[None, :], np.inf)
        pick = np.argmin(cost, axis=1)
        result[rows] = pick
        np.add.at(load, hour[pick], 1)
    return result

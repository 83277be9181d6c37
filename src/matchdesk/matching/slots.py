"""The slot of each match: the best start in the pair's shared availability, spread out.

A pair's options are its shared grid starts of the best quality it can have (both in
their local evening, else one, else any). Among those, starts are given out in rounds:
pairs with the fewest options first, each taking the option whose clock hour of the
period has the fewest matches so far (ties broken by a seeded random order); the loads
grow after each of the ROUNDS rounds. Both steps are compiled (one pass over each
pair's option words; the numpy rounds built a pairs x grid option matrix twice: 0.87 s
of CPU at a million creators, 0.27 s now, the same starts).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from matchdesk.matching.prepare import Prepared

IntArray = npt.NDArray[np.int64]

ROUNDS = 32


@njit(cache=True, nogil=True)
def _chosen(starts: Any, evening: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """Each pair's options as words (its shared starts where both are in their evening,
    else where one is, else all shared starts), and their count."""
    words = starts.shape[0]
    p = a.size
    chosen = np.zeros((p, words), dtype=np.uint64)
    counts = np.zeros(p, dtype=np.int64)
    for i in range(p):
        x, y = a[i], b[i]
        level = 0  # 2: both in evening, 1: one, 0: shared
        for k in range(words):
            if evening[k, x] & evening[k, y]:
                level = 2
                break
            if (evening[k, x] & starts[k, y]) | (starts[k, x] & evening[k, y]):
                level = 1
        for k in range(words):
            if level == 2:
                w = evening[k, x] & evening[k, y]
            elif level == 1:
                w = (evening[k, x] & starts[k, y]) | (starts[k, x] & evening[k, y])
            else:
                w = starts[k, x] & starts[k, y]
            chosen[i, k] = w
            while w:
                w &= w - np.uint64(1)
                counts[i] += 1
    return chosen, counts


@njit(cache=True, nogil=True)
def _give_out(
    chosen: Any, order: Any, chunk: int, hour: Any, tiebreak: Any, hours: int, grid: int
) -> Any:
    """The rounds: in `order`, `chunk` pairs at a time, each pair takes its option of
    least (matches in its clock hour so far + tiebreak), the first such start; the loads
    grow after each round."""
    p, words = chosen.shape
    result = np.zeros(p, dtype=np.int64)
    load = np.zeros(hours, dtype=np.int64)
    for lo in range(0, p, chunk):
        hi = min(p, lo + chunk)
        for r in order[lo:hi]:
            best = np.inf
            pick = 0
            for k in range(words):
                w = chosen[r, k]
                g = 64 * k
                while w and g < grid:
                    if w & np.uint64(1):
                        cost = load[hour[g]] + tiebreak[g]
                        if cost < best:
                            best = cost
                            pick = g
                    w >>= np.uint64(1)
                    g += 1
            result[r] = pick
        for r in order[lo:hi]:
            load[hour[result[r]]] += 1
    return result


def choose_starts(prep: Prepared, a: IntArray, b: IntArray, seed: int) -> IntArray:
    """Grid index of the start of each pair (a[i], b[i]); every pair must share a start."""
    p = a.size
    if p == 0:
        return np.zeros(0, dtype=np.int64)
    hour = (prep.start_minute(np.arange(prep.grid)) // 60).astype(np.int64)
    hours = int(hour.max()) + 1
    tiebreak = np.random.default_rng(seed).random(prep.grid)
    # Option counts decide the order: the most constrained pairs choose first.
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    chosen, counts = _chosen(prep.starts, prep.evening, a, b)
    chunk = max(1, -(-p // ROUNDS)) if p > ROUNDS else 1
    order = np.lexsort((np.minimum(a, b) * prep.n + np.maximum(a, b), counts))
    picked: IntArray = _give_out(chosen, order, chunk, hour, tiebreak, hours, prep.grid)
    return picked

"""The compiled slot choice (slots.py) gives the starts of the numpy rounds it replaced."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from matchdesk.matching import Rules, solve
from matchdesk.matching.prepare import Prepared
from matchdesk.matching.slots import ROUNDS, choose_starts
from matchdesk.matching.synthetic import synthetic_problem


def _options(prep: Prepared, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> np.ndarray:
    st, ev = prep.starts[:, a].T, prep.evening[:, a].T
    st_b, ev_b = prep.starts[:, b].T, prep.evening[:, b].T
    both = ev & ev_b
    one = (ev & st_b) | (st & ev_b)
    shared = st & st_b
    has_both = np.any(both != 0, axis=1)
    has_one = np.any(one != 0, axis=1)
    chosen = np.where(has_both[:, None], both, np.where(has_one[:, None], one, shared))
    bits = np.unpackbits(np.ascontiguousarray(chosen).view(np.uint8), axis=1, bitorder="little")
    return bits[:, : prep.grid].astype(np.bool_)


def reference(
    prep: Prepared, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], seed: int
) -> npt.NDArray[np.int64]:
    """The numpy rounds slots.py ran before (one option matrix per round)."""
    p = a.size
    result = np.zeros(p, dtype=np.int64)
    hour = (prep.start_minute(np.arange(prep.grid)) // 60).astype(np.int64)
    tiebreak = np.random.default_rng(seed).random(prep.grid)
    load = np.zeros(int(hour.max()) + 1, dtype=np.int64)
    counts = _options(prep, a, b).sum(axis=1)
    chunk = max(1, -(-p // ROUNDS)) if p > ROUNDS else 1
    order = np.lexsort((np.minimum(a, b) * prep.n + np.maximum(a, b), counts))
    for lo in range(0, p, chunk):
        rows = order[lo : lo + chunk]
        options = _options(prep, a[rows], b[rows])
        cost = np.where(options, load[hour][None, :] + tiebreak[None, :], np.inf)
        pick = np.argmin(cost, axis=1)
        result[rows] = pick
        np.add.at(load, hour[pick], 1)
    return result


@pytest.mark.parametrize(
    ("n", "seed", "rules"),
    [
        (40, 1, Rules()),
        (900, 2, Rules()),
        (700, 3, Rules(duration_minutes=15, slot_step_minutes=15)),
    ],
)
def test_starts_are_the_numpy_rounds(n: int, seed: int, rules: Rules) -> None:
    result = solve(synthetic_problem(n, seed, rules=rules))
    prep = result.prepared
    a, b = result.pair_a, result.pair_b
    assert a.size > 0
    for s in (0, 7):
        assert choose_starts(prep, a, b, s).tolist() == reference(prep, a, b, s).tolist()

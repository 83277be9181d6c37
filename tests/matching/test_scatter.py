"""The compiled scatters (scatter.py) give the numpy forms' values exactly."""

from __future__ import annotations

import numpy as np
import pytest

from matchdesk.matching.scatter import or_ranges, range_keys, scatter_or


def test_scatter_or_is_numpy_bitwise_or_at() -> None:
    rng = np.random.default_rng(7)
    index = rng.integers(0, 30, 300)
    values = rng.integers(0, 1 << 62, 300).astype(np.uint64) << np.uint64(1)
    expected = np.zeros(30, dtype=np.uint64)
    np.bitwise_or.at(expected, index, values)
    got = np.zeros(30, dtype=np.uint64)
    scatter_or(got, index, values)
    assert got.tolist() == expected.tolist()


def _range_words(lo: np.ndarray, hi: np.ndarray, word: int) -> np.ndarray:
    """The numpy masks prepare.py built before: bits lo..hi of each interval in a word."""
    first = np.clip(lo - 64 * word, 0, 64).astype(np.uint64)
    last = np.clip(hi + 1 - 64 * word, 0, 64).astype(np.uint64)
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    upto_last = np.where(last >= 64, ones, (np.uint64(1) << np.minimum(last, 63)) - np.uint64(1))
    upto_first = np.where(first >= 64, ones, (np.uint64(1) << np.minimum(first, 63)) - np.uint64(1))
    return np.bitwise_and(upto_last, np.invert(upto_first)).astype(np.uint64)


def test_or_ranges_sets_the_bits_of_each_interval() -> None:
    rng = np.random.default_rng(3)
    words, n = 4, 50
    owner = rng.integers(0, n, 400)
    lo = rng.integers(0, 64 * words, 400)
    hi = np.minimum(lo + rng.integers(0, 140, 400), 64 * words - 1)
    lo[:8], hi[:8] = [0, 63, 64, 0, 5, 127, 128, 255], [63, 64, 127, 255, 5, 128, 191, 255]
    expected = np.zeros((words, n), dtype=np.uint64)
    for k in range(words):
        np.bitwise_or.at(expected[k], owner, _range_words(lo, hi, k))
    got = np.zeros((words, n), dtype=np.uint64)
    or_ranges(got, owner, lo, hi)
    assert got.tolist() == expected.tolist()


@pytest.mark.parametrize("ordered", [True, False])
def test_range_keys_are_the_distinct_keys_ascending(ordered: bool) -> None:
    rng = np.random.default_rng(5)
    owner = rng.integers(0, 40, 300)
    first = rng.integers(0, 20, 300)
    last = first + rng.integers(0, 6, 300)
    if ordered:  # as the table gives them: by owner, then start
        order = np.lexsort((first, owner))
        owner, first, last = owner[order], first[order], last[order]
    count = last - first + 1
    cell = (
        np.repeat(first, count)
        + np.arange(int(count.sum()))
        - np.repeat(np.cumsum(count) - count, count)
    )
    expected = np.unique(np.repeat(owner, count) * 26 + cell)
    assert range_keys(owner, first, last, 26).tolist() == expected.tolist()

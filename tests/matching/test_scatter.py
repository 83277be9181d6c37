"""The compiled scatter reduction (scatter.py) gives numpy's ufunc.at values exactly."""

from __future__ import annotations

import numpy as np

from matchdesk.matching.scatter import scatter_or


def test_scatter_or_is_numpy_bitwise_or_at() -> None:
    rng = np.random.default_rng(7)
    index = rng.integers(0, 30, 300)
    values = rng.integers(0, 1 << 62, 300).astype(np.uint64) << np.uint64(1)
    expected = np.zeros(30, dtype=np.uint64)
    np.bitwise_or.at(expected, index, values)
    got = np.zeros(30, dtype=np.uint64)
    scatter_or(got, index, values)
    assert got.tolist() == expected.tolist()

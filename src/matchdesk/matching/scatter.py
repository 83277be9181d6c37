"""A compiled scatter reduction: `out[index[k]] |= values[k]` in order.

numpy's `np.bitwise_or.at` does the same without a fast path for uint64 (0.05 s per
word of start bits at a million creators, against 0.003 s here); the values are the
same (bitwise or is exact and order-free). (`np.maximum.at` on floats has a fast path
and is kept.)
"""

from __future__ import annotations

from typing import Any

from numba import njit


@njit(cache=True, nogil=True)
def scatter_or(out: Any, index: Any, values: Any) -> None:
    """`np.bitwise_or.at(out, index, values)`."""
    for k in range(index.size):
        out[index[k]] |= values[k]

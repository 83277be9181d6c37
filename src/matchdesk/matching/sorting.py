"""Sorting helpers that stay fast on tens of millions of int64 keys.

`np.sort` on int64 is several times faster than `np.argsort`, `np.lexsort` and the
hash-based `np.unique` of recent numpy, so hot paths pack what they sort into one int64
key and use these helpers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def unique_sorted(keys: IntArray) -> IntArray:
    """The distinct values of `keys`, ascending."""
    if keys.size == 0:
        return keys.astype(np.int64)
    ordered = np.sort(keys)
    keep = np.empty(ordered.size, dtype=np.bool_)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    result: IntArray = ordered[keep]
    return result


def unique_inverse(keys: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct values ascending and, for each key, the index of its value."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    flags = np.empty(ordered.size, dtype=np.bool_)
    if ordered.size:
        flags[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=flags[1:])
    ids = np.cumsum(flags) - 1
    inverse = np.empty(keys.size, dtype=np.int64)
    inverse[order] = ids
    return ordered[flags], inverse


def bits_for(count: int) -> int:
    """Bits needed to store values 0..count-1 (at least 1)."""
    return max(1, int(count - 1).bit_length())

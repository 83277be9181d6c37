"""Threads for the few hot loops that are plain numpy over independent slices.

numpy releases the GIL in its sorts, gathers and element-wise loops, so slices of one
array can be worked on by two threads at once. Results never depend on the thread
count: slices are cut the same way and joined in order, and a parallel sort sorts
contiguous parts and merges them (a total order on integers has one sorted form).

The thread count is set per solve of a shard (`using_threads`); workers of the process
and Ray executors use one thread each, since they already fill the cores.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")
U = TypeVar("U")

MIN_PARALLEL = 1 << 21  # below this many elements, threads cost more than they give
_threads = 1


def default_threads() -> int:
    """Threads for a solve in this process: the CPUs, at most 2 (memory bandwidth)."""
    return max(1, min(2, os.cpu_count() or 1))


def current_threads() -> int:
    """The thread count set for the running solve."""
    return _threads


@contextmanager
def using_threads(count: int) -> Iterator[None]:
    """Run the block with `count` threads for the parallel helpers."""
    global _threads
    previous, _threads = _threads, max(1, count)
    try:
        yield
    finally:
        _threads = previous


def thread_map(fn: Callable[[T], U], items: Sequence[T], work: int | None = None) -> list[U]:
    """`[fn(x) for x in items]`, on the current threads (in this thread when `work`, the
    elements the items touch in all, is below `MIN_PARALLEL`)."""
    small = work is not None and work < MIN_PARALLEL
    if _threads <= 1 or len(items) <= 1 or small:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(min(_threads, len(items))) as pool:
        return list(pool.map(fn, items))


def sort_inplace(values: npt.NDArray[np.int64]) -> None:
    """Sort an int64 array in place: parts in threads, then one merge of the runs."""
    size = values.size
    if _threads <= 1 or size < MIN_PARALLEL:
        values.sort()
        return
    cuts = np.linspace(0, size, _threads + 1).astype(np.int64).tolist()
    parts = [values[lo:hi] for lo, hi in itertools.pairwise(cuts)]
    thread_map(lambda part: part.sort(), parts)
    values.sort(kind="stable")  # timsort: finds the sorted runs and merges them

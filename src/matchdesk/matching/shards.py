"""Independent shards of a pool: parts no feasible pair crosses, solved one by one.

A feasible pair shares a tier band (when the tier distance must be 0) and a language
(when one is required), so the creators fall apart into the connected components of
the graph linking each creator to its (band, language) nodes: with the default rules,
tier x language component (English joins most languages; Italian or Polish speakers
of one tier may form a shard of their own). Every shard is cut out as its own
`PoolArrays`, rows renumbered 0..n-1 in pool order, with its own pair lists, so it can
be solved in this process, another process or a Ray worker alike, with the same result.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matchdesk.matching.prepare import PoolArrays
from matchdesk.matching.sorting import unique_sorted

IntArray = npt.NDArray[np.int64]


def shard_labels(prep: PoolArrays) -> tuple[int, IntArray]:
    """Number of shards and each creator's shard (-1: inactive or never available).

    Shards are numbered by their first row, so the numbering follows the pool order.
    """
    n = prep.n
    label = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(prep.active & prep.has_start)
    if rows.size == 0:
        return 0, label
    rules = prep.rules
    band = prep.tier[rows] if rules.max_tier_distance == 0 else np.zeros(rows.size, np.int64)
    if rules.require_shared_language:
        count = np.diff(prep.lang_ptr)[rows]
        flat = np.repeat(prep.lang_ptr[:-1][rows], count) + (
            np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        )
        owner, lang = np.repeat(rows, count), prep.lang_code[flat]
        band = np.repeat(band, count)
    else:
        owner, lang = rows, np.zeros(rows.size, dtype=np.int64)
    vocab = max(1, prep.vocab_size)
    node = n + band * vocab + lang
    size = n + (int(prep.tier.max()) + 1) * vocab
    graph = coo_matrix((np.ones(owner.size, dtype=np.int8), (owner, node)), shape=(size, size))
    _, component = connected_components(graph, directed=False)
    # Renumber the components of the active rows by first row; others get -1.
    comp = component[rows]
    first = np.full(int(component.max()) + 1, -1, dtype=np.int64)
    first[comp[::-1]] = rows[::-1]
    used = np.flatnonzero(first >= 0)
    rank = np.full(first.size, -1, dtype=np.int64)
    rank[used[np.argsort(first[used], kind="stable")]] = np.arange(used.size)
    label[rows] = rank[comp]
    return int(used.size), label


def _split_keys(
    keys: IntArray, n: int, label: IntArray, local: IntArray, sizes: IntArray
) -> list[IntArray]:
    """Pair keys of the pool, per shard, in the shard's numbering (cross pairs dropped)."""
    count = sizes.size
    x, y = keys // n, keys % n
    same = (label[x] >= 0) & (label[x] == label[y])
    x, y = x[same], y[same]
    owner = label[x]
    order = np.argsort(owner, kind="stable")
    x, y, owner = x[order], y[order], owner[order]
    bounds = np.searchsorted(owner, np.arange(count + 1))
    out: list[IntArray] = []
    for s in range(count):
        lx, ly = local[x[bounds[s] : bounds[s + 1]]], local[y[bounds[s] : bounds[s + 1]]]
        out.append(unique_sorted(np.minimum(lx, ly) * int(sizes[s]) + np.maximum(lx, ly)))
    return out


@njit(cache=True)
def _grouped(label: IntArray, count: int) -> tuple[IntArray, IntArray]:
    """Stable counting sort of labels -1..count-1: the order of np.argsort(label,
    kind="stable") and where each label 0..count-1 starts in it (count + 1 bounds)."""
    starts = np.zeros(count + 2, dtype=np.int64)
    for x in label:
        starts[x + 2] += 1
    for k in range(1, count + 2):
        starts[k] += starts[k - 1]
    bounds = starts[1:].copy()
    order = np.empty(label.size, dtype=np.int64)
    for i in range(label.size):
        k = label[i] + 1
        order[starts[k]] = i
        starts[k] += 1
    return order, bounds


def split_pool(prep: PoolArrays, min_size: int = 2) -> list[tuple[IntArray, PoolArrays]]:
    """The shards of a pool with at least `min_size` creators: (pool rows, arrays)."""
    count, label = shard_labels(prep)
    if count == 0:
        return []
    n = prep.n
    order, bounds = _grouped(label, count)  # rows grouped by shard, in pool order
    sizes = np.diff(bounds)
    local = np.zeros(n, dtype=np.int64)
    for s in range(count):
        local[order[bounds[s] : bounds[s + 1]]] = np.arange(int(sizes[s]))
    entry_order, entry_bounds = _grouped(label[prep.entry_creator], count)
    forbidden = _split_keys(prep.forbidden, n, label, local, sizes)
    met = _split_keys(prep.met, n, label, local, sizes)
    lang_count = np.diff(prep.lang_ptr)
    out: list[tuple[IntArray, PoolArrays]] = []
    for s in range(count):
        if sizes[s] < min_size:
            continue
        rows = order[bounds[s] : bounds[s + 1]]
        entries = entry_order[entry_bounds[s] : entry_bounds[s + 1]]
        counts = lang_count[rows]
        lang_ptr = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(counts, out=lang_ptr[1:])
        flat = np.repeat(prep.lang_ptr[:-1][rows], counts) + (
            np.arange(int(lang_ptr[-1])) - np.repeat(lang_ptr[:-1], counts)
        )
        shard = PoolArrays(
            n=int(rows.size),
            grid=prep.grid,
            starts=np.ascontiguousarray(prep.starts[:, rows]),
            evening=np.ascontiguousarray(prep.evening[:, rows]),
            has_start=prep.has_start[rows],
            cell_size=prep.cell_size,
            entry_creator=local[prep.entry_creator[entries]],
            entry_cell=prep.entry_cell[entries],
            log_revenue=prep.log_revenue[rows],
            log_followers=prep.log_followers[rows],
            fair=prep.fair[rows],
            lang_words=np.ascontiguousarray(prep.lang_words[:, rows]),
            active=prep.active[rows],
            forbidden=forbidden[s],
            met=met[s],
            rules=prep.rules,
            weights=prep.weights,
            tier=prep.tier[rows],
            lang_ptr=lang_ptr,
            lang_code=prep.lang_code[flat],
            vocab_size=prep.vocab_size,
        )
        out.append((rows, shard))
    return out

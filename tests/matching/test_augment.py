"""augment.augment_paths, compiled, against the vectorised form it replaced: the same
pairs added, the same matching, on random graphs from random starts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from matchdesk.matching.augment import augment_paths
from matchdesk.matching.regions import Adjacency

IntArray = npt.NDArray[np.int64]


def _first_of(keys: IntArray) -> npt.NDArray[np.bool_]:
    """Mask of the first occurrence of each value in `keys`."""
    order = np.argsort(keys, kind="stable")
    first = np.ones(keys.size, dtype=np.bool_)
    sorted_keys = keys[order]
    first_sorted = np.ones(keys.size, dtype=np.bool_)
    first_sorted[1:] = sorted_keys[1:] != sorted_keys[:-1]
    first[order] = first_sorted
    return first


def vectorised_augment_paths(
    n: int, adjacency: Adjacency, mate: IntArray, max_phases: int = 200
) -> int:
    """augment_paths as it was before it was compiled (whole-array levels)."""
    added = 0
    degree = np.diff(adjacency.ptr)
    for _ in range(max_phases):
        free = np.flatnonzero((mate < 0) & (degree > 0))
        if free.size < 2:
            break
        label = np.full(n, -1, dtype=np.int8)  # -1 unvisited, 0 even, 1 odd
        root = np.full(n, -1, dtype=np.int64)
        parent = np.full(n, -1, dtype=np.int64)
        label[free] = 0
        root[free] = free
        frontier = free
        found_u = found_v = np.zeros(0, dtype=np.int64)
        while frontier.size:
            src, dst = adjacency.edges_from(frontier)
            even_other = (label[dst] == 0) & (root[dst] != root[src])
            if np.any(even_other):
                found_u, found_v = src[even_other], dst[even_other]
                break
            grow = label[dst] == -1  # unvisited, hence matched
            src, dst = src[grow], dst[grow]
            first = _first_of(dst)
            src, dst = src[first], dst[first]
            # A matched pair reached from both ends in one level: keep one end only.
            reached = np.zeros(n, dtype=np.bool_)
            reached[dst] = True
            single = ~reached[mate[dst]] | (dst < mate[dst])
            src, dst = src[single], dst[single]
            label[dst] = 1
            parent[dst] = src
            root[dst] = root[src]
            nxt = mate[dst]
            label[nxt] = 0
            parent[nxt] = dst
            root[nxt] = root[src]
            frontier = nxt
        if found_u.size == 0:
            break
        # Paths with two distinct trees, each tree used once.
        ru, rv = root[found_u], root[found_v]
        chosen = np.zeros(found_u.size, dtype=np.bool_)
        used = np.zeros(n, dtype=np.bool_)
        first = _first_of(np.minimum(ru, rv) * n + np.maximum(ru, rv))
        for i in np.flatnonzero(first).tolist():  # few per phase: a short loop is fine
            if not used[ru[i]] and not used[rv[i]]:
                used[ru[i]] = used[rv[i]] = True
                chosen[i] = True
        u, v = found_u[chosen], found_v[chosen]
        for side in (u, v):
            x = side.copy()
            while True:
                active = root[x] != x
                if not np.any(active):
                    break
                xa = x[active]
                p = parent[xa]  # odd: x's current mate
                y = parent[p]  # even: p's tree parent
                mate[p] = y
                mate[y] = p
                x[active] = y
        mate[u] = v
        mate[v] = u
        added += int(u.size)
    return added


@pytest.mark.parametrize("seed", range(6))
def test_augment_paths_is_the_vectorised_form(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 600))
    keys = np.unique(rng.integers(0, n * n, int(n * rng.uniform(1.0, 4.0))))
    a, b = keys // n, keys % n
    a, b = a[a < b], b[a < b]
    mate = np.full(n, -1, dtype=np.int64)
    for k in rng.permutation(a.size)[: a.size // 3].tolist():  # a sparse random start
        if mate[a[k]] < 0 and mate[b[k]] < 0:
            mate[a[k]], mate[b[k]] = b[k], a[k]
    adjacency = Adjacency(n, a, b)
    for phases in (1, 3, 200):
        mine, reference = mate.copy(), mate.copy()
        added = augment_paths(n, adjacency, mine, phases)
        assert added == vectorised_augment_paths(n, adjacency, reference, phases)
        assert mine.tolist() == reference.tolist()
    assert added > 0

"""Maximum cardinality, vectorised: augmenting paths from all free creators at once.

Each phase grows alternating trees from every free creator in lock-step, one level per
round of numpy operations (like a Hopcroft-Karp phase): from an even vertex, a
non-matching edge to an unvisited matched creator makes it odd and its mate even. An
edge between even vertices of two different trees closes an augmenting path; a set of
such paths with distinct trees is flipped at once. Blossoms (odd cycles inside a tree)
are not contracted, so a phase can miss a path; phases repeat until none is found.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matchdesk.matching.regions import Adjacency, grow_region, resolve_regions

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _first_of(keys: IntArray) -> npt.NDArray[np.bool_]:
    """Mask of the first occurrence of each value in `keys`."""
    order = np.argsort(keys, kind="stable")
    first = np.ones(keys.size, dtype=np.bool_)
    sorted_keys = keys[order]
    first_sorted = np.ones(keys.size, dtype=np.bool_)
    first_sorted[1:] = sorted_keys[1:] != sorted_keys[:-1]
    first[order] = first_sorted
    return first


def augment_paths(n: int, adjacency: Adjacency, mate: IntArray, max_phases: int = 200) -> int:
    """Grow `mate` (in place) by augmenting paths; returns the pairs added."""
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


def repair_free(
    n: int,
    adjacency: Adjacency,
    a: IntArray,
    b: IntArray,
    w: FloatArray,
    mate: IntArray,
    hops: int,
    limit: int,
) -> None:
    """Re-solve exactly the neighbourhood of the creators still free, in place.

    The region is every free creator with candidate edges, grown `hops` times by its
    neighbours and their partners; each connected piece of it of at most `limit`
    creators that holds a free creator is re-matched exactly (regions.py), so
    cardinality, then weight, can only grow. This finds the augmenting paths through
    odd cycles that `augment_paths` cannot see.
    """
    degree = np.diff(adjacency.ptr)
    free = (mate < 0) & (degree > 0)
    if not np.any(free):  # one free creator is enough: its neighbourhood may score better
        return
    region = grow_region(adjacency, mate, free, hops)
    resolve_regions(n, a, b, w, mate, region, limit, only=free)

"""Maximum cardinality, fast: augmenting paths from all free creators at once.

Each phase grows alternating trees from every free creator in lock-step, one level at a
time (like a Hopcroft-Karp phase; a compiled loop that does what whole-array numpy
levels did, tests/matching/test_augment.py compares the two): from an even vertex, a
non-matching edge to an unvisited matched creator makes it odd and its mate even. An
edge between even vertices of two different trees closes an augmenting path; a set of
such paths with distinct trees is flipped at once. Blossoms (odd cycles inside a tree)
are not contracted, so a phase can miss a path; phases repeat until none is found.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from matchdesk.matching.regions import Adjacency, grow_region, resolve_regions

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def augment_paths(n: int, adjacency: Adjacency, mate: IntArray, max_phases: int = 200) -> int:
    """Grow `mate` (in place) by augmenting paths; returns the pairs added."""
    return int(_phases(n, adjacency.ptr, adjacency.dst, mate, max_phases))


@njit(cache=True)
def _phases(n: int, ptr: IntArray, dst: IntArray, mate: IntArray, max_phases: int) -> int:
    """The phases of `augment_paths`, compiled. Each level is what the vectorised form
    did with whole arrays: the edges out of the frontier in frontier, then adjacency
    order; if any joins two trees' even vertices, those joins (in that order) end the
    level; else each unvisited target is taken by its first edge, a matched pair
    reached from both ends keeps its lower end, and only then are the labels written.
    Of the joins, each is taken when neither of its trees is used yet (the first join
    of a pair of trees is the only one that can be)."""
    added = 0
    label = np.empty(n, dtype=np.int8)  # -1 unvisited, 0 even, 1 odd
    root = np.empty(n, dtype=np.int64)
    parent = np.empty(n, dtype=np.int64)
    claimed = np.full(n, -1, dtype=np.int64)  # the level that took the vertex
    used = np.zeros(n, dtype=np.bool_)
    frontier = np.empty(n, dtype=np.int64)
    nxt = np.empty(n, dtype=np.int64)
    take_src = np.empty(n, dtype=np.int64)
    take_dst = np.empty(n, dtype=np.int64)
    level = 0
    for _ in range(max_phases):
        size = 0
        for v in range(n):
            label[v] = -1
            root[v] = -1
            parent[v] = -1
            if mate[v] < 0 and ptr[v + 1] > ptr[v]:
                frontier[size] = v
                size += 1
        if size < 2:
            break
        for i in range(size):
            v = frontier[i]
            label[v] = 0
            root[v] = v
        found_u = np.empty(0, dtype=np.int64)
        found_v = np.empty(0, dtype=np.int64)
        while size:
            level += 1
            joins = 0
            taken = 0
            for i in range(size):
                x = frontier[i]
                for e in range(ptr[x], ptr[x + 1]):
                    y = dst[e]
                    if label[y] == 0 and root[y] != root[x]:
                        if joins == found_u.size:
                            found_u = _grown(found_u, joins)
                            found_v = _grown(found_v, joins)
                        found_u[joins] = x
                        found_v[joins] = y
                        joins += 1
                    elif joins == 0 and label[y] == -1 and claimed[y] != level:
                        claimed[y] = level
                        take_src[taken] = x
                        take_dst[taken] = y
                        taken += 1
            if joins:
                found_u, found_v = found_u[:joins], found_v[:joins]
                break
            size = 0
            for i in range(taken):
                y = take_dst[i]
                z = mate[y]
                if claimed[z] == level and z < y:
                    continue  # the pair was reached from both ends: its lower end grows
                nxt[size] = i
                size += 1
            for k in range(size):
                i = nxt[k]
                x, y = take_src[i], take_dst[i]
                z = mate[y]
                label[y] = 1
                parent[y] = x
                root[y] = root[x]
                label[z] = 0
                parent[z] = y
                root[z] = root[x]
                frontier[k] = z
        if found_u.size == 0:
            break
        for i in range(found_u.size):
            used[root[found_u[i]]] = False
            used[root[found_v[i]]] = False
        chosen = 0
        for i in range(found_u.size):
            u, v = found_u[i], found_v[i]
            ru, rv = root[u], root[v]
            if used[ru] or used[rv]:
                continue
            used[ru] = True
            used[rv] = True
            for x in (u, v):
                while root[x] != x:
                    p = parent[x]  # odd: x's current mate
                    y = parent[p]  # even: p's tree parent
                    mate[p] = y
                    mate[y] = p
                    x = y
            found_u[chosen] = u
            found_v[chosen] = v
            chosen += 1
        for i in range(chosen):
            u, v = found_u[i], found_v[i]
            mate[u] = v
            mate[v] = u
        added += chosen
    return added


@njit(cache=True)
def _grown(x: IntArray, used: int) -> IntArray:
    bigger = np.empty(max(16, 2 * used), dtype=np.int64)
    bigger[:used] = x[:used]
    return bigger


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

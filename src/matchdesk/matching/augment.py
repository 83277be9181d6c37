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
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from matchdesk.matching.exact import exact_matching
from matchdesk.matching.sorting import bits_for

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class Adjacency:
    """CSR adjacency of an undirected edge list (both directions)."""

    def __init__(self, n: int, a: IntArray, b: IntArray) -> None:
        src = np.concatenate([a, b])
        dst = np.concatenate([b, a])
        shift = bits_for(n)
        packed = np.sort((src << shift) | dst)
        self.dst = packed & ((1 << shift) - 1)
        self.ptr = np.searchsorted(packed >> shift, np.arange(n + 1)).astype(np.int64)

    def edges_from(self, nodes: IntArray) -> tuple[IntArray, IntArray]:
        """Directed edges (source, target) out of `nodes`."""
        count = self.ptr[nodes + 1] - self.ptr[nodes]
        total = int(count.sum())
        offsets = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        src = np.repeat(nodes, count)
        return src, self.dst[np.repeat(self.ptr[nodes], count) + offsets]


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
    neighbours and their mates, so no pair crosses its border. Each connected piece of at
    most `limit` creators is re-matched exactly (rustworkx): the old pairs inside are one
    of the matchings it compares, so cardinality, then weight, can only grow. This finds
    the augmenting paths through odd cycles that `augment_paths` cannot see.
    """
    degree = np.diff(adjacency.ptr)
    free = np.flatnonzero((mate < 0) & (degree > 0))
    if free.size == 0:  # one free creator is enough: its neighbourhood may score better
        return
    region = np.zeros(n, dtype=np.bool_)
    region[free] = True
    for _ in range(hops):
        _, dst = adjacency.edges_from(np.flatnonzero(region))
        region[dst] = True
        partner = mate[region]
        region[partner[partner >= 0]] = True
    sel = region[a] & region[b]
    ra, rb, rw = a[sel], b[sel], w[sel]
    count, label = connected_components(
        csr_matrix((np.ones(ra.size, dtype=np.int8), (ra, rb)), shape=(n, n)), directed=False
    )
    sizes = np.bincount(label[region], minlength=count)
    has_free = np.zeros(count, dtype=np.bool_)
    has_free[label[free]] = True
    edge_label = label[ra]
    order = np.argsort(edge_label, kind="stable")
    ra, rb, rw, edge_label = ra[order], rb[order], rw[order], edge_label[order]
    bounds = np.searchsorted(edge_label, np.arange(count + 1))
    nodes_all = np.flatnonzero(region)
    node_label = label[nodes_all]
    node_order = np.argsort(node_label, kind="stable")
    node_bounds = np.searchsorted(node_label[node_order], np.arange(count + 1))
    for c in np.flatnonzero(has_free & (sizes <= limit) & (sizes >= 2)).tolist():
        nodes = np.sort(nodes_all[node_order[node_bounds[c] : node_bounds[c + 1]]])
        lo, hi = int(bounds[c]), int(bounds[c + 1])
        mate[nodes] = -1
        x, y = exact_matching(nodes, ra[lo:hi], rb[lo:hi], rw[lo:hi])
        mate[x], mate[y] = y, x

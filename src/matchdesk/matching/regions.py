"""Exact re-solving of regions: the one tool behind the rounding and the repairs.

A region is a set of creators closed under the current pairs (a creator's partner is in
the region whenever the creator is). Re-matching it exactly (blossom.py, maximum
cardinality first) can only do as well or better than the pairs it had, since those
pairs are one of the matchings the exact solver compares; pairs leaving the region are
untouched. Regions are grown from seeds along a sparse adjacency (each creator's best
candidates) and the current pairs, and each connected piece of at most `limit` creators
is solved on its own; bigger pieces are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from matchdesk.matching.exact import exact_matching
from matchdesk.matching.sorting import bits_for

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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


def label_components(n: int, a: IntArray, b: IntArray) -> tuple[int, IntArray]:
    """Connected components of the graph of edges (a, b) on n creators: count, labels.

    Components are numbered by their smallest creator, as scipy's connected_components
    numbers them (`reference_components`); a compiled union-find, without the sparse
    matrix's construction (which cost more than the search on small graphs)."""
    labels = np.empty(n, dtype=np.int64)
    count = _union_find_labels(n, a, b, labels)
    return int(count), labels


def reference_components(n: int, a: IntArray, b: IntArray) -> tuple[int, IntArray]:
    """`label_components` by scipy (the tests compare the two)."""
    graph = csr_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    return int(count), labels.astype(np.int64)


@njit(cache=True)
def _union_find_labels(n: int, a: Any, b: Any, labels: Any) -> int:
    """Labels of the components (numbered by smallest member, in creator order) written
    into `labels`; returns their count. Each root is its component's smallest creator."""
    parent = np.arange(n)
    for k in range(a.size):
        x, y = a[k], b[k]
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        while parent[y] != y:
            parent[y] = parent[parent[y]]
            y = parent[y]
        if x < y:
            parent[y] = x
        elif y < x:
            parent[x] = y
    count = 0
    for i in range(n):
        r = parent[i]
        if r == i:
            labels[i] = count
            count += 1
        else:
            while parent[r] != r:
                r = parent[r]
            parent[i] = r
            labels[i] = labels[r]
    return count


@dataclass(frozen=True, eq=False)
class Pieces:
    """Edges and creators grouped by the piece (label) they belong to.

    The edges keep their relative order within a piece (best first stays best first);
    each piece's creators come sorted.
    """

    a: IntArray
    b: IntArray
    w: FloatArray
    label: IntArray  # of each edge, ascending
    edge_bounds: IntArray
    nodes: IntArray
    node_bounds: IntArray

    @classmethod
    def of(
        cls, count: int, label: IntArray, nodes: IntArray, a: IntArray, b: IntArray, w: FloatArray
    ) -> Pieces:
        """Group `nodes` and the edges (a, b, w) by `label` (per creator, 0..count-1)."""
        edge_label = label[a]
        order = np.argsort(edge_label, kind="stable")
        edge_label = edge_label[order]
        node_order = np.argsort(label[nodes], kind="stable")
        sorted_nodes = nodes[node_order]
        steps = np.arange(count + 1)
        return cls(
            a[order],
            b[order],
            w[order],
            edge_label,
            np.searchsorted(edge_label, steps),
            sorted_nodes,
            np.searchsorted(label[sorted_nodes], steps),
        )

    def members(self, c: int) -> IntArray:
        """The creators of piece c, sorted."""
        return self.nodes[self.node_bounds[c] : self.node_bounds[c + 1]]

    def edges(self, c: int) -> tuple[IntArray, IntArray, FloatArray]:
        """The edges of piece c."""
        lo, hi = int(self.edge_bounds[c]), int(self.edge_bounds[c + 1])
        return self.a[lo:hi], self.b[lo:hi], self.w[lo:hi]


def grow_region(adjacency: Adjacency, mate: IntArray, seeds: BoolArray, hops: int) -> BoolArray:
    """`seeds` grown `hops` times by their neighbours, then closed under the pairs."""
    region = seeds.copy()
    partner = mate[region]
    region[partner[partner >= 0]] = True
    for _ in range(hops):
        _, dst = adjacency.edges_from(np.flatnonzero(region))
        region[dst] = True
        partner = mate[region]
        region[partner[partner >= 0]] = True
    return region


def resolve_regions(
    n: int,
    a: IntArray,
    b: IntArray,
    w: FloatArray,
    mate: IntArray,
    region: BoolArray,
    limit: int,
    only: BoolArray | None = None,
) -> int:
    """Re-match exactly, in place, each connected piece of `region` (closed under the
    pairs) with 2 to `limit` creators; with `only`, just the pieces holding one of those
    creators. Returns the number of pieces solved."""
    sel = region[a] & region[b]
    ra, rb, rw = a[sel], b[sel], w[sel]
    count, label = label_components(n, ra, rb)
    sizes = np.bincount(label[region], minlength=count)
    wanted = (sizes >= 2) & (sizes <= limit)
    if only is not None:
        holds = np.zeros(count, dtype=np.bool_)
        holds[label[only & region]] = True
        wanted &= holds
    if not np.any(wanted):
        return 0
    grouped = Pieces.of(count, label, np.flatnonzero(region), ra, rb, rw)
    pieces = np.flatnonzero(wanted).tolist()
    for c in pieces:
        nodes = grouped.members(c)
        mate[nodes] = -1
        x, y = exact_matching(nodes, *grouped.edges(c))
        mate[x], mate[y] = y, x
    return len(pieces)

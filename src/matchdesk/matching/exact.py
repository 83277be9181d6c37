"""Exact maximum-cardinality, maximum-weight matching with rustworkx (Edmonds' blossom).

rustworkx wants integer weights; scores are scaled by `SCALE` and rounded, which keeps
the order of any two matchings whose weights differ by more than n / SCALE.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import rustworkx as rx

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SCALE = 1_000_000


def exact_matching(
    nodes: IntArray, a: IntArray, b: IntArray, w: FloatArray
) -> tuple[IntArray, IntArray]:
    """Pairs of a maximum-cardinality matching of greatest weight on edges (a, b, w).

    `nodes` lists the vertices (sorted); a and b must be among them. Returns the pairs
    as two arrays with a < b, sorted by a.
    """
    if a.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    local_a = np.searchsorted(nodes, a)
    local_b = np.searchsorted(nodes, b)
    weights = np.rint(w * SCALE).astype(np.int64)
    graph: rx.PyGraph = rx.PyGraph(multigraph=False)
    graph.add_nodes_from(range(nodes.size))
    graph.add_edges_from(
        list(zip(local_a.tolist(), local_b.tolist(), weights.tolist(), strict=True))
    )
    pairs = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=int)
    if not pairs:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    arr = np.array(sorted(pairs), dtype=np.int64)
    x, y = nodes[arr[:, 0]], nodes[arr[:, 1]]
    lo, hi = np.minimum(x, y), np.maximum(x, y)
    order = np.argsort(lo)
    return lo[order], hi[order]

"""The matching LP without odd-set constraints, solved on the bipartite double cover.

Every vertex gets a "left" and a "right" copy and every edge i - j (profit p_ij) becomes
i_L - j_R and j_L - i_R; i_L - i_R (profit 0) means "single". A maximum-profit perfect
assignment of that bipartite graph (scipy's sparse LAPJV on costs top - profit,
milliseconds at thousands of vertices) is a permutation sigma whose 2-cycles are pairs
and whose longer cycles are the fractional part of an optimal fractional matching: even
cycles split into pairs at no loss, odd cycles are half-integral (each vertex at one
half on its two cycle edges).

Its duals are what make it a start for the exact blossom algorithm (blossom.py): values
y_i >= 0 with y_i + y_j >= 2 p_ij on every edge, equal on every edge the assignment uses
(in either direction), zero on every vertex it leaves single. So the start's pairs and
odd cycles are tight, the odd cycles can be blossoms from the outset (Blossom V's
"fractional jumpstart"), and the blossom algorithm has only the cycles and the singles
with a positive dual left to settle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

IntArray = npt.NDArray[np.int64]


def double_cover(n: int, a: IntArray, b: IntArray, profit: IntArray) -> IntArray:
    """sigma: a maximum-profit assignment of the double cover (sigma[i] == i: single).

    Integer profits: with arbitrary floats LAPJV can take minutes instead of
    milliseconds (measured on 2,600 creators).
    """
    own = np.arange(n, dtype=np.int64)
    top = int(profit.max()) + 1 if profit.size else 1
    cost = np.concatenate([top - profit, top - profit, np.full(n, top)]).astype(np.float64)
    graph = csr_matrix(
        (cost, (np.concatenate([a, b, own]), np.concatenate([b, a, own]))), shape=(n, n)
    )
    rows, cols = min_weight_full_bipartite_matching(graph)
    sigma = np.empty(n, dtype=np.int64)
    sigma[rows] = cols
    return sigma


@njit(cache=True)
def _lp_duals(n: int, ptr: Any, col: Any, profit: Any, sigma: Any) -> Any:
    """Duals y of the double-cover assignment `sigma`, optimal for the profits (row i:
    columns col[ptr[i]:ptr[i+1]] with profits profit[...], the column i itself among
    them with profit 0).

    The column potentials v are shortest distances in the assignment's residual graph
    (Bellman-Ford with a queue; no negative cycle since sigma is optimal): v_j <=
    v_sigma(i) + p_i,sigma(i) - p_ij for every edge. Then y_i = p_i,sigma(i) + v_sigma(i)
    - v_i is the sum of a vertex's two copies' duals; the problem's symmetry (swap the
    copies) makes the averaged duals optimal too, hence tight on both directions of
    every edge the assignment uses.
    """
    owner = np.empty(n, dtype=np.int64)
    own = np.zeros(n, dtype=np.int64)
    for i in range(n):
        owner[sigma[i]] = i
        for e in range(ptr[i], ptr[i + 1]):
            if col[e] == sigma[i]:
                own[i] = profit[e]
    dist = np.zeros(n, dtype=np.int64)
    queued = np.ones(n, dtype=np.bool_)
    ring = np.arange(n, dtype=np.int64)
    head = 0
    count = n
    steps = 0
    limit = 4 * n * n + 64 * n
    while count > 0:
        x = ring[head]
        head = (head + 1) % n
        count -= 1
        queued[x] = False
        i = owner[x]
        for e in range(ptr[i], ptr[i + 1]):
            j = col[e]
            nd = dist[x] + own[i] - profit[e]
            if nd < dist[j]:
                dist[j] = nd
                if not queued[j]:
                    queued[j] = True
                    ring[(head + count) % n] = j
                    count += 1
        steps += 1
        if steps > limit:
            raise RuntimeError("lp: the assignment given is not optimal")
    y = np.empty(n, dtype=np.int64)
    for i in range(n):
        y[i] = own[i] + dist[sigma[i]] - dist[i]
    return y


@dataclass(frozen=True)
class Start:
    """The relaxation as a start: mates (-1 single), duals y (y_i + y_j >= 2 p_ij),
    odd cycles of tight edges (CSR: cycle c is nodes[ptr[c]:ptr[c + 1]], in order)."""

    mate: IntArray
    dual: IntArray
    cycle_ptr: IntArray
    cycle_nodes: IntArray


def relaxation_start(n: int, a: IntArray, b: IntArray, profit: IntArray) -> Start:
    """The LP optimum for integer profits: its 2-cycles and even cycles as pairs, its
    odd cycles, its duals."""
    sigma = double_cover(n, a, b, profit)
    own = np.arange(n, dtype=np.int64)
    rows = np.concatenate([a, b, own])
    cols = np.concatenate([b, a, own])
    order = np.lexsort((cols, rows))
    ptr = np.searchsorted(rows[order], np.arange(n + 1)).astype(np.int64)
    all_profit = np.concatenate([profit, profit, np.zeros(n, dtype=np.int64)])
    y = _lp_duals(n, ptr, cols[order], all_profit[order], sigma)
    two = (sigma[sigma] == own) & (sigma != own)
    mate: IntArray = np.where(two, sigma, -1)
    seen = (sigma == own) | two
    cycle_ptr = [0]
    cycle_nodes: list[int] = []
    for v in np.flatnonzero(~seen).tolist():
        if seen[v]:
            continue
        cycle = [v]
        seen[v] = True
        x = int(sigma[v])
        while x != v:
            cycle.append(x)
            seen[x] = True
            x = int(sigma[x])
        if len(cycle) % 2 == 0:
            for t in range(0, len(cycle), 2):
                mate[cycle[t]], mate[cycle[t + 1]] = cycle[t + 1], cycle[t]
        else:
            cycle_nodes.extend(cycle)
            cycle_ptr.append(len(cycle_nodes))
    return Start(
        mate, y, np.array(cycle_ptr, dtype=np.int64), np.array(cycle_nodes, dtype=np.int64)
    )

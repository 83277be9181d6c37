"""Exact maximum-cardinality, maximum-weight matching: Edmonds' blossom algorithm, compiled.

The primal-dual blossom method of Edmonds in the form described by Galil ("Efficient
algorithms for finding maximum matching in graphs", ACM Computing Surveys, 1986), the
form networkx and rustworkx implement too, written on flat integer arrays and compiled
with numba, with two changes that make it fast where the engine needs it:

- it starts from the LP relaxation (lp.py) instead of from nothing: the relaxation's
  pairs are kept, its odd cycles are blossoms from the outset and its duals are the
  starting duals, so only a few dozen trees are left to grow instead of one per vertex;
- the duals are lazy and the dual step uses heaps: a step no longer visits every vertex
  and blossom (see "Lazy duals" below).

On the 1,769-creator, 14,552-edge candidate component of a 3,000-creator weekly pool it
takes about 25 ms (rustworkx about 1 s); on that pool's full feasible graph (2,788
creators, 158,924 pairs) 0.2 to 0.27 s against rustworkx's 5 to 18 s, with the same
cardinality and weight. Started cold it is no faster than rustworkx (that mode exists
for the tests). rustworkx stays the reference: the tests compare the two on thousands
of random graphs, and the benchmark's oracle is rustworkx.

Conventions (as in Galil's presentation): edge k joins endpoint[2k] and endpoint[2k+1];
an "endpoint" p names one end of an edge, p ^ 1 the other. Vertices are 0..n-1,
non-trivial blossoms n..2n-1. `dual` holds 2 * u(v) for a vertex and z(b) for a
blossom, so with integer weights every dual stays an integer. Labels: 0 free, 1 S
(outer), 2 T (inner), 5 a breadcrumb while tracing, -1 an unused blossom.

Starting from a matching (blossom_mates(warm=True): the LP relaxation of lp.py) rather
than from nothing changes three things, each keeping the optimality conditions of the
maximum-weight matching LP: a stage grows trees only from single vertices whose dual is
still positive (a single vertex at zero is already optimal); a tree that reaches such a
satisfied single vertex augments to it; and when the dual of a matched S-vertex reaches
zero, the alternating path from its root is flipped (the path is tight, so the weight
does not change) and the vertex becomes single at zero. Each stage thus removes one
root for good. Maximum cardinality comes from a constant added to every weight
(cardinality_shift). Duals stay integers: the two ends of an edge between S-vertices
always carry duals of the same parity, since every root loses the same amount in every
step and all starting duals are even (the weights and the LP duals are doubled).

Lazy duals: within a stage every S-vertex loses and every T-vertex gains the same amount
at each dual step (S-blossoms gain, T-blossoms lose). So the steps are summed (state[2])
and each labelled vertex or top-level blossom keeps a stamp, the sum when its label
took effect; its dual is made current (written back) whenever its rate is about to
change: a T-vertex entering an S-blossom, the vertices of an expanded T-blossom, a
blossom becoming a sub-blossom, and everything at the end of the stage. The four
candidates for the next step live in heaps whose keys do not move between steps (the
dual or the slack plus the sum at the time): S-vertices by dual, unlabelled vertices by
their least slack to an S-vertex, S-blossoms by half their least slack to another
S-blossom, T-blossoms by dual. Entries that went stale are dropped when they surface.

Recursion (leaves of nested blossoms, expanding nested blossoms at the end of a stage,
augmenting through nested blossoms) is done with explicit stacks and each blossom keeps
its vertices as one array; the order in which sub-blossoms are visited does not change
the result of any of those steps.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit
from numba.typed import List

from matchdesk.matching.lp import relaxation_start

IntArray = npt.NDArray[np.int64]

F = TypeVar("F", bound=Callable[..., Any])

# The arrays the helpers share, passed as two tuples: the graph (fixed) and the search
# state (every array mutable; scalars live in `state`: queue length, unused blossoms,
# dual steps taken in the stage).
_Graph = namedtuple("_Graph", ["endpoint", "weight", "nb_ptr", "nb_end"])
_State = namedtuple(
    "_State",
    [
        "mate",
        "dual",
        "label",
        "labelend",
        "inblossom",
        "parent",
        "base",
        "bestedge",
        "allowedge",
        "childs",
        "leafs",
        "endps",
        "best_list",
        "has_best",
        "unused",
        "state",
        "queue",
        "buf_a",
        "buf_b",
        "buf_c",
        "buf_d",
        "best_to",
        "touched",
        "stamp",
        "tbuf",
        "hkey",
        "hitem",
        "hpos",
        "hsize",
        "work_b",
        "work_v",
    ],
)


def _plain(fn: F) -> F:
    """njit for the helpers that allocate nothing, compiled without numba's reference
    counting: otherwise every call increments and decrements, atomically, the count of
    each array passed (a quarter of the running time on a 1,769-creator component)."""
    options = cast(dict[str, Any], {"cache": True, "_nrt": False})
    return cast(F, njit(**options)(fn))


@_plain
def _eff(v: int, dual: Any, label: Any, inblossom: Any, stamp: Any, dsum: int) -> int:
    """The current dual of vertex v (S-vertices lose and T-vertices gain every dual step
    since their stamp; see "Lazy duals" in the module docstring)."""
    lv = label[inblossom[v]]
    if lv == 1:
        return int(dual[v] - (dsum - stamp[v]))
    if lv == 2:
        return int(dual[v] + (dsum - stamp[v]))
    return int(dual[v])


@_plain
def _slack(
    k: int, endpoint: Any, weight: Any, dual: Any, label: Any, inblossom: Any, stamp: Any, dsum: int
) -> int:
    """Twice the slack of edge k (not valid for an edge inside a blossom)."""
    return (
        _eff(endpoint[2 * k], dual, label, inblossom, stamp, dsum)
        + _eff(endpoint[2 * k + 1], dual, label, inblossom, stamp, dsum)
        - 2 * int(weight[k])
    )


@_plain
def _heap_less(hkey: Any, hitem: Any, h: int, i: int, j: int) -> bool:
    return bool(hkey[h, i] < hkey[h, j] or (hkey[h, i] == hkey[h, j] and hitem[h, i] < hitem[h, j]))


@_plain
def _heap_swap(hkey: Any, hitem: Any, hpos: Any, h: int, i: int, j: int) -> None:
    hkey[h, i], hkey[h, j] = hkey[h, j], hkey[h, i]
    hitem[h, i], hitem[h, j] = hitem[h, j], hitem[h, i]
    hpos[h, hitem[h, i]] = i
    hpos[h, hitem[h, j]] = j


@_plain
def _heap_fix(hkey: Any, hitem: Any, hpos: Any, hsize: Any, h: int, i: int) -> None:
    while i > 0 and _heap_less(hkey, hitem, h, i, (i - 1) // 2):
        _heap_swap(hkey, hitem, hpos, h, i, (i - 1) // 2)
        i = (i - 1) // 2
    while True:
        smallest = i
        for c in (2 * i + 1, 2 * i + 2):
            if c < hsize[h] and _heap_less(hkey, hitem, h, c, smallest):
                smallest = c
        if smallest == i:
            return
        _heap_swap(hkey, hitem, hpos, h, i, smallest)
        i = smallest


@_plain
def _heap_set(hkey: Any, hitem: Any, hpos: Any, hsize: Any, h: int, item: int, key: int) -> None:
    """Put `item` in heap h with `key` (or move it there)."""
    i = hpos[h, item]
    if i == -1:
        i = hsize[h]
        hsize[h] += 1
        hitem[h, i] = item
        hpos[h, item] = i
    hkey[h, i] = key
    _heap_fix(hkey, hitem, hpos, hsize, h, i)


@_plain
def _heap_drop_top(hkey: Any, hitem: Any, hpos: Any, hsize: Any, h: int) -> None:
    last = hsize[h] - 1
    _heap_swap(hkey, hitem, hpos, h, 0, last)
    hpos[h, hitem[h, last]] = -1
    hsize[h] -= 1
    if hsize[h] > 0:
        _heap_fix(hkey, hitem, hpos, hsize, h, 0)


@njit(cache=True)
def _heap_clear(hitem: Any, hpos: Any, hsize: Any) -> None:
    for h in range(hsize.size):
        for i in range(hsize[h]):
            hpos[h, hitem[h, i]] = -1
        hsize[h] = 0


@njit(cache=True)
def _leaves(b: int, n: int, leafs: Any, out: Any, offset: int) -> int:
    """Write the vertices of blossom b into out[offset:]; return how many. A blossom's
    vertices are kept as one array from its creation (its children never change)."""
    if b < n:
        out[offset] = b
        return 1
    arr = leafs[b]
    out[offset : offset + arr.size] = arr
    return int(arr.size)


@_plain
def _push(queue: Any, state: Any, v: int) -> None:
    if state[0] >= queue.size:
        raise RuntimeError("blossom: queue overflow")
    queue[state[0]] = v
    state[0] += 1


@njit(cache=True)
def _assign_label(
    w: int,
    t: int,
    p: int,
    n: int,
    gr: Any,
    st: Any,
) -> None:
    """Label the top-level blossom of w with t (reached through endpoint p); a T label
    passes an S label on to the mate of the blossom's base. The blossom was unlabelled,
    so its duals are current: their stamps start now."""
    endpoint = gr.endpoint
    mate = st.mate
    label = st.label
    labelend = st.labelend
    inblossom = st.inblossom
    base = st.base
    bestedge = st.bestedge
    leafs = st.leafs
    queue = st.queue
    state = st.state
    dual = st.dual
    stamp = st.stamp
    tbuf = st.tbuf
    hkey = st.hkey
    hitem = st.hitem
    hpos = st.hpos
    hsize = st.hsize
    dsum = state[2]
    while True:
        b = inblossom[w]
        label[w] = t
        label[b] = t
        labelend[w] = p
        labelend[b] = p
        bestedge[w] = -1
        bestedge[b] = -1
        stamp[b] = dsum
        if t == 1:
            if state[0] + n > queue.size:
                raise RuntimeError("blossom: queue overflow")
            first = state[0]
            state[0] += _leaves(b, n, leafs, queue, first)
            for i in range(first, state[0]):
                x = queue[i]
                stamp[x] = dsum
                _heap_set(hkey, hitem, hpos, hsize, 0, x, dual[x] + dsum)
            return
        count = _leaves(b, n, leafs, tbuf, 0)
        for i in range(count):
            stamp[tbuf[i]] = dsum
        if b >= n:
            _heap_set(hkey, hitem, hpos, hsize, 3, b, dual[b] + dsum)
        mp = mate[base[b]]
        w = endpoint[mp]
        t = 1
        p = mp ^ 1


@_plain
def _scan_blossom(
    v: int,
    w: int,
    endpoint: Any,
    label: Any,
    labelend: Any,
    inblossom: Any,
    base: Any,
    path: Any,
) -> int:
    """Trace back from v and w: the base of the blossom they close, or -1 for an
    augmenting path."""
    count = 0
    found = -1
    while v != -1 or w != -1:
        b = inblossom[v]
        if label[b] & 4:
            found = base[b]
            break
        path[count] = b
        count += 1
        label[b] = 5
        if labelend[b] == -1:
            v = -1
        else:
            v = endpoint[labelend[b]]
            b = inblossom[v]
            v = endpoint[labelend[b]]
        if w != -1:
            v, w = w, v
    for i in range(count):
        label[path[i]] = 1
    return found


@njit(cache=True)
def _add_blossom(
    root: int,
    k: int,
    n: int,
    gr: Any,
    st: Any,
) -> None:
    """A new S-blossom with base `root` closed by edge k (between two S-vertices)."""
    endpoint = gr.endpoint
    weight = gr.weight
    nb_ptr = gr.nb_ptr
    nb_end = gr.nb_end
    dual = st.dual
    label = st.label
    labelend = st.labelend
    inblossom = st.inblossom
    parent = st.parent
    base = st.base
    bestedge = st.bestedge
    childs = st.childs
    endps = st.endps
    best_list = st.best_list
    has_best = st.has_best
    unused = st.unused
    state = st.state
    queue = st.queue
    leafs = st.leafs
    buf_a = st.buf_a
    buf_b = st.buf_b
    buf_c = st.buf_c
    buf_d = st.buf_d
    best_to = st.best_to
    touched = st.touched
    stamp = st.stamp
    hkey = st.hkey
    hitem = st.hitem
    hpos = st.hpos
    hsize = st.hsize
    dsum = state[2]
    v = endpoint[2 * k]
    w = endpoint[2 * k + 1]
    bb = inblossom[root]
    bv = inblossom[v]
    bw = inblossom[w]
    state[1] -= 1
    b = unused[state[1]]
    base[b] = root
    parent[b] = -1
    parent[bb] = b
    na = 0
    while bv != bb:
        parent[bv] = b
        buf_a[na] = bv
        buf_b[na] = labelend[bv]
        na += 1
        v = endpoint[labelend[bv]]
        bv = inblossom[v]
    nw = 0
    while bw != bb:
        parent[bw] = b
        buf_c[nw] = bw
        buf_d[nw] = labelend[bw] ^ 1
        nw += 1
        w = endpoint[labelend[bw]]
        bw = inblossom[w]
    size = 1 + na + nw
    ch = np.empty(size, dtype=np.int64)
    ep = np.empty(size, dtype=np.int64)
    ch[0] = bb
    for i in range(na):
        ch[1 + i] = buf_a[na - 1 - i]
        ep[i] = buf_b[na - 1 - i]
    ep[na] = 2 * k
    for i in range(nw):
        ch[1 + na + i] = buf_c[i]
        ep[na + 1 + i] = buf_d[i]
    childs[b] = ch
    endps[b] = ep
    total = 0
    for c in ch:
        total += 1 if c < n else leafs[c].size
    every = np.empty(total, dtype=np.int64)
    total = 0
    for c in ch:
        total += _leaves(int(c), n, leafs, every, total)
    leafs[b] = every
    # The sub-blossoms stop being top-level: their duals freeze at their current value.
    for c in ch:
        if c >= n:
            if label[c] == 1:
                dual[c] += dsum - stamp[c]
            elif label[c] == 2:
                dual[c] -= dsum - stamp[c]
    label[b] = 1
    labelend[b] = labelend[bb]
    dual[b] = 0
    stamp[b] = dsum
    for i in range(every.size):
        x = int(every[i])
        if label[inblossom[x]] == 2:
            # A T-vertex turns S: its dual stops rising and starts falling now.
            dual[x] += dsum - stamp[x]
            stamp[x] = dsum
            _heap_set(hkey, hitem, hpos, hsize, 0, x, dual[x] + dsum)
            _push(queue, state, x)
        inblossom[x] = b
    # The least-slack edge from the new blossom to each neighbouring S-blossom.
    nt = 0
    for ci in range(size):
        c = ch[ci]
        if has_best[c]:
            edges = best_list[c]
        else:
            count = _leaves(c, n, leafs, buf_a, 0)
            degree = 0
            for li in range(count):
                degree += nb_ptr[buf_a[li] + 1] - nb_ptr[buf_a[li]]
            edges = np.empty(degree, dtype=np.int64)
            degree = 0
            for li in range(count):
                for pi in range(nb_ptr[buf_a[li]], nb_ptr[buf_a[li] + 1]):
                    edges[degree] = nb_end[pi] >> 1
                    degree += 1
        for e in range(edges.size):
            nt = _offer(
                edges[e],
                b,
                endpoint,
                weight,
                dual,
                label,
                inblossom,
                best_to,
                touched,
                nt,
                stamp,
                dsum,
            )
        has_best[c] = False
        best_list[c] = childs[c][:0]
        bestedge[c] = -1
    chosen = np.empty(nt, dtype=np.int64)
    best = -1
    best_slack = 0
    for i in range(nt):
        e = best_to[touched[i]]
        best_to[touched[i]] = -1
        chosen[i] = e
        s = _slack(e, endpoint, weight, dual, label, inblossom, stamp, dsum)
        if best == -1 or s < best_slack:
            best = e
            best_slack = s
    best_list[b] = chosen
    has_best[b] = True
    bestedge[b] = best
    if best != -1:
        _heap_set(hkey, hitem, hpos, hsize, 2, b, best_slack // 2 + dsum)


@_plain
def _offer(
    k: int,
    b: int,
    endpoint: Any,
    weight: Any,
    dual: Any,
    label: Any,
    inblossom: Any,
    best_to: Any,
    touched: Any,
    nt: int,
    stamp: Any,
    dsum: int,
) -> int:
    i = endpoint[2 * k]
    j = endpoint[2 * k + 1]
    if inblossom[j] == b:
        i, j = j, i
    bj = inblossom[j]
    if bj != b and label[bj] == 1:
        if best_to[bj] == -1:
            touched[nt] = bj
            nt += 1
            best_to[bj] = k
        elif _slack(k, endpoint, weight, dual, label, inblossom, stamp, dsum) < _slack(
            best_to[bj], endpoint, weight, dual, label, inblossom, stamp, dsum
        ):
            best_to[bj] = k
    return nt


@njit(cache=True)
def _expand_blossom(
    b0: int,
    end_stage: bool,
    n: int,
    gr: Any,
    st: Any,
) -> None:
    """Turn the sub-blossoms of top-level blossom b0 into top-level blossoms; at the
    end of a stage, sub-blossoms with a zero dual are expanded as well."""
    endpoint = gr.endpoint
    mate = st.mate
    dual = st.dual
    label = st.label
    labelend = st.labelend
    inblossom = st.inblossom
    parent = st.parent
    base = st.base
    bestedge = st.bestedge
    allowedge = st.allowedge
    childs = st.childs
    endps = st.endps
    best_list = st.best_list
    has_best = st.has_best
    unused = st.unused
    state = st.state
    leafs = st.leafs
    buf_a = st.buf_a
    expand_stack = st.work_b
    all_leaves = st.buf_b
    weight = gr.weight
    stamp = st.stamp
    hkey = st.hkey
    hitem = st.hitem
    hpos = st.hpos
    hsize = st.hsize
    # Mid-stage, b0 is a T-blossom whose dual reached zero: its vertices' duals are
    # made current (they rose since their stamp) before its children get labels of
    # their own, and its children's frozen duals start moving from now.
    dsum = state[2]
    total = 0
    expand_stack[0] = b0
    top = 1
    while top > 0:
        top -= 1
        b = expand_stack[top]
        ch = childs[b]
        ep = endps[b]
        size = ch.size
        for s in ch:
            parent[s] = -1
            if end_stage and s >= n and dual[s] == 0:
                expand_stack[top] = s
                top += 1
                continue
            count = _leaves(s, n, leafs, all_leaves, total)
            for i in range(total, total + count):
                x = all_leaves[i]
                inblossom[x] = s
                if not end_stage:
                    dual[x] += dsum - stamp[x]
                    stamp[x] = dsum
            total += count
            if not end_stage:
                stamp[s] = dsum
        if not end_stage and label[b] == 2:
            # The expanded T-blossom's children between the entry and the base get
            # T and S labels along the even path; the others are reconsidered.
            dual[b] -= dsum - stamp[b]
            entry = inblossom[endpoint[labelend[b] ^ 1]]
            j = 0
            while ch[j] != entry:
                j += 1
            if j & 1:
                j -= size
                step = 1
                trick = 0
            else:
                step = -1
                trick = 1
            p = labelend[b]
            while j != 0:
                label[endpoint[p ^ 1]] = 0
                label[endpoint[ep[(j - trick) % size] ^ trick ^ 1]] = 0
                _assign_label(endpoint[p ^ 1], 2, p, n, gr, st)
                allowedge[ep[(j - trick) % size] >> 1] = True
                j += step
                p = ep[(j - trick) % size] ^ trick
                allowedge[p >> 1] = True
                j += step
            bv = ch[j % size]
            label[endpoint[p ^ 1]] = 2
            label[bv] = 2
            labelend[endpoint[p ^ 1]] = p
            labelend[bv] = p
            bestedge[bv] = -1
            j += step
            while ch[j % size] != entry:
                bv = ch[j % size]
                if label[bv] == 1:
                    j += step
                    continue
                count = _leaves(bv, n, leafs, buf_a, 0)
                found = -1
                for i in range(count):
                    if label[buf_a[i]] != 0:
                        found = buf_a[i]
                        break
                if found != -1:
                    label[found] = 0
                    label[endpoint[mate[base[bv]]]] = 0
                    _assign_label(found, 2, labelend[found], n, gr, st)
                j += step
            # Children now top-level: T-blossoms wait for their dual to reach zero,
            # unlabelled vertices for their least-slack edge to an S-vertex.
            for c in ch:
                if c >= n and label[c] == 2:
                    _heap_set(hkey, hitem, hpos, hsize, 3, c, dual[c] + stamp[c])
            for i in range(total):
                x = all_leaves[i]
                if label[inblossom[x]] == 0 and bestedge[x] != -1:
                    key = (
                        _slack(bestedge[x], endpoint, weight, dual, label, inblossom, stamp, dsum)
                        + dsum
                    )
                    _heap_set(hkey, hitem, hpos, hsize, 1, x, key)
        label[b] = -1
        labelend[b] = -1
        childs[b] = ch[:0]
        endps[b] = ep[:0]
        leafs[b] = ch[:0]
        best_list[b] = ch[:0]
        has_best[b] = False
        base[b] = -1
        bestedge[b] = -1
        unused[state[1]] = b
        state[1] += 1


@njit(cache=True)
def _augment_blossom(
    b0: int,
    v0: int,
    n: int,
    gr: Any,
    st: Any,
) -> None:
    """Swap matched and unmatched edges along the even path from v0 to the base of
    blossom b0, so that v0 becomes the base (nested blossoms likewise)."""
    endpoint = gr.endpoint
    mate = st.mate
    parent = st.parent
    base = st.base
    childs = st.childs
    endps = st.endps
    work_b = st.work_b
    work_v = st.work_v
    work_b[0] = b0
    work_v[0] = v0
    top = 1
    while top > 0:
        top -= 1
        b = work_b[top]
        v = work_v[top]
        t = v
        while parent[t] != b:
            t = parent[t]
        if t >= n:
            work_b[top] = t
            work_v[top] = v
            top += 1
        ch = childs[b]
        ep = endps[b]
        size = ch.size
        i = 0
        while ch[i] != t:
            i += 1
        j = i
        if i & 1:
            j -= size
            step = 1
            trick = 0
        else:
            step = -1
            trick = 1
        while j != 0:
            j += step
            t = ch[j % size]
            p = ep[(j - trick) % size] ^ trick
            if t >= n:
                work_b[top] = t
                work_v[top] = endpoint[p]
                top += 1
            j += step
            t = ch[j % size]
            if t >= n:
                work_b[top] = t
                work_v[top] = endpoint[p ^ 1]
                top += 1
            mate[endpoint[p]] = p ^ 1
            mate[endpoint[p ^ 1]] = p
        childs[b] = np.concatenate((ch[i:], ch[:i]))
        endps[b] = np.concatenate((ep[i:], ep[:i]))
        base[b] = v  # the new base: v0's side of every nested blossom


@njit(cache=True)
def _augment_side(
    s: int,
    p: int,
    n: int,
    gr: Any,
    st: Any,
) -> None:
    """Give S-vertex s the mate endpoint p (-1: single) and flip the alternating path
    from s back to the root of its tree."""
    endpoint = gr.endpoint
    mate = st.mate
    labelend = st.labelend
    inblossom = st.inblossom
    while True:
        bs = inblossom[s]
        if bs >= n:
            _augment_blossom(bs, s, n, gr, st)
        mate[s] = p
        if labelend[bs] == -1:
            break
        t = endpoint[labelend[bs]]
        bt = inblossom[t]
        s = endpoint[labelend[bt]]
        j = endpoint[labelend[bt] ^ 1]
        if bt >= n:
            _augment_blossom(bt, j, n, gr, st)
        mate[j] = labelend[bt]
        p = labelend[bt] ^ 1


@njit(cache=True)
def _augment_matching(
    k: int,
    n: int,
    gr: Any,
    st: Any,
) -> None:
    """Augment along the path through edge k: from each end back to its tree's root (or
    to the single vertex itself when an end is unlabelled)."""
    endpoint = gr.endpoint
    for side in range(2):
        _augment_side(endpoint[2 * k + side], 2 * k + 1 - side, n, gr, st)


@njit(cache=True)
def _edge_endpoint(u: int, v: int, endpoint: Any, nb_ptr: Any, nb_end: Any) -> int:
    """The endpoint at u of the edge u - v (-1 if there is none)."""
    for i in range(nb_ptr[u], nb_ptr[u + 1]):
        if endpoint[nb_end[i]] == v:
            return int(nb_end[i] ^ 1)
    return -1


@njit(cache=True)
def _start(
    n: int,
    mate0: Any,
    cycle_ptr: Any,
    cycle_nodes: Any,
    gr: Any,
    st: Any,
) -> None:
    """Install the starting matching and make each odd cycle a blossom (dual zero)
    whose first vertex is its single base."""
    endpoint = gr.endpoint
    nb_ptr = gr.nb_ptr
    nb_end = gr.nb_end
    mate = st.mate
    inblossom = st.inblossom
    parent = st.parent
    base = st.base
    childs = st.childs
    leafs = st.leafs
    endps = st.endps
    state = st.state
    unused = st.unused
    for u in range(n):
        v = mate0[u]
        if v > u:
            p = _edge_endpoint(u, v, endpoint, nb_ptr, nb_end)
            if p == -1:
                raise ValueError("blossom: a starting pair is not an edge")
            mate[u] = p ^ 1
            mate[v] = p
    for c in range(cycle_ptr.size - 1):
        cycle = cycle_nodes[cycle_ptr[c] : cycle_ptr[c + 1]].copy()
        size = cycle.size
        state[1] -= 1
        b = unused[state[1]]
        ep = np.empty(size, dtype=np.int64)
        for i in range(size):
            p = _edge_endpoint(cycle[i], cycle[(i + 1) % size], endpoint, nb_ptr, nb_end)
            if p == -1:
                raise ValueError("blossom: a starting cycle is not a cycle of edges")
            ep[i] = p
            inblossom[cycle[i]] = b
            parent[cycle[i]] = b
        for i in range(1, size, 2):
            mate[cycle[i]] = ep[i] ^ 1
            mate[cycle[i + 1]] = ep[i]
        childs[b] = cycle
        leafs[b] = cycle.copy()
        endps[b] = ep
        base[b] = cycle[0]
        parent[b] = -1


@njit(cache=True)
def _matching(
    n: int,
    ea: Any,
    eb: Any,
    weight: Any,
    mate0: Any,
    dual0: Any,
    cycle_ptr: Any,
    cycle_nodes: Any,
) -> Any:
    """Mate of each vertex (-1 if single) in a matching of greatest total weight
    (integer weights, all positive) from the start (mate0, dual0, odd cycles)."""
    return _matching_state(n, ea, eb, weight, mate0, dual0, cycle_ptr, cycle_nodes)[0]


@njit(cache=True)
def _matching_state(
    n: int,
    ea: Any,
    eb: Any,
    weight: Any,
    mate0: Any,
    dual0: Any,
    cycle_ptr: Any,
    cycle_nodes: Any,
) -> Any:
    """`_matching`'s mates, and its final duals: `dual` (2 * u(v) for the vertices,
    z(b) for the blossoms n..2n-1), `base` (>= 0 for a blossom in use) and `leafs` (each
    blossom's vertices), for `blossom_duals`."""
    m = ea.size
    endpoint = np.empty(2 * m, dtype=np.int64)
    degree = np.zeros(n + 1, dtype=np.int64)
    for k in range(m):
        endpoint[2 * k] = ea[k]
        endpoint[2 * k + 1] = eb[k]
        degree[ea[k] + 1] += 1
        degree[eb[k] + 1] += 1
    nb_ptr = np.cumsum(degree)
    fill = nb_ptr[:-1].copy()
    nb_end = np.empty(2 * m, dtype=np.int64)
    for k in range(m):
        nb_end[fill[ea[k]]] = 2 * k + 1
        fill[ea[k]] += 1
        nb_end[fill[eb[k]]] = 2 * k
        fill[eb[k]] += 1
    mate = np.full(n, -1, dtype=np.int64)
    label = np.zeros(2 * n, dtype=np.int64)
    labelend = np.full(2 * n, -1, dtype=np.int64)
    inblossom = np.arange(n, dtype=np.int64)
    parent = np.full(2 * n, -1, dtype=np.int64)
    base = np.full(2 * n, -1, dtype=np.int64)
    base[:n] = np.arange(n)
    bestedge = np.full(2 * n, -1, dtype=np.int64)
    dual = np.zeros(2 * n, dtype=np.int64)
    dual[:n] = dual0
    allowedge = np.zeros(m, dtype=np.bool_)
    childs = List()
    leafs = List()
    endps = List()
    best_list = List()
    empty = np.zeros(0, dtype=np.int64)  # shared: slots are replaced, never written
    for _ in range(2 * n):
        childs.append(empty)
        leafs.append(empty)
        endps.append(empty)
        best_list.append(empty)
    has_best = np.zeros(2 * n, dtype=np.bool_)
    unused = np.arange(n, 2 * n, dtype=np.int64)
    state = np.zeros(3, dtype=np.int64)  # queue length, unused blossoms, dual steps
    state[1] = n
    queue = np.empty(3 * n + 2 * m + 2, dtype=np.int64)
    buf_a = np.empty(2 * n + 1, dtype=np.int64)
    buf_b = np.empty(2 * n + 1, dtype=np.int64)
    buf_c = np.empty(2 * n + 1, dtype=np.int64)
    buf_d = np.empty(2 * n + 1, dtype=np.int64)
    best_to = np.full(2 * n, -1, dtype=np.int64)
    touched = np.empty(2 * n, dtype=np.int64)
    work_b = np.empty(2 * n + 1, dtype=np.int64)
    work_v = np.empty(2 * n + 1, dtype=np.int64)
    stamp = np.zeros(2 * n, dtype=np.int64)
    tbuf = np.empty(2 * n + 1, dtype=np.int64)
    # Heaps (item -> key, lazily cleaned): 0 S-vertices by dual, 1 unlabelled vertices
    # by their least slack to an S-vertex, 2 top-level S-blossoms by half their least
    # slack to another, 3 top-level T-blossoms by dual; keys are shifted by the dual
    # steps taken (state[2]) so that they stay fixed while the duals move.
    hkey = np.zeros((4, 2 * n), dtype=np.int64)
    hitem = np.zeros((4, 2 * n), dtype=np.int64)
    hpos = np.full((4, 2 * n), -1, dtype=np.int64)
    hsize = np.zeros(4, dtype=np.int64)
    gr = _Graph(endpoint, weight, nb_ptr, nb_end)
    st = _State(
        mate,
        dual,
        label,
        labelend,
        inblossom,
        parent,
        base,
        bestedge,
        allowedge,
        childs,
        leafs,
        endps,
        best_list,
        has_best,
        unused,
        state,
        queue,
        buf_a,
        buf_b,
        buf_c,
        buf_d,
        best_to,
        touched,
        stamp,
        tbuf,
        hkey,
        hitem,
        hpos,
        hsize,
        work_b,
        work_v,
    )
    _start(n, mate0, cycle_ptr, cycle_nodes, gr, st)

    # Every stage ends with an augmentation, a root reaching a zero dual or a flip that
    # leaves a zero-dual vertex single: each removes one root for good, so at most n.
    for _stage in range(n + 2):
        if _stage == n + 1:
            raise RuntimeError("blossom: no progress after n stages")
        label[:] = 0
        bestedge[:] = -1
        for b in range(n, 2 * n):
            if has_best[b]:
                has_best[b] = False
                best_list[b] = best_list[b][:0]
        allowedge[:] = False
        labelend[:] = -1
        state[0] = 0
        state[2] = 0
        _heap_clear(hitem, hpos, hsize)
        roots = 0
        for v in range(n):
            if mate[v] == -1 and dual[v] > 0 and label[inblossom[v]] == 0:
                roots += 1
                _assign_label(v, 1, -1, n, gr, st)
        if roots == 0:
            break  # every single vertex has a zero dual: optimal
        augmented = False
        while True:
            while state[0] > 0 and not augmented:
                state[0] -= 1
                v = queue[state[0]]
                for pi in range(nb_ptr[v], nb_ptr[v + 1]):
                    p = nb_end[pi]
                    k = p >> 1
                    w = endpoint[p]
                    if inblossom[v] == inblossom[w]:
                        continue
                    kslack = 0
                    if not allowedge[k]:
                        kslack = _slack(
                            k, endpoint, weight, dual, label, inblossom, stamp, state[2]
                        )
                        if kslack <= 0:
                            allowedge[k] = True
                    if allowedge[k]:
                        lw = label[inblossom[w]]
                        if lw == 0 and mate[base[inblossom[w]]] == -1:
                            # A single vertex with a zero dual (a satisfied one left
                            # single by the start): an augmenting path ends here.
                            _augment_matching(k, n, gr, st)
                            augmented = True
                            break
                        if lw == 0:
                            _assign_label(w, 2, p ^ 1, n, gr, st)
                        elif lw == 1:
                            root = _scan_blossom(
                                v, w, endpoint, label, labelend, inblossom, base, buf_a
                            )
                            if root >= 0:
                                _add_blossom(root, k, n, gr, st)
                            else:
                                _augment_matching(k, n, gr, st)
                                augmented = True
                                break
                        elif label[w] == 0:
                            # w sits inside a T-blossom and is reached for the first time.
                            label[w] = 2
                            labelend[w] = p ^ 1
                    elif label[inblossom[w]] == 1:
                        b = inblossom[v]
                        if bestedge[b] == -1 or kslack < _slack(
                            bestedge[b], endpoint, weight, dual, label, inblossom, stamp, state[2]
                        ):
                            bestedge[b] = k
                            _heap_set(hkey, hitem, hpos, hsize, 2, b, kslack // 2 + state[2])
                    elif label[w] == 0 and (
                        bestedge[w] == -1
                        or kslack
                        < _slack(
                            bestedge[w], endpoint, weight, dual, label, inblossom, stamp, state[2]
                        )
                    ):
                        bestedge[w] = k
                        if label[inblossom[w]] == 0:
                            _heap_set(hkey, hitem, hpos, hsize, 1, w, kslack + state[2])
            if augmented:
                break
            # No tight edge left to follow: the dual step. Type 1: an S-vertex's dual
            # reaches zero.
            dsum = state[2]
            kind = 1
            edge = -1
            blossom = -1
            # S-vertices never lose their label within a stage: the top is valid.
            zero = hitem[0, 0]
            delta = hkey[0, 0] - dsum
            while hsize[1] > 0:
                v = hitem[1, 0]
                if label[inblossom[v]] == 0 and bestedge[v] != -1:
                    if hkey[1, 0] - dsum < delta:
                        delta = hkey[1, 0] - dsum
                        kind = 2
                        edge = bestedge[v]
                    break
                _heap_drop_top(hkey, hitem, hpos, hsize, 1)
            while hsize[2] > 0:
                b = hitem[2, 0]
                if parent[b] == -1 and label[b] == 1 and bestedge[b] != -1:
                    if hkey[2, 0] - dsum < delta:
                        delta = hkey[2, 0] - dsum
                        kind = 3
                        edge = bestedge[b]
                    break
                _heap_drop_top(hkey, hitem, hpos, hsize, 2)
            while hsize[3] > 0:
                b = hitem[3, 0]
                if base[b] >= 0 and parent[b] == -1 and label[b] == 2:
                    if hkey[3, 0] - dsum < delta:
                        delta = hkey[3, 0] - dsum
                        kind = 4
                        blossom = b
                    break
                _heap_drop_top(hkey, hitem, hpos, hsize, 3)
            state[2] += delta  # every labelled dual moves with it (lazily)
            if kind == 1:
                # A root at zero is satisfied single; a matched S-vertex at zero
                # changes places with its root along the (tight) alternating path,
                # which costs nothing and leaves it single with a zero dual.
                if mate[zero] != -1:
                    _augment_side(zero, -1, n, gr, st)
                augmented = True
                break
            if kind == 2:
                allowedge[edge] = True
                i = endpoint[2 * edge]
                if label[inblossom[i]] == 0:
                    i = endpoint[2 * edge + 1]
                _push(queue, state, i)
            elif kind == 3:
                allowedge[edge] = True
                _push(queue, state, endpoint[2 * edge])
            else:
                _expand_blossom(blossom, False, n, gr, st)
        # The stage is over: make every dual current before the labels go.
        dsum = state[2]
        for v in range(n):
            lv = label[inblossom[v]]
            if lv == 1:
                dual[v] -= dsum - stamp[v]
            elif lv == 2:
                dual[v] += dsum - stamp[v]
        for b in range(n, 2 * n):
            if base[b] >= 0 and parent[b] == -1:
                if label[b] == 1:
                    dual[b] += dsum - stamp[b]
                elif label[b] == 2:
                    dual[b] -= dsum - stamp[b]
        state[2] = 0
        for b in range(n, 2 * n):
            if parent[b] == -1 and base[b] >= 0 and label[b] == 1 and dual[b] == 0:
                _expand_blossom(b, True, n, gr, st)

    out = np.full(n, -1, dtype=np.int64)
    for v in range(n):
        if mate[v] >= 0:
            out[v] = endpoint[mate[v]]
    return out, dual, base, leafs


def cardinality_shift(n: int, weight: IntArray) -> int:
    """A constant that, added to every weight, makes every maximum-weight matching a
    maximum-cardinality one: an augmenting path has at most n edges, each changing the
    weight by at most 2 * max |w|."""
    top = int(np.abs(weight).max()) if weight.size else 0
    return (n + 1) * (2 * top + 1)


def blossom_mates(
    n: int, a: IntArray, b: IntArray, weight: IntArray, *, warm: bool = False
) -> IntArray:
    """Mate of each of the n vertices (-1 if single) in a maximum-cardinality matching
    of greatest total integer weight on the edges (a, b, weight).

    At most one edge per pair, no loops. With `warm`, the search starts from the LP
    relaxation (lp.relaxation_start: its pairs, its odd cycles as blossoms, its duals)
    instead of from nothing (every vertex single, every dual the top weight).
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    a = np.ascontiguousarray(a, dtype=np.int64)
    b = np.ascontiguousarray(b, dtype=np.int64)
    weight = np.ascontiguousarray(weight, dtype=np.int64)
    shifted = weight + cardinality_shift(n, weight)
    # Internally the weights are doubled, and the duals with them, so that every
    # starting dual is even (see the module docstring).
    internal = 2 * shifted
    if warm and a.size:
        start = relaxation_start(n, a, b, shifted)
        mate0, dual0 = start.mate, 2 * start.dual
        cycle_ptr, cycle_nodes = start.cycle_ptr, start.cycle_nodes
    else:
        mate0 = np.full(n, -1, dtype=np.int64)
        dual0 = np.full(n, int(internal.max()) if internal.size else 0, dtype=np.int64)
        cycle_ptr, cycle_nodes = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    mates: IntArray = _matching(n, a, b, internal, mate0, dual0, cycle_ptr, cycle_nodes)
    return mates


BlossomDuals = namedtuple(
    "BlossomDuals", ["mates", "y", "set_ptr", "set_nodes", "z", "shift", "bound"]
)


@njit(cache=True)
def _blossom_sets(n: int, dual: Any, base: Any, leafs: Any) -> Any:
    """The blossoms in use with a positive dual: their vertices (CSR) and z(b)."""
    count = 0
    total = 0
    for b in range(n, 2 * n):
        if base[b] >= 0 and dual[b] > 0:
            count += 1
            total += leafs[b].size
    ptr = np.zeros(count + 1, dtype=np.int64)
    nodes = np.empty(total, dtype=np.int64)
    z = np.empty(count, dtype=np.int64)
    c = 0
    for b in range(n, 2 * n):
        if base[b] >= 0 and dual[b] > 0:
            arr = leafs[b]
            nodes[ptr[c] : ptr[c] + arr.size] = arr
            ptr[c + 1] = ptr[c] + arr.size
            z[c] = dual[b]
            c += 1
    return ptr, nodes, z


def blossom_duals(
    n: int,
    a: IntArray,
    b: IntArray,
    weight: IntArray,
    *,
    max_cardinality: bool = False,
    warm: bool = True,
) -> BlossomDuals:
    """A matching of greatest total integer weight on the edges (a, b, weight >= 0),
    started from the LP relaxation as `blossom_mates(warm=True)` (with `warm` False from
    nothing, as blossom_mates' cold start: faster on graphs of a few hundred edges, where
    the LP's fixed cost is most of the run), and its optimal duals for the matching
    polytope, with two bounds read from them.

    Without `max_cardinality` (shift 0) the matching is of greatest weight, of any
    cardinality. With it, every weight is raised by shift = cardinality_shift(n, weight)
    first, exactly as blossom_mates does (so the mates are blossom_mates(warm=True)'s):
    the matching has maximum cardinality, then greatest weight.

    The duals are in the units of the raised weights w + shift: y (per vertex, >= 0)
    and the odd sets with z > 0 (vertices set_nodes[set_ptr[c]:set_ptr[c + 1]], dual
    z[c]), with y_u + y_v + (the z of the sets holding both) >= w_uv + shift on every
    edge (the blossom method's optimality conditions); their value
    D = sum y + sum_c z_c floor(|set_c| / 2) is the matching's raised weight.

    `bound` = D - shift * |M| (exact: computed in integers, then a float), M the
    matching returned: no matching with at least |M| pairs weighs more (in w). Proof:
    a matching M' has at most one pair at each vertex and at most floor(|B| / 2) pairs
    inside an odd set B, so summing the covering inequality over its pairs gives
    w(M') + shift * |M'| <= D (weak duality), i.e. w(M') <= D - shift * |M'|
    <= D - shift * |M| when |M'| >= |M| (shift >= 0). With shift 0 that is every
    matching: `bound` is the maximum weight. Moreover, with shift > 0, every matching
    has |M'| <= D / shift (w >= 0), so |M| is the maximum cardinality as soon as
    bound < shift (then D / shift < |M| + 1); `cardinality_proved` checks it, and the
    blossom's optimality makes it hold (bound = w(M) <= n/2 * max w < shift).
    Added for the certificate (odd_duals.py)."""
    if n == 0 or a.size == 0:
        z0 = np.zeros(0, dtype=np.int64)
        return BlossomDuals(
            np.full(n, -1, dtype=np.int64),
            np.zeros(n),
            np.zeros(1, np.int64),
            z0,
            np.zeros(0),
            0,
            0.0,
        )
    a = np.ascontiguousarray(a, dtype=np.int64)
    b = np.ascontiguousarray(b, dtype=np.int64)
    weight = np.ascontiguousarray(weight, dtype=np.int64)
    shift = cardinality_shift(n, weight) if max_cardinality else 0
    shifted = weight + shift if shift else weight
    internal = 2 * shifted
    if warm:
        start = relaxation_start(n, a, b, shifted)
        mate0, dual0 = start.mate, 2 * start.dual
        cycle_ptr, cycle_nodes = start.cycle_ptr, start.cycle_nodes
    else:
        mate0 = np.full(n, -1, dtype=np.int64)
        dual0 = np.full(n, int(internal.max()), dtype=np.int64)
        cycle_ptr, cycle_nodes = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    out, dual, base, leafs = _matching_state(
        n, a, b, internal, mate0, dual0, cycle_ptr, cycle_nodes
    )
    ptr, nodes, z = _blossom_sets(n, dual, base, leafs)
    # dual holds 2 u(v) and z(b) for the doubled weights 2 w: u / 2 and z / 2 in w's units.
    # 4 D in integers (Python's, unbounded), then D - shift |M| exactly.
    pairs = int(np.count_nonzero(out >= 0)) // 2
    value4 = int(dual[:n].sum()) + 2 * int((z * (np.diff(ptr) // 2)).sum())
    bound = (value4 - 4 * shift * pairs) / 4
    return BlossomDuals(out, dual[:n] / 4.0, ptr, nodes, z / 2.0, shift, bound)


def cardinality_proved(duals: BlossomDuals) -> bool:
    """Whether the duals prove that the matching has maximum cardinality: a cardinality
    shift was used and 0 <= bound < shift (blossom_duals' docstring)."""
    return bool(duals.shift > 0 and 0 <= duals.bound < duals.shift)

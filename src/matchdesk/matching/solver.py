"""`solve`: from a `MatchProblem` to a `Result`.

Phases: prepare the arrays; find candidate pairs (the full feasible graph for small
pools, strength windows in buckets otherwise); split the candidate graph into connected
components; match small components exactly (rustworkx blossom, maximum cardinality
first) and big ones by vectorised greedy + augmenting paths + 2-opt; pick and spread the
slots; give every unmatched creator a reason; bound the optimum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matchdesk.matching.augment import Adjacency, augment_paths, repair_free
from matchdesk.matching.bounds import BOUND_NAME, best_edge_bound
from matchdesk.matching.candidates import Candidates, exhaustive_candidates, window_candidates
from matchdesk.matching.exact import exact_matching
from matchdesk.matching.improve import EdgeIndex, augment, greedy, local_search
from matchdesk.matching.prepare import Prepared, prepare
from matchdesk.matching.problem import MatchProblem
from matchdesk.matching.relaxation import double_cover_start
from matchdesk.matching.result import ByeReason, Result, Statistics, Status
from matchdesk.matching.scoring import score_parts
from matchdesk.matching.slots import choose_starts

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SolverOptions:
    """Tuning of the engine; the defaults are what the benchmarks were measured with.

    exhaustive_limit: pools with at most this many matchable creators use the full
    feasible graph (and the result is optimal). exact_limit: candidate components up to
    this many creators are solved exactly, smallest first, while the sum of their squared
    sizes stays within exact_budget (blossom costs about size^2). The others start from
    the rounded double-cover relaxation (up to relaxation_limit creators, relaxation.py)
    or greedy, then get augmenting paths and improvement moves; finally the neighbourhood
    (repair_hops) of creators still free is re-solved exactly in pieces of at most
    repair_limit. window / keep: strength neighbours checked per bucket and side, and
    best candidates kept per creator; large_window / large_keep replace them for pools
    of more than large_pool matchable creators (memory and time grow with them).
    mid_pool_exact_limit replaces exact_limit above mid_pool matchable creators: there
    the many mid-sized components cost more exact time than the weight they add (at
    100,000 creators: 1.4 s for 0.002% of the weight).
    executor: "local" today; the parameter is where a process or Ray executor plugs in.
    """

    exhaustive_limit: int = 600
    exact_limit: int = 4000
    exact_budget: int = 4_000_000
    relaxation_limit: int = 20_000
    repair_hops: int = 3
    repair_limit: int = 2000
    window: int = 6
    keep: int = 12
    mid_pool: int = 20_000
    mid_pool_exact_limit: int = 300
    large_pool: int = 200_000
    large_window: int = 4
    large_keep: int = 6
    executor: Literal["local"] = "local"

    def __post_init__(self) -> None:
        for name in (
            "exhaustive_limit",
            "exact_limit",
            "mid_pool",
            "mid_pool_exact_limit",
            "exact_budget",
            "relaxation_limit",
            "repair_hops",
            "repair_limit",
            "window",
            "keep",
            "large_window",
            "large_keep",
        ):
            if getattr(self, name) < (1 if name in ("window", "keep") else 0):
                raise ValueError(f"{name}: must be positive")
        if self.executor != "local":
            raise ValueError("executor: only 'local' is available")


def _components(n: int, a: IntArray, b: IntArray) -> tuple[int, IntArray]:
    graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    return int(count), labels.astype(np.int64)


def _match(
    prep: Prepared,
    cands: Candidates,
    options: SolverOptions,
    deadline: float,
) -> tuple[IntArray, int, int, int, bool]:
    """Mate array (-1 free), components, exact components, labels count, timed out."""
    n = prep.n
    mate = np.full(n, -1, dtype=np.int64)
    a, b, w = cands.a, cands.b, cands.score
    if a.size == 0:
        return mate, 0, 0, 0, False
    count, labels = _components(n, a, b)
    in_graph = np.zeros(n, dtype=np.bool_)
    in_graph[a] = True
    in_graph[b] = True
    sizes = np.bincount(labels[in_graph], minlength=count)
    edge_label = labels[a]
    order = np.argsort(edge_label, kind="stable")
    a, b, w, edge_label = a[order], b[order], w[order], edge_label[order]
    bounds = np.searchsorted(edge_label, np.arange(count + 1))
    node_order = np.argsort(labels, kind="stable")
    node_bounds = np.searchsorted(labels[node_order], np.arange(count + 1))
    components = int(np.count_nonzero(sizes))
    exact_done = 0
    big: list[int] = []
    timed_out = False
    # Smallest components first: exact while the blossom work (~size^2) fits the budget.
    budget = options.exact_budget
    for c in sorted(np.flatnonzero(sizes).tolist(), key=lambda c: (int(sizes[c]), c)):
        lo, hi = int(bounds[c]), int(bounds[c + 1])
        nodes = node_order[node_bounds[c] : node_bounds[c + 1]]
        if sizes[c] == 2:
            mate[a[lo]], mate[b[lo]] = b[lo], a[lo]
            exact_done += 1
        elif time.perf_counter() >= deadline:
            timed_out = True
            big.append(c)
        elif sizes[c] <= options.exact_limit and int(sizes[c]) ** 2 <= budget:
            budget -= int(sizes[c]) ** 2
            x, y = exact_matching(np.sort(nodes), a[lo:hi], b[lo:hi], w[lo:hi])
            mate[x], mate[y] = y, x
            exact_done += 1
        else:
            big.append(c)
    if big:
        sel = np.isin(edge_label, np.array(big, dtype=np.int64))
        ba, bb, bw = a[sel], b[sel], w[sel]
        for c in big:
            if sizes[c] > options.relaxation_limit:
                continue  # LAPJV does not scale to these; greedy starts them
            lo, hi = int(bounds[c]), int(bounds[c + 1])
            nodes = np.sort(node_order[node_bounds[c] : node_bounds[c + 1]])
            double_cover_start(nodes, a[lo:hi], b[lo:hi], w[lo:hi], mate, options.exact_limit)
        greedy(n, ba, bb, mate)
        adjacency = Adjacency(n, ba, bb)
        augment_paths(n, adjacency, mate)
        index = EdgeIndex(n, ba, bb, bw)
        local_search(n, ba, bb, bw, index, mate, deadline)
        augment(n, ba, bb, bw, index, mate)
        repair_free(n, adjacency, ba, bb, bw, mate, options.repair_hops, options.repair_limit)
        timed_out |= time.perf_counter() >= deadline
    return mate, components, exact_done, count, timed_out


def _bye_reasons(
    prep: Prepared, cands: Candidates, mate: IntArray
) -> tuple[IntArray, tuple[ByeReason, ...]]:
    n = prep.n
    locked = np.zeros(n, dtype=np.bool_)
    locked[prep.locked_a] = True
    locked[prep.locked_b] = True
    free = (mate < 0) & ~locked
    eligible = np.isfinite(cands.best_checked)
    rows = np.flatnonzero(free)
    if rows.size == 0:
        return rows, ()
    # "Odd one out": the only unmatched creator of an odd-sized candidate component.
    count, labels = _components(n, cands.a, cands.b)
    free_eligible = free & eligible
    free_per = np.bincount(labels[free_eligible], minlength=count)
    size_per = np.bincount(labels[eligible], minlength=count)
    reasons: list[ByeReason] = []
    for row in rows.tolist():
        if not prep.active[row]:
            reasons.append(ByeReason.EXCLUDED)
        elif not eligible[row]:
            reasons.append(ByeReason.NO_FEASIBLE_PARTNER)
        elif free_per[labels[row]] == 1 and size_per[labels[row]] % 2 == 1:
            reasons.append(ByeReason.ODD_ONE_OUT)
        else:
            reasons.append(ByeReason.LOST_TO_BETTER_PAIRS)
    return rows, tuple(reasons)


def solve(
    problem: MatchProblem,
    *,
    seed: int = 0,
    time_limit: float | None = None,
    options: SolverOptions | None = None,
) -> Result:
    """Pair as many creators as possible, as well as possible, each pair at a shared slot.

    The matching has maximum cardinality on the candidate graph (exactly so on small
    pools and components), then the greatest total score the engine finds; every hard
    rule of the problem holds. The same problem and seed give the same result whatever
    the order of its creators. `time_limit` (seconds) stops the improvement phases
    early; the result is still valid and its status says so.
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    deadline = started + (time_limit if time_limit is not None else float("inf"))
    phases: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        phases[name] = now - since
        return now

    t = started
    prep = prepare(problem)
    t = lap("prepare", t)
    matchable = int(np.count_nonzero(prep.active & prep.has_start))
    exhaustive = matchable <= options.exhaustive_limit
    if exhaustive:
        cands = exhaustive_candidates(prep)
    else:
        if matchable > options.mid_pool:
            options = replace(
                options, exact_limit=min(options.exact_limit, options.mid_pool_exact_limit)
            )
        big_pool = matchable > options.large_pool
        cands = window_candidates(
            prep,
            options.large_window if big_pool else options.window,
            options.large_keep if big_pool else options.keep,
        )
    t = lap("candidates", t)
    mate, components, exact_done, _, timed_out = _match(prep, cands, options, deadline)
    t = lap("matching", t)

    first = np.flatnonzero(mate > np.arange(prep.n))
    pair_a = np.concatenate([first, np.minimum(prep.locked_a, prep.locked_b)])
    pair_b = np.concatenate([mate[first], np.maximum(prep.locked_a, prep.locked_b)])
    locked = np.concatenate([np.zeros(first.size, np.bool_), np.ones(prep.locked_a.size, np.bool_)])
    grid_index = choose_starts(prep, pair_a, pair_b, seed)
    start_minute = prep.start_minute(grid_index)
    order = np.lexsort((pair_a, start_minute))
    pair_a, pair_b, start_minute, locked = (
        pair_a[order],
        pair_b[order],
        start_minute[order],
        locked[order],
    )
    parts = score_parts(prep, pair_a, pair_b)
    t = lap("slots", t)

    bye_rows, bye_reasons = _bye_reasons(prep, cands, mate)
    locked_weight = float(parts.total[locked].sum())
    upper = best_edge_bound(cands, locked_weight)
    eligible = int(np.count_nonzero(np.isfinite(cands.best_checked))) + 2 * prep.locked_a.size
    lap("byes and bound", t)
    weight = float(parts.total.sum())
    if timed_out:
        status = Status.TIME_LIMIT
    elif exhaustive and exact_done == components:
        status = Status.OPTIMAL
    else:
        status = Status.FEASIBLE
    stats = Statistics(
        creators=prep.n,
        eligible=eligible,
        matched=2 * int(pair_a.size),
        checked_pairs=cands.checked,
        feasible_checked=cands.feasible_checked,
        candidate_edges=int(cands.a.size),
        components=components,
        exact_components=exact_done,
        weight=weight,
        upper_bound=upper,
        bound=BOUND_NAME,
        phase_seconds=phases,
    )
    return Result(
        status=status,
        statistics=stats,
        pair_a=pair_a,
        pair_b=pair_b,
        start_minute=start_minute,
        parts=(
            parts.revenue,
            parts.audience,
            parts.slot,
            parts.novelty,
            parts.fairness,
            parts.total,
        ),
        locked=locked,
        bye_rows=bye_rows,
        bye_reasons=bye_reasons,
        prepared=prep,
        candidates=cands,
        mate=mate,
    )

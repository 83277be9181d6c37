"""`solve`: from a `MatchProblem` to a `Result`.

Phases: prepare the arrays; split the pool into independent shards (shards.py: no
feasible pair crosses them) and give them the weights divided by their sum. A shard of
at most exhaustive_limit creators whose buckets hold at most odd_duals.EXACT_VISITS pairs
is listed whole and solved exactly once (odd_duals.exact_solve: maximum cardinality,
proved by the duals, then the greatest weight, and its bound from the same run). In each
other shard find candidate pairs (the full feasible graph for small pools, strength windows in
buckets otherwise), split the candidate graph into connected components, match the
components of up to exact_limit creators exactly (blossom.py: Edmonds' blossom started
from the LP relaxation, maximum cardinality first) and bigger ones from the rounded
relaxation (relaxation.py) or greedy, then augmenting paths and 2-opt; make the
cardinality maximum on the full feasible graph and prove it (cardinality.py); bound the
shard's optimum (certificate.py, or bounds.py); merge; pick and spread the slots; give
every unmatched creator a reason.

The shards run in this process (`executor="local"`), in worker processes
(`"process"`) or as Ray tasks (`"ray"`). A shard's outcome depends only on its arrays
and the options, so every executor gives the same result.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from matchdesk.matching import clock
from matchdesk.matching.augment import augment_paths, repair_free
from matchdesk.matching.bounds import BOUND_NAME, fitted_bound
from matchdesk.matching.candidates import (
    Candidates,
    by_score,
    candidate_entries,
    exhaustive_candidates,
    window_candidates,
)
from matchdesk.matching.exact import exact_matching
from matchdesk.matching.improve import EdgeIndex, augment, greedy, local_search
from matchdesk.matching.parallel import current_threads, default_threads, using_threads
from matchdesk.matching.prepare import PoolArrays, Prepared, prepare
from matchdesk.matching.problem import MatchProblem, Weights
from matchdesk.matching.regions import Adjacency, Pieces, label_components
from matchdesk.matching.result import ByeReason, Result, Statistics, Status
from matchdesk.matching.scoring import score_parts
from matchdesk.matching.shards import split_pool
from matchdesk.matching.slots import choose_starts

if TYPE_CHECKING:
    from matchdesk.matching.odd_duals import Listed

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


EXECUTORS = ("local", "process", "ray")


@dataclass(frozen=True)
class SolverOptions:
    """Tuning of the engine; the defaults are what the benchmarks were measured with.

    exhaustive_limit: pools with at most this many matchable creators use the full
    feasible graph, every component is solved exactly and the result is optimal; so does
    a shard of a bigger pool with at most this many (and at most odd_duals.EXACT_VISITS
    pairs in its buckets), in one exact run (odd_duals.exact_solve).
    exact_limit: otherwise, candidate components up to this many creators are solved
    exactly (blossom.py, started from the LP relaxation), smallest first, while the sum
    of their squared sizes stays within exact_budget. The others (up to
    relaxation_limit creators) start from the rounded double-cover relaxation, whose
    fractional part grown rounding_hops times along each creator's best candidate is
    re-solved exactly, then the creators whose pair scores at least `regret` below their
    best candidate, grown regret_hops times (relaxation.py); bigger components start
    from greedy. Then augmenting paths and improvement moves; finally the neighbourhood
    (repair_hops) of creators still free is re-solved exactly. Every exactly re-solved
    region is cut in connected pieces of at most repair_limit creators. window / keep:
    strength neighbours checked per bucket and side, and best candidates kept per
    creator; large_window / large_keep replace them for pools of more than large_pool
    matchable creators (memory and time grow with them), where the rounding re-solves
    only its fractional part (rounding_hops 0, no regret region). mid_pool_exact_limit
    replaces exact_limit above mid_pool matchable creators.
    certificate_work: pair visits the certificate's pricing may spend per shard
    (certificate.py; a shard whose round would need more keeps the fitted bound of
    bounds.py); large_certificate_work replaces it above large_pool (0: not priced),
    and large_relaxation_limit replaces relaxation_limit there (the auction's rounding of
    the giant components costs about 6 s at a million for 0.16% more weight).
    executor: where the independent shards of the pool are solved: "local" (one after
    the other in this process), "process" (a pool of `workers` processes started by
    forkserver, or spawn) or "ray" (Ray tasks; needs the `scale` extra, and uses the
    running Ray instance or starts a local one); with both, the biggest shard is solved
    in this process meanwhile. workers: processes of the pool, 0 means one fewer than
    the CPUs (this process is the last). Every executor gives the same result (see
    shards.py). threads: threads for the sorts and the window walk of a shard
    (parallel.py); 0 means up to 2 with the local executor (and for the biggest shard,
    solved in this process, with the others) and 1 in their workers. The result does
    not depend on it.

    Up to small_pool matchable creators the defaults keep 24 candidates per creator from
    windows of 8; above it mid_window and mid_keep (keep 12 from windows of 6) replace
    window and keep (when smaller). Up to mid_pool, components of up to 20,000 creators
    are solved exactly; above it mid_exact_budget, mid_repair_hops and
    mid_pool_exact_limit replace exact_budget, repair_hops and exact_limit (when
    smaller). Measured 2026-12-07 (load 3-7, side by side, against rustworkx's exact
    optimum): on 3,000-creator demo pools (about 2,700 matchable, seeds 0-3) keep 12 /
    window 6 took 11-50% less time than 24 / 8 (most seeds 25-40%) for 99.996-99.9996%
    of the optimum (24 / 8: 99.998-100%), the same cardinality; on 6,000 (seeds 0, 1)
    34-49% less for 99.997-99.998% (99.999%); on 1,500 (about 1,330 matchable) it saved
    about 10 ms but fell to 99.980% on seed 1 (24 / 8: 100%), hence small_pool.
    `SolverOptions.thorough()` keeps the small-pool settings above both too.
    """

    exhaustive_limit: int = 600
    exact_limit: int = 20_000
    exact_budget: int = 1_000_000_000
    relaxation_limit: int = 200_000
    rounding_hops: int = 3
    regret: float = 0.05
    regret_hops: int = 1
    repair_hops: int = 3
    repair_limit: int = 2000
    window: int = 8
    keep: int = 24
    small_pool: int = 2000
    mid_pool: int = 20_000
    mid_pool_exact_limit: int = 5000
    mid_window: int = 6
    mid_keep: int = 12
    mid_exact_budget: int = 100_000_000
    mid_repair_hops: int = 1
    large_pool: int = 200_000
    large_window: int = 4
    large_keep: int = 6
    certificate_work: int = 250_000_000
    large_certificate_work: int = 0
    large_relaxation_limit: int = 20_000
    executor: Literal["local", "process", "ray"] = "local"
    workers: int = 0
    threads: int = 0

    def __post_init__(self) -> None:
        for name in (
            "exhaustive_limit",
            "exact_limit",
            "small_pool",
            "mid_pool",
            "mid_pool_exact_limit",
            "mid_window",
            "mid_keep",
            "mid_exact_budget",
            "mid_repair_hops",
            "exact_budget",
            "relaxation_limit",
            "rounding_hops",
            "regret_hops",
            "repair_hops",
            "repair_limit",
            "window",
            "keep",
            "large_window",
            "large_keep",
            "certificate_work",
            "large_certificate_work",
            "large_relaxation_limit",
            "workers",
            "threads",
        ):
            if getattr(self, name) < (
                1 if name in ("window", "keep", "mid_window", "mid_keep") else 0
            ):
                raise ValueError(f"{name}: must be positive")
        if not self.regret >= 0:
            raise ValueError("regret: must be positive")
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor: must be one of {', '.join(EXECUTORS)}")

    @classmethod
    def thorough(cls) -> SolverOptions:
        """The small-pool settings (keep 24, window 8, exact budget 1e9, repair hops 3)
        for pools above small_pool and mid_pool too (slower); mid_pool_exact_limit still
        applies above mid_pool.
        Since the pricing's violated pairs join the candidates (certificate.first_columns)
        it is no longer higher: on the 100,000-creator demo pool 0.042% below the default
        (38,983.96 against 39,000.31, 9.2 s against 6.3 s, 2026-12-07, load 1.3)."""
        return cls(mid_window=8, mid_keep=24, mid_exact_budget=1_000_000_000, mid_repair_hops=3)


def _match(
    prep: PoolArrays,
    cands: Candidates,
    options: SolverOptions,
    deadline: float,
    prices: IntArray | None = None,
) -> tuple[IntArray, int, int, int, bool]:
    """Mate array (-1 free), components, exact components, labels count, timed out;
    `prices` (the certificate's round 0) start the big components' relaxation."""
    n = prep.n
    mate = np.full(n, -1, dtype=np.int64)
    a, b, w = cands.a, cands.b, cands.score
    if a.size == 0:
        return mate, 0, 0, 0, False
    count, labels = label_components(n, a, b)
    in_graph = np.zeros(n, dtype=np.bool_)
    in_graph[a] = True
    in_graph[b] = True
    sizes = np.bincount(labels[in_graph], minlength=count)
    grouped = Pieces.of(count, labels, np.arange(n), a, b, w)
    nonempty = int(np.count_nonzero(sizes))
    # A component of two creators is its one edge (candidate edges are distinct pairs):
    # all of them paired at once, whatever the time.
    two = sizes[labels[a]] == 2
    mate[a[two]], mate[b[two]] = b[two], a[two]
    exact_done = int(np.count_nonzero(sizes == 2))
    del two
    big: list[int] = []
    timed_out = False
    # Smallest components first: exact while the blossom work (~size^2) fits the budget.
    budget = options.exact_budget
    for c in sorted(np.flatnonzero(sizes > 2).tolist(), key=lambda c: (int(sizes[c]), c)):
        if clock.now() >= deadline:
            timed_out = True
            big.append(c)
        elif sizes[c] <= options.exact_limit and int(sizes[c]) ** 2 <= budget:
            budget -= int(sizes[c]) ** 2
            x, y = exact_matching(grouped.members(c), *grouped.edges(c))
            mate[x], mate[y] = y, x
            exact_done += 1
        else:
            big.append(c)
    if big:
        from matchdesk.matching.relaxation import double_cover_start  # numba, on demand

        sel = np.isin(grouped.label, np.array(big, dtype=np.int64))
        ba, bb, bw = grouped.a[sel], grouped.b[sel], grouped.w[sel]
        for c in big:
            if sizes[c] > options.relaxation_limit:
                continue  # LAPJV does not scale to these; greedy starts them
            if clock.now() >= deadline:
                timed_out = True
                break
            double_cover_start(
                grouped.members(c),
                *grouped.edges(c),
                mate,
                limit=options.repair_limit,
                hops=options.rounding_hops,
                regret=options.regret,
                regret_hops=options.regret_hops,
                prices=prices,
            )
        del grouped, sel  # the big components' edges are ba, bb, bw from here on
        greedy(n, ba, bb, mate)
        adjacency = Adjacency(n, ba, bb)
        augment_paths(n, adjacency, mate)
        index = EdgeIndex(n, ba, bb, bw)
        local_search(n, ba, bb, bw, index, mate, deadline)
        augment(n, ba, bb, bw, index, mate)
        if clock.now() < deadline:
            repair_free(n, adjacency, ba, bb, bw, mate, options.repair_hops, options.repair_limit)
        timed_out |= clock.now() >= deadline
    return mate, nonempty, exact_done, count, timed_out


@dataclass(frozen=True, eq=False)
class _ShardOutcome:
    """What one shard sends back: its candidates and mates (shard numbering), counts."""

    candidates: Candidates
    mate: IntArray
    components: int
    exact: int
    timed_out: bool
    seconds: tuple[float, float, float, float]  # candidates, matching, cardinality, bound
    proved: bool  # the shard's matching has maximum cardinality on its feasible graph
    augmented: int  # pairs the search over the full feasible graph added
    skipped: bool  # the time limit passed before the shard started: nothing searched
    bound: float = 0.0  # upper bound on the shard's optimum (its scores: unit weights)
    priced: bool = False  # certificate.py's pricing finished (False: bounds.py's alone)


def _solve_shard(
    shard: PoolArrays,
    options: SolverOptions,
    exhaustive: bool,
    time_left: float,
    wall_deadline: float | None = None,
) -> _ShardOutcome:
    """Candidates and matching of one shard: a pure function of its arguments (and of
    the time left: `time_left` seconds, or until `wall_deadline` on time.time() in
    another process). A shard that starts after its time is up is skipped: no pairs."""
    if wall_deadline is not None:
        time_left = wall_deadline - time.time()
    started = clock.now()
    deadline = started + time_left
    if time_left <= 0:
        return _skipped(shard)
    with using_threads(options.threads or default_threads()):
        return _solve_shard_threaded(shard, options, exhaustive, started, deadline)


def _skipped(shard: PoolArrays) -> _ShardOutcome:
    n = shard.n
    z = np.zeros(0, dtype=np.int64)
    nothing = Candidates(
        z, z, np.zeros(0), np.full(n, -np.inf), np.full(n, -np.inf), np.zeros(n), 0, 0, False
    )
    mate = np.full(n, -1, dtype=np.int64)
    return _ShardOutcome(
        nothing, mate, 0, 0, True, (0.0, 0.0, 0.0, 0.0), False, 0, True, n / 2.0, False
    )


def _solve_shard_threaded(
    shard: PoolArrays, options: SolverOptions, exhaustive: bool, started: float, deadline: float
) -> _ShardOutcome:
    listed = _listed_graph(shard, options, deadline)
    if listed is not None and clock.now() < deadline:
        return _exact_shard(shard, listed, started, clock.now())
    if listed is not None:  # the time ran out while listing: its pairs are the candidates
        cands = _listed_candidates(listed)
    elif exhaustive:
        cands = exhaustive_candidates(shard)
    else:
        cands = window_candidates(shard, options.window, options.keep)
    found = clock.now()
    # A shard that gets the priced bound is priced once before the matching: the pairs
    # its duals leave violated join the candidates (certificate.first_columns).
    pricing, columns = _first_columns(shard, cands, exhaustive, options, deadline)
    if columns is not None:
        cands = columns.cands
    priced_first = clock.now()

    def bounded() -> tuple[float, bool, float]:
        since = clock.now()
        bound, priced = _shard_bound(shard, cands, exhaustive, options, deadline, pricing, columns)
        return bound, priced, clock.now() - since

    # The later rounds of the pricing read the candidates and round 0, not the matching:
    # with two threads they run beside it (their kernels release the GIL). The same
    # bound and matching either way.
    two = columns is not None and current_threads() >= 2
    with ThreadPoolExecutor(1) if two else nullcontext() as beside:
        later = beside.submit(bounded) if beside is not None else None
        prices = None if columns is None else columns.prices
        mate, components, exact_done, _, timed_out = _match(shard, cands, options, deadline, prices)
        done = clock.now()
        all_exact = exact_done == components
        proved, added = maximum_cardinality(shard, cands, mate, exhaustive, all_exact, deadline)
        checked = clock.now()
        bound, priced, bound_seconds = later.result() if later is not None else bounded()
    return _ShardOutcome(
        cands,
        mate,
        components,
        exact_done,
        timed_out or not proved or clock.now() >= deadline,
        (
            found - started,
            done - priced_first,
            checked - done,
            bound_seconds + priced_first - found,
        ),
        proved,
        added,
        False,
        bound,
        priced,
    )


def _listed_graph(shard: PoolArrays, options: SolverOptions, deadline: float) -> Listed | None:
    """The full feasible graph (odd_duals.list_pairs) of a shard as small as an
    exhaustive pool (at most exhaustive_limit matchable creators) whose buckets hold at
    most odd_duals.EXACT_VISITS pairs (within the time left), else None."""
    if int(np.count_nonzero(shard.active & shard.has_start)) > options.exhaustive_limit:
        return None
    limit = _work_left(deadline)
    if limit <= 0:
        return None
    from matchdesk.matching import odd_duals  # numba

    return odd_duals.list_pairs(shard, min(odd_duals.EXACT_VISITS, limit))


def _listed_candidates(listed: Listed) -> Candidates:
    """A listed full feasible graph as candidates (by descending score, ties by key):
    nothing unchecked, nothing pruned."""
    n = listed.n
    order = by_score(n, listed.a, listed.b, listed.score)
    return Candidates(
        listed.a[order],
        listed.b[order],
        listed.score[order],
        listed.best,
        np.full(n, -np.inf),
        np.zeros(n),
        listed.checked,
        int(listed.a.size),
        exhaustive=True,
    )


def _exact_shard(shard: PoolArrays, listed: Listed, started: float, found: float) -> _ShardOutcome:
    """A listed shard solved exactly once (odd_duals.exact_solve): the matching has
    maximum cardinality, proved by the duals, then the greatest weight, and the bound
    (on every maximum-cardinality matching) comes from the same run; no candidate
    search, candidate matching or pricing."""
    from matchdesk.matching.odd_duals import exact_solve

    solved = exact_solve(listed)
    done = clock.now()
    return _ShardOutcome(
        _listed_candidates(listed),
        solved.mate,
        solved.components,
        solved.components,
        not solved.proved,
        (found - started, done - found, 0.0, 0.0),
        solved.proved,
        0,
        False,
        solved.bound,
        True,
    )


def _first_columns(
    shard: PoolArrays,
    cands: Candidates,
    exhaustive: bool,
    options: SolverOptions,
    deadline: float,
) -> tuple[Any, Any]:
    """The shard's bucket systems (certificate._Pricing, None for an exhaustive shard or
    without budget) and, for a shard that gets the priced bound (its buckets hold more
    than odd_duals.EXACT_VISITS pairs), the first round of its pricing
    (certificate.first_columns), else None."""
    budget = min(options.certificate_work, _work_left(deadline))
    if exhaustive or cands.a.size == 0 or budget <= 0:
        return None, None
    from matchdesk.matching.certificate import _Pricing, first_columns  # numba
    from matchdesk.matching.odd_duals import EXACT_VISITS

    pricing = _Pricing(shard)  # the bucket systems, built once for all
    if pricing.pair_visits() <= min(EXACT_VISITS, budget):
        return pricing, None
    return pricing, first_columns(shard, cands, budget, pricing, lambda: _work_left(deadline))


def _shard_bound(
    shard: PoolArrays,
    cands: Candidates,
    exhaustive: bool,
    options: SolverOptions,
    deadline: float,
    pricing: Any = None,
    columns: Any = None,
) -> tuple[float, bool]:
    """An upper bound on the weight of any matching of the shard's full feasible graph
    (its scores), and whether it is a certificate of odd_duals.py or certificate.py
    (False: the fitted bound of bounds.py, when the pricing's work budget or the time
    ran out). A shard whose feasible graph is small (its buckets hold at most
    odd_duals.EXACT_VISITS pairs, within the budget) gets the odd-set duals of that
    whole graph (its exact optimum); bigger ones the priced LP bound, continuing from
    `columns` (`_first_columns`, whose candidates `cands` are) when given."""
    budget = min(options.certificate_work, _work_left(deadline))
    if cands.a.size == 0:  # no feasible pair (a lonely creator's buckets were scanned)
        return 0.0, True
    fitted = fitted_bound(cands, 0.0)
    if columns is None and budget <= 0:
        return fitted, False
    from matchdesk.matching.certificate import _Pricing, candidate_duals, shard_bound  # numba
    from matchdesk.matching.odd_duals import EXACT_VISITS, exact_bound, exact_shard_bound

    limit = min(EXACT_VISITS, budget)
    whole: float | None = None  # a bound from the whole feasible graph, listed
    if exhaustive:  # the candidates are every feasible pair: their duals cover all
        if cands.a.size <= limit:
            whole = exact_bound(shard.n, cands.a, cands.b, cands.score)
        else:
            whole = float(candidate_duals(shard.n, cands.a, cands.b, cands.score).sum())
    elif columns is None:
        pricing = pricing or _Pricing(shard)  # the bucket systems, built once for both
        whole = exact_shard_bound(shard, limit, pricing)
    if whole is not None:
        return min(whole, fitted), True
    priced, _ = shard_bound(  # valid however it ends
        shard,
        cands,
        budget,
        pricing=pricing,
        columns=columns,
        work_left=lambda: _work_left(deadline),
    )
    return min(priced, fitted), True  # both are valid: the lower one


def maximum_cardinality(
    shard: PoolArrays,
    cands: Candidates,
    mate: IntArray,
    exhaustive: bool,
    all_exact: bool,
    deadline: float,
) -> tuple[bool, int]:
    """Grow `mate` (in place) to a maximum-cardinality matching of the shard's full
    feasible graph (cardinality.py): first over the candidate edges, then over every
    feasible pair around the creators the search reaches. Returns whether that was
    proved (False: the time limit cut the search short) and the pairs added.

    With at most one free creator there is no augmenting path; on an exhaustive shard
    the candidates are the full feasible graph; when every candidate component was
    solved exactly, the matching is already maximum on the candidates.
    """
    eligible = shard.active & shard.has_start
    if int(np.count_nonzero(eligible & (mate < 0))) < 2 or (exhaustive and all_exact):
        return True, 0
    from matchdesk.matching.cardinality import (  # numba, on demand
        augment_on_edges,
        augment_on_feasible,
        bucket_index,
    )

    added = 0
    if not all_exact:
        first = augment_on_edges(shard.n, cands.a, cands.b, mate, eligible, _work_left(deadline))
        added = first.added
        if not first.complete:
            return False, added
    if exhaustive or int(np.count_nonzero(eligible & (mate < 0))) < 2:
        return True, added
    creator, bucket, _ = candidate_entries(shard)
    rules = shard.rules
    full = augment_on_feasible(
        shard.n,
        mate,
        eligible,
        bucket_index(creator, bucket, shard.n),
        shard.starts,
        shard.tier,
        rules.max_tier_distance,
        rules.max_tier_distance > 0,
        shard.forbidden,
        _work_left(deadline),
    )
    return full.complete, added + full.added


WORK_PER_SECOND = 20_000_000  # pair checks and scanned edges of the search, conservatively


def _work_left(deadline: float) -> int:
    """The search's work budget for the time left (unbounded without a time limit)."""
    left = deadline - clock.now()
    if left == float("inf"):
        return 1 << 62
    return int(max(0.0, min(left * WORK_PER_SECOND, float(1 << 62))))


def _run_shards(
    shards: list[PoolArrays], options: SolverOptions, exhaustive: bool, deadline: float
) -> list[_ShardOutcome]:
    """Outcomes of the shards, in order, on the chosen executor, each given the time
    left until `deadline` (clock.now()) when it starts."""
    if options.executor == "local" or len(shards) <= 1:
        return [
            _solve_shard(shard, options, exhaustive, deadline - clock.now()) for shard in shards
        ]
    mine = options  # the biggest shard, here: this process's threads (parallel.py)
    if not options.threads:
        options = replace(options, threads=1)
    left = deadline - clock.now()
    wall = time.time() + left if left != float("inf") else None
    tasks = [(shard, options, exhaustive, left, wall) for shard in shards]
    # Biggest shards first, so the last one to start is a small one. The biggest is
    # solved here, in this process, while the workers (one fewer than the CPUs) take
    # the others: this process would only wait otherwise, and that shard's arrays and
    # outcome (often most of the pool) are never pickled.
    order = sorted(range(len(tasks)), key=lambda i: (-tasks[i][0].n, i))
    here, away = order[0], order[1:]
    workers = options.workers or max(1, (os.cpu_count() or 1) - 1)
    out: list[_ShardOutcome | None] = [None] * len(tasks)
    if options.executor == "process":
        pool = _process_pool(workers)
        try:
            futures = {i: pool.submit(_solve_shard, *tasks[i]) for i in away}
            out[here] = _solve_shard(shards[here], mine, exhaustive, deadline - clock.now())
            for i, future in futures.items():
                out[i] = future.result()
        except BrokenProcessPool:
            _POOLS.pop(workers, None)  # a worker died: the next solve starts a new pool
            raise
    else:
        refs = _submit_to_ray([tasks[i] for i in away])
        out[here] = _solve_shard(shards[here], mine, exhaustive, deadline - clock.now())
        for i, outcome in zip(away, _gather_from_ray(refs), strict=True):
            out[i] = outcome
    return [x for x in out if x is not None]


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _warm_worker() -> None:
    """A worker's first task: import the engine and load its compiled code, so that a
    solve does not pay for them (numba's cache makes this about a second, once)."""
    from matchdesk.matching.exact import compile_ahead

    compile_ahead()


def _process_pool(workers: int) -> ProcessPoolExecutor:
    """The process pool of `workers` workers, started once and kept for later solves
    (its workers have imported the engine and loaded its compiled code). forkserver (or
    spawn) starts them clean, where fork would copy a process that may have threads
    running; the shards are pickled to them as arrays (PoolArrays), never the problem."""
    pool = _POOLS.get(workers)
    if pool is None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_warm_worker)
        _POOLS[workers] = pool
        atexit.register(pool.shutdown, wait=False, cancel_futures=True)
    return pool


def _submit_to_ray(
    tasks: list[tuple[PoolArrays, SolverOptions, bool, float, float | None]],
) -> list[Any]:
    """Ray tasks of the shards, started (references to their outcomes, in order)."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError("executor 'ray' needs Ray: pip install 'matchdesk[scale]'") from exc
    if not ray.is_initialized():
        ray.init()
    remote: Any = ray.remote(_solve_shard)
    return [remote.remote(*task) for task in tasks]


def _gather_from_ray(refs: list[Any]) -> list[_ShardOutcome]:
    import ray

    return [ray.get(ref) for ref in refs]


def _merge(
    n: int, shards: list[tuple[IntArray, PoolArrays]], outcomes: list[_ShardOutcome]
) -> tuple[Candidates, IntArray]:
    """The pool's candidates and mates from the shards' (edges shard by shard, each shard's
    by descending score, ties by key)."""
    mate = np.full(n, -1, dtype=np.int64)
    best = np.full(n, -np.inf)
    bound = np.full(n, -np.inf)
    pruned = np.zeros(n)
    parts_a: list[IntArray] = []
    parts_b: list[IntArray] = []
    parts_w: list[FloatArray] = []
    checked = feasible_checked = 0
    exhaustive = True
    for (rows, _), outcome in zip(shards, outcomes, strict=True):
        c = outcome.candidates
        local = outcome.mate
        mate[rows] = np.where(local >= 0, rows[np.maximum(local, 0)], -1)
        best[rows] = c.best_checked
        bound[rows] = c.unchecked_bound
        pruned[rows] = c.pruned_bound
        x, y = rows[c.a], rows[c.b]
        parts_a.append(np.minimum(x, y))
        parts_b.append(np.maximum(x, y))
        parts_w.append(c.score)
        checked += c.checked
        feasible_checked += c.feasible_checked
        exhaustive &= c.exhaustive
    if parts_a:
        a, b, w = np.concatenate(parts_a), np.concatenate(parts_b), np.concatenate(parts_w)
    else:
        a = b = np.zeros(0, dtype=np.int64)
        w = np.zeros(0)
    cands = Candidates(a, b, w, best, bound, pruned, checked, feasible_checked, exhaustive)
    return cands, mate


def _bye_reasons(
    prep: Prepared,
    cands: Candidates,
    mate: IntArray,
    shard_rows: list[IntArray],
    outcomes: list[_ShardOutcome],
) -> tuple[IntArray, tuple[ByeReason, ...]]:
    """Each free creator's reason, exact where it says "odd one out".

    Odd one out: every other creator of the creator's component of the feasible graph
    is matched (so that component has an odd number of creators and the matching is
    perfect on the rest: no matching could pair them all). It is proved from the
    components of the candidate graph when that is the full feasible graph (small
    pools), and otherwise from the shard (a union of feasible components): the only
    free creator of its shard. Lost to better pairs: a creator with feasible partners
    that is not proved the odd one out; its partners were paired otherwise. That is
    true when the shard's cardinality search finished (cardinality.py: every feasible
    partner of a free creator is matched); where the time limit cut it short (or the
    shard was never searched), the reason says so instead.
    """
    n = prep.n
    locked = np.zeros(n, dtype=np.bool_)
    locked[prep.locked_a] = True
    locked[prep.locked_b] = True
    free = (mate < 0) & ~locked
    eligible = np.isfinite(cands.best_checked)
    rows = np.flatnonzero(free)
    if rows.size == 0:
        return rows, ()
    if cands.exhaustive:
        count, labels = label_components(n, cands.a, cands.b)
    else:
        count, labels = len(shard_rows), np.full(n, -1, dtype=np.int64)
        for s, members in enumerate(shard_rows):
            labels[members] = s
    free_eligible = free & eligible & (labels >= 0)
    free_per = np.bincount(labels[free_eligible], minlength=count)
    skipped = np.zeros(n, dtype=np.bool_)
    unproved = np.zeros(n, dtype=np.bool_)
    for members, outcome in zip(shard_rows, outcomes, strict=True):
        skipped[members] = outcome.skipped
        unproved[members] = not outcome.proved
    reasons: list[ByeReason] = []
    for row in rows.tolist():
        if not prep.active[row]:
            reasons.append(ByeReason.EXCLUDED)
        elif skipped[row]:
            reasons.append(ByeReason.TIME_LIMIT)
        elif not eligible[row]:
            reasons.append(ByeReason.NO_FEASIBLE_PARTNER)
        elif free_per[labels[row]] == 1:
            reasons.append(ByeReason.ODD_ONE_OUT)
        elif unproved[row]:
            reasons.append(ByeReason.TIME_LIMIT)
        else:
            reasons.append(ByeReason.LOST_TO_BETTER_PAIRS)
    return rows, tuple(reasons)


def unit_weights(weights: Weights) -> Weights:
    """The weights divided by their sum (weights.maximum > 0), so that a score lies in
    [0, 1]: every score is divided by the same positive constant, so the order of any
    two matchings by weight, hence the optimum, is unchanged."""
    scale = weights.maximum
    return replace(
        weights,
        revenue=weights.revenue / scale,
        audience=weights.audience / scale,
        slot=weights.slot / scale,
        novelty=weights.novelty / scale,
        fairness=weights.fairness / scale,
    )


def solve(
    problem: MatchProblem,
    *,
    seed: int = 0,
    time_limit: float | None = None,
    options: SolverOptions | None = None,
    executor: Literal["local", "process", "ray"] | None = None,
) -> Result:
    """Pair as many creators as possible, as well as possible, each pair at a shared slot.

    The matching has maximum cardinality on the full feasible graph (proved by the
    search of cardinality.py, `Statistics.cardinality_proved`), then the greatest total
    score the engine finds; every hard rule of the problem holds. The same problem and
    seed give the same result whatever the order of its creators. The weights' scale
    does not matter: the shards are solved on the weights divided by their sum
    (`unit_weights`), scores and bound are reported on the given ones.

    `time_limit` (seconds) bounds the solve: a shard that would start after it is
    skipped, components not reached are matched greedily, the improvement moves, the
    exact repairs and the cardinality search stop at it; the status is then
    `time_limit` and the byes it left unproved say "time limit". What is not cut: the
    preparation, one shard's candidate search once started, and the slots and bound of
    the pairs found (all linear). The result is always valid. `executor` (default: the
    options') says where the independent shards of the pool are solved: "local",
    "process" or "ray"; the result is the same.
    """
    options = options or SolverOptions()
    if executor is not None:
        options = replace(options, executor=executor)
    started = clock.now()
    deadline = started + (time_limit if time_limit is not None else float("inf"))
    phases: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = clock.now()
        phases[name] = now - since
        return now

    t = started
    prep = prepare(problem)
    t = lap("prepare", t)
    matchable = int(np.count_nonzero(prep.active & prep.has_start))
    exhaustive = matchable <= options.exhaustive_limit
    if exhaustive:  # every component exactly: the result is optimal
        options = replace(options, exact_limit=max(options.exact_limit, options.exhaustive_limit))
    if not exhaustive and matchable > options.small_pool:
        options = replace(
            options,
            window=min(options.window, options.mid_window),
            keep=min(options.keep, options.mid_keep),
        )
    if not exhaustive and matchable > options.mid_pool:
        options = replace(
            options,
            exact_limit=min(options.exact_limit, options.mid_pool_exact_limit),
            exact_budget=min(options.exact_budget, options.mid_exact_budget),
            repair_hops=min(options.repair_hops, options.mid_repair_hops),
        )
    if not exhaustive and matchable > options.large_pool:
        # The pool's size, not the shard's, picks the candidate width.
        # There time is what runs short (30 s for a million): the rounding re-solves only
        # its fractional part, as the weight lost to the thinner candidates dwarfs what
        # the wider regions win back (about 1.5 s at a million for under 0.01%). The
        # pricing of the certificate is left out too (with these thin candidates its
        # rounds cost 10 s at a million and its biggest shards ran out of budget anyway),
        # and components over 20,000 start from greedy again (6 s for 0.16%).
        options = replace(
            options,
            window=options.large_window,
            keep=options.large_keep,
            rounding_hops=0,
            regret=float("inf"),
            certificate_work=min(options.certificate_work, options.large_certificate_work),
            relaxation_limit=min(options.relaxation_limit, options.large_relaxation_limit),
        )
    shards = split_pool(prep)
    # Scores in [0, 1] whatever the weights' scale: every phase (the integer scaling of
    # the exact solvers, the LP's costs, the rounding's penalty) is built for that range.
    scale = problem.weights.maximum
    if scale > 0 and scale != 1.0:
        unit = unit_weights(problem.weights)
        shards = [(rows, replace(shard, weights=unit)) for rows, shard in shards]
    else:
        scale = 1.0
    t = lap("split", t)
    outcomes = _run_shards([shard for _, shard in shards], options, exhaustive, deadline)
    phases["candidates"] = sum(o.seconds[0] for o in outcomes)
    phases["matching"] = sum(o.seconds[1] for o in outcomes)
    phases["cardinality"] = sum(o.seconds[2] for o in outcomes)
    phases["bound"] = sum(o.seconds[3] for o in outcomes)
    t = lap("shards", t)
    cands, mate = _merge(prep.n, shards, outcomes)
    components = sum(o.components for o in outcomes)
    exact_done = sum(o.exact for o in outcomes)
    timed_out = any(o.timed_out for o in outcomes)
    t = lap("merge", t)

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

    bye_rows, bye_reasons = _bye_reasons(prep, cands, mate, [rows for rows, _ in shards], outcomes)
    locked_weight = float(parts.total[locked].sum())
    upper = sum(o.bound for o in outcomes) * scale + locked_weight
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
        cardinality_proved=all(o.proved for o in outcomes),
        bound_priced=all(o.priced for o in outcomes),
        augmented_pairs=sum(o.augmented for o in outcomes),
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

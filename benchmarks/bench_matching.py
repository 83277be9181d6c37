"""Benchmark of the matching engine against the references a Python user would reach for.

    python benchmarks/bench_matching.py [--sizes 3000,100000,1000000] [--seeds 0,1] [--quick]

For each pool size (demo creators, one weekly pool; see matching_pools.py) it prints,
side by side: the engine with its default options (executor "local", 2 threads), the
same with executor "process" (shards in worker processes, the biggest in this one; peak
memory counts the workers too) and "ray" (Ray tasks, when Ray is installed) from 100,000
creators on, the "thorough" preset (SolverOptions.thorough(): twice the candidates and
components of up to 20,000 creators solved exactly; a different setting, slower; no
longer higher since the pricing feeds the candidates), greedy (pairs by score, take each
whose creators are both free) on the full feasible graph, rustworkx's exact
`max_weight_matching(max_cardinality=True)` on the full feasible graph (the oracle), and
networkx's `max_weight_matching` where they finish. Times are wall seconds from the
problem in memory to the matching (the engine: to its `Result`); pool generation and the
full feasible graph of the references are not counted for the engine. With `--repeat N`
the engine rows are run N times and show the best time and the spread (worst - best);
the load average of the machine is printed with each size, since other work on a shared
machine slows every figure.

Quality: "card" is creators matched / creators with at least one feasible partner;
"w/opt" is weight / the exact optimum where the oracle ran; "w/UB" is weight / the
engine's dual bound (valid for any maximum-cardinality matching of the full feasible
graph: values y_i >= 0 with y_i + y_j >= the score of every feasible pair, including the
pairs the search pruned or never checked, sum to at least any matching's weight; in small
shards the odd-set duals of their whole feasible graph, matchdesk/matching/odd_duals.py,
from the one exact maximum-cardinality run that also gives their matching, in
bigger ones the candidate graph's LP duals completed by pricing, certificate.py, or the
fitted bound of bounds.py where the pricing is switched off, as above a million). The engine row
says whether the maximum cardinality was proved (matching/cardinality.py) and which bound
it reports.

First, the cardinality families of issue 14 (`--families`, synthetic.narrow_pool: short
slots, narrow windows, few or many languages, heavy blocks, adjacent tiers) against a
maximum-cardinality matching of the full feasible graph by rustworkx.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from matchdesk.matching import MatchProblem, SolverOptions, solve
from matchdesk.matching.candidates import full_graph
from matchdesk.matching.exact import rustworkx_matching
from matchdesk.matching.prepare import prepare
from matchdesk.matching.synthetic import CARDINALITY_FAMILIES, narrow_pool
from matching_pools import demo_problem

T = TypeVar("T")

THOROUGH = SolverOptions.thorough()
ORACLE_MAX = 3_000
NETWORKX_MAX = 500
GREEDY_MAX = 20_000
THOROUGH_MAX = 100_000
PROCESS_MIN = 100_000


class PeakMemory:
    """Peak resident memory while a block runs.

    This process alone (`children=False`): Linux's own high-water mark (VmHWM), reset
    before the block by writing 5 to /proc/self/clear_refs, so nothing runs beside the
    measured code. With the workers of the "process" and Ray executors
    (`children=True`): this process and its children sampled every 20 ms. A sampling
    thread costs the measured code time (it scans /proc and takes the GIL): at a
    million creators sampling every 10 ms added about 6 s, so it is kept for the rows
    that need it.
    """

    def __init__(self, children: bool = False) -> None:
        self.children = children
        self.proc = psutil.Process()
        self.peak = 0

    def __enter__(self) -> PeakMemory:
        if not self.children and self._reset_high_water_mark():
            self.thread: threading.Thread | None = None
            return self
        self.peak = self._rss()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    @staticmethod
    def _reset_high_water_mark() -> bool:
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    @staticmethod
    def _high_water_mark() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM in /proc/self/status")

    def _rss(self) -> int:
        total = int(self.proc.memory_info().rss)
        for child in self.proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # a worker that just ended
                total += int(child.memory_info().rss)
        return total

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self._rss())
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        if self.thread is None:
            self.peak = self._high_water_mark()
            return
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self._rss())


def row(
    name: str,
    size: int,
    seconds: float,
    matched: int,
    eligible: int,
    weight: float,
    opt: float | None,
    ub: float,
    peak: float | None,
    note: str = "",
) -> None:
    ratio_opt = f"{weight / opt:8.4%}" if opt else "       -"
    peak_text = f"{peak / 1e9:5.2f} GB" if peak else "      -"
    print(
        f"{name:<22} {size:>9,} {seconds:9.2f} {matched:>9,} {matched / max(eligible, 1):8.3%} "
        f"{weight:13.2f} {ratio_opt} {weight / ub if ub else 1:8.3%} {peak_text}  {note}"
    )


def greedy_full(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[int, float]:
    order = np.lexsort((a * n + b, -w))
    free = np.ones(n, dtype=bool)
    matched, weight = 0, 0.0
    for i, j, s in zip(a[order].tolist(), b[order].tolist(), w[order].tolist(), strict=True):
        if free[i] and free[j]:
            free[i] = free[j] = False
            matched += 2
            weight += s
    return matched, weight


def networkx_full(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[int, float]:
    import networkx as nx

    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(a.tolist(), b.tolist(), w.tolist(), strict=True))
    pairs = nx.max_weight_matching(graph, maxcardinality=True)
    weight = sum(graph[x][y]["weight"] for x, y in pairs)
    return 2 * len(pairs), weight


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    gc.collect()
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def repeated(
    fn: Callable[[], T], repeat: int, children: bool = False
) -> tuple[T, float, float, float]:
    """Result, best seconds, spread (worst - best) and peak memory over `repeat` runs."""
    times: list[float] = []
    peak = 0.0
    for _ in range(repeat):
        with PeakMemory(children) as mem:
            out, seconds = timed(fn)
        times.append(seconds)
        peak = max(peak, mem.peak)
    return out, min(times), max(times) - min(times), peak


_process_warm: list[bool] = []


def _ray_started() -> bool:
    """Ray started with one CPU per core (its workers warmed by a small solve, so no
    size pays their start-up and the engine's first import), or False without Ray."""
    try:
        import ray
    except ImportError:
        return False
    if not ray.is_initialized():
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        solve(demo_problem(3000, 0), executor="ray")
    return True


def spread_note(spread: float, repeat: int) -> str:
    return f"best of {repeat}, spread {spread:.2f} s; " if repeat > 1 else ""


def bench(size: int, quick: bool, repeat: int, seed: int = 0) -> None:
    problem: MatchProblem = demo_problem(size, seed, verbose=True)
    pool = len(problem.creators)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n== {size:,} demo creators (seed {seed}) -> weekly pool of {pool:,} "
        f"({len(problem.blocks)} blocks)"
    )
    print(f"  load average before (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
    result, seconds, spread, peak = repeated(lambda: solve(problem), repeat)
    stats = result.statistics
    header = (
        f"{'method':<22} {'pool':>9} {'seconds':>9} {'matched':>9} {'card':>8} {'weight':>13} "
        f"{'w/opt':>8} {'w/UB':>8} {'peak RSS':>8}"
    )
    print(header)
    print("-" * len(header))

    opt: float | None = None
    full = None
    if size <= max(ORACLE_MAX, GREEDY_MAX) and not (quick and size > ORACLE_MAX):
        prep = prepare(problem)
        (full, full_seconds) = timed(lambda: full_graph(prep))
        a, b, w = full
        best = np.full(prep.n, -np.inf)
        np.maximum.at(best, a, w)
        np.maximum.at(best, b, w)
        exact_ub = float(np.where(np.isfinite(best), best, 0.0).sum() / 2)
        print(
            f"  full feasible graph: {a.size:,} pairs, built in {full_seconds:.2f} s; "
            f"exact per-creator bound {exact_ub:.2f}"
        )
        if size <= ORACLE_MAX and not quick:
            # rustworkx's running time varies from run to run (10-20 s here on the same
            # input: its hash maps are seeded at random), so it is repeated like the engine.
            runs = [
                timed(lambda: rustworkx_matching(np.arange(prep.n), a, b, w)) for _ in range(repeat)
            ]
            pairs = runs[0][0]
            oracle_times = [t for _, t in runs]
            oracle_seconds = min(oracle_times)
            x, y = pairs
            from matchdesk.matching.scoring import scores

            opt = float(scores(prep, x, y).sum())
            row(
                "rustworkx exact (full)",
                pool,
                oracle_seconds,
                2 * x.size,
                stats.eligible,
                opt,
                opt,
                stats.upper_bound,
                None,
                f"{spread_note(max(oracle_times) - oracle_seconds, repeat)}the oracle",
            )
    row(
        "engine",
        pool,
        seconds,
        stats.matched,
        stats.eligible,
        stats.weight,
        opt,
        stats.upper_bound,
        peak,
        f"{spread_note(spread, repeat)}default options, status {result.status.value}, "
        f"cardinality {'proved maximum' if stats.cardinality_proved else 'NOT proved'}, "
        f"bound {'priced' if stats.bound_priced else 'fitted (not priced)'}",
    )
    if size >= PROCESS_MIN:
        for executor in ("process", "ray"):
            if executor == "ray" and not _ray_started():
                continue
            if executor == "process" and not _process_warm:
                # The worker pool is started once and kept (solver._process_pool): warm
                # it on a small pool, as Ray's workers are, so no size pays their start.
                solve(demo_problem(3000, 0), executor="process")
                _process_warm.append(True)
            forked, f_seconds, f_spread, f_peak = repeated(
                lambda executor=executor: solve(problem, executor=executor),  # type: ignore[misc]
                repeat,
                children=True,
            )
            ps = forked.statistics
            same = ps.weight == stats.weight and ps.matched == stats.matched
            row(
                f"engine ({executor})",
                pool,
                f_seconds,
                ps.matched,
                ps.eligible,
                ps.weight,
                opt,
                ps.upper_bound,
                f_peak,
                f"{spread_note(f_spread, repeat)}executor={executor!r}, "
                f"{'same result as local' if same else 'DIFFERS from local'}"
                f", {seconds / f_seconds:.2f}x local",
            )
    if size <= THOROUGH_MAX:
        fast, fast_seconds, fast_spread, fast_peak = repeated(
            lambda: solve(problem, options=THOROUGH), repeat
        )
        fs = fast.statistics
        row(
            "engine (thorough)",
            pool,
            fast_seconds,
            fs.matched,
            fs.eligible,
            fs.weight,
            opt,
            fs.upper_bound,
            fast_peak,
            f"{spread_note(fast_spread, repeat)}SolverOptions.thorough(): "
            f"keep={THOROUGH.keep}, exact_limit={THOROUGH.exact_limit}",
        )
    if full is not None:
        a, b, w = full
        ((gm, gw), greedy_seconds) = timed(lambda: greedy_full(len(problem.creators), a, b, w))
        row(
            "greedy (full)",
            pool,
            greedy_seconds,
            gm,
            stats.eligible,
            gw,
            opt,
            stats.upper_bound,
            None,
        )
        if size <= NETWORKX_MAX:
            ((nm, nw), nx_seconds) = timed(lambda: networkx_full(a, b, w))
            row(
                "networkx exact (full)",
                pool,
                nx_seconds,
                nm,
                stats.eligible,
                nw,
                opt,
                stats.upper_bound,
                None,
            )
    phases = ", ".join(f"{k} {v:.2f}" for k, v in stats.phase_seconds.items())
    print(f"  engine phases (s): {phases}")
    print(
        f"  engine: {stats.checked_pairs:,} pairs checked, {stats.feasible_checked:,} feasible, "
        f"{stats.candidate_edges:,} candidate edges, {stats.components} components "
        f"({stats.exact_components} solved exactly)"
    )
    gap = stats.upper_bound / stats.weight - 1 if stats.weight > 0 else 0.0
    above_opt = f", {stats.upper_bound / opt - 1:.3%} above the optimum" if opt else ""
    print(
        f"  upper bound {stats.upper_bound:.2f}: {gap:.3%} above the engine's weight"
        f"{above_opt}; certificate {stats.phase_seconds.get('bound', 0.0):.2f} s of the "
        f"solve's {seconds:.2f} s ({stats.bound})"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  load average after (1, 5, 15 min): {load}")
    if opt:
        print(
            f"  speed-up over the oracle: engine {oracle_seconds / seconds:.0f}x"
            + (f", thorough {oracle_seconds / fast_seconds:.0f}x" if size <= THOROUGH_MAX else "")
        )


def families(sizes: list[int], seed: int = 13) -> None:
    """Section 1 of issue 14: the cardinality families (synthetic.CARDINALITY_FAMILIES)
    at each size, the engine's matched count against a maximum-cardinality matching of
    the full feasible graph (rustworkx, unit weights)."""
    import rustworkx as rx

    print(f"\n== cardinality families (synthetic.narrow_pool, seed {seed})")
    header = f"{'family':<16} {'creators':>9} {'engine':>8} {'maximum':>8} {'seconds':>8}  proved"
    print(header)
    print("-" * len(header))
    misses = 0
    for name, kwargs in CARDINALITY_FAMILIES.items():
        for size in sizes:
            problem = narrow_pool(size, seed, **kwargs)
            result, seconds = timed(lambda: solve(problem))  # noqa: B023
            prep = prepare(problem)
            a, b, _ = full_graph(prep)
            graph = rx.PyGraph()
            graph.add_nodes_from(range(prep.n))
            graph.add_edges_from_no_data(list(zip(a.tolist(), b.tolist(), strict=True)))
            maximum = 2 * len(rx.max_weight_matching(graph, max_cardinality=True))
            matched = result.statistics.matched
            misses += matched != maximum
            print(
                f"{name:<16} {size:>9,} {matched:>8,} {maximum:>8,} {seconds:8.2f}  "
                f"{result.statistics.cardinality_proved}"
            )
    print(f"  {'every one at the maximum' if misses == 0 else f'{misses} BELOW the maximum'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        default="500,3000,100000,1000000",
        help="comma-separated demo pool sizes (creators generated)",
    )
    parser.add_argument(
        "--seeds",
        default="0",
        help="comma-separated demo seeds: each size is run on a pool of each seed",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each engine row (best time shown)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the oracle and the references above 3,000 (engine only)",
    )
    parser.add_argument(
        "--families",
        default="650,1500,4000",
        help="comma-separated sizes of the cardinality families ('' to skip)",
    )
    args = parser.parse_args()
    print(__doc__.split("\n\n")[0].strip())
    print(
        "bound: a dual bound, valid for any maximum-cardinality matching of the full "
        "feasible graph by weak "
        "duality: in small shards the odd-set duals of the whole feasible graph (y_i and "
        "odd sets with z covering every feasible pair: their exact optimum, "
        "matching/odd_duals.py); in bigger ones the candidate graph's LP duals completed "
        "by pricing every other pair (raised by half its margin where that ran out of "
        "budget, matching/certificate.py); the fitted bound of matching/bounds.py where "
        "pricing is off."
    )
    # One small solve first, so no size pays the process's one-time costs (lazy imports of
    # scipy's sparse modules, numpy kernels); the figures are "problem in memory to Result".
    solve(demo_problem(2000, 1))
    family_sizes = [int(x) for x in args.families.split(",") if x]
    if family_sizes:
        families(family_sizes)
    for size in (int(s) for s in args.sizes.split(",") if s):
        for seed in (int(x) for x in args.seeds.split(",") if x):
            bench(size, args.quick, max(1, args.repeat), seed)


if __name__ == "__main__":
    main()

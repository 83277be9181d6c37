"""Pool families that stress the cardinality guarantee: short slots, narrow windows,
few languages, heavy blocks (plain numpy; deterministic for a seed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import rustworkx as rx

from matchdesk.matching import Creator, MatchProblem, Rules
from matchdesk.matching.candidates import full_graph
from matchdesk.matching.prepare import prepare

START = datetime(2026, 3, 9, tzinfo=UTC)  # Monday 00:00 UTC
END = START + timedelta(days=7)


def narrow_pool(
    n: int,
    seed: int,
    *,
    languages: int = 2,
    days: int = 2,
    first_hour: int = 10,
    hours: int = 3,
    window_minutes: int = 5,
    max_windows: int = 2,
    tiers: int = 1,
    blocks_per_creator: float = 0.0,
    rules: Rules | None = None,
) -> MatchProblem:
    """`n` creators with one to `max_windows` windows of `window_minutes` on the first
    `days` days between `first_hour` and `first_hour + hours` UTC, one or two of
    `languages` languages, log-normal strengths; blocks at random."""
    rng = np.random.default_rng(seed)
    rules = rules or Rules(duration_minutes=5, slot_step_minutes=5)
    step = rules.slot_step_minutes
    slots = hours * 60 // step
    codes = [f"l{i}" for i in range(languages)]
    creators = []
    for i in range(n):
        count = int(rng.integers(1, max_windows + 1))
        windows = set()
        for _ in range(count):
            day = int(rng.integers(0, days))
            slot = int(rng.integers(0, max(1, slots - window_minutes // step + 1)))
            start = day * 1440 + first_hour * 60 + slot * step
            windows.add((start, start + window_minutes))
        own = {codes[int(rng.integers(0, languages))]}
        if rng.random() < 0.3:
            own.add(codes[int(rng.integers(0, languages))])
        followers = int(10 ** rng.normal(4.0, 0.9))
        revenue = int(10 ** rng.normal(3.5, 0.8))
        creators.append(
            Creator(
                f"n{i:05d}",
                int(rng.integers(0, tiers)),
                tuple(sorted(own)),
                followers=followers,
                revenue_30d=revenue,
                availability=tuple(sorted(windows)),
            )
        )
    blocks: list[tuple[str, str]] = []
    if blocks_per_creator > 0:
        count = int(blocks_per_creator * n)
        x = rng.integers(0, n, size=count)
        y = rng.integers(0, n, size=count)
        blocks = sorted({(f"n{a:05d}", f"n{b:05d}") for a, b in zip(x, y, strict=True) if a < b})
    return MatchProblem.from_creators(START, END, creators, blocks=blocks, rules=rules)


def maximum_cardinality(problem: MatchProblem) -> int:
    """Creators matched by a maximum-cardinality matching of the full feasible graph
    (rustworkx, unit weights), locked pairs included."""
    prep = prepare(problem)
    a, b, _ = full_graph(prep)
    graph = rx.PyGraph()
    graph.add_nodes_from(range(prep.n))
    graph.add_edges_from_no_data(list(zip(a.tolist(), b.tolist(), strict=True)))
    pairs = rx.max_weight_matching(graph, max_cardinality=True)
    return 2 * (len(pairs) + len(problem.locked_pairs))

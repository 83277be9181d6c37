"""Independent checks of a result against the hard rules (plain Python, no engine code),
and the exact reference on the full feasible graph (rustworkx)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import rustworkx as rx

from matchdesk.matching import MatchProblem, Result
from matchdesk.matching.candidates import full_graph
from matchdesk.matching.prepare import prepare


def full_graph_matching(problem: MatchProblem, *, max_cardinality: bool) -> tuple[int, float]:
    """rustworkx's exact matching of the full feasible graph: (creators matched, weight);
    with `max_cardinality` the heaviest of the largest matchings, else the heaviest of any
    size (scores rounded to 1e-6 for rustworkx's integer weights)."""
    prep = prepare(problem)
    a, b, w = full_graph(prep)
    graph = rx.PyGraph()
    graph.add_nodes_from(range(prep.n))
    graph.add_edges_from(
        list(zip(a.tolist(), b.tolist(), np.rint(w * 1e6).astype(int).tolist(), strict=True))
    )
    pairs = rx.max_weight_matching(graph, max_cardinality=max_cardinality, weight_fn=int)
    weight = {(int(x), int(y)): float(s) for x, y, s in zip(a, b, w, strict=True)}
    return 2 * len(pairs), sum(weight[(min(x, y), max(x, y))] for x, y in pairs)


def pair_allowed(problem: MatchProblem, a: str, b: str) -> bool:
    """Every hard rule for a pair except the slot, checked the slow, obvious way."""
    table, rules = problem.creators, problem.rules
    ia, ib = table.index_of(a), table.index_of(b)
    if a in problem.excluded or b in problem.excluded:
        return False
    if abs(int(table.tier[ia]) - int(table.tier[ib])) > rules.max_tier_distance:
        return False
    if rules.require_shared_language and not set(table.languages_of(ia)) & set(
        table.languages_of(ib)
    ):
        return False
    if {a, b} in [set(p) for p in problem.blocks]:
        return False
    return all(
        not ({a, b} == {x, y} and ago <= rules.rematch_cooldown_rounds)
        for x, y, ago in problem.recent_pairs
    )


def brute_force_pairs(problem: MatchProblem) -> set[tuple[str, str]]:
    """Every feasible pair (a < b) by brute force, locked creators left out."""
    ids = [str(x) for x in problem.creators.ids]
    locked = {c for pair in problem.locked_pairs for c in pair}
    out = set()
    for i, a in enumerate(ids):
        for j in range(i + 1, len(ids)):
            b = ids[j]
            if a in locked or b in locked:
                continue
            if pair_allowed(problem, a, b) and problem.shared_starts(i, j):
                out.add((a, b))
    return out


def assert_valid(problem: MatchProblem, result: Result) -> None:
    """Assert every hard rule holds in `result`."""
    table, rules = problem.creators, problem.rules
    seen: set[str] = set()
    locked = {frozenset(p) for p in problem.locked_pairs}
    found_locked = set()
    step = rules.slot_step_minutes
    for m in result.matches:
        assert m.creator_a < m.creator_b
        assert m.creator_a not in seen
        assert m.creator_b not in seen
        seen |= {m.creator_a, m.creator_b}
        assert m.end - m.start == timedelta(minutes=rules.duration_minutes)
        assert int(m.start.timestamp()) % (step * 60) == 0
        assert problem.period_start <= m.start
        assert m.end <= problem.period_end
        for creator in (m.creator_a, m.creator_b):
            row = table.index_of(creator)
            start = (m.start - problem.period_start) // timedelta(minutes=1)
            end = start + rules.duration_minutes
            assert any(s <= start and end <= e for s, e in table.availability_of(row))
        pair = frozenset((m.creator_a, m.creator_b))
        if pair in locked:
            assert m.locked
            found_locked.add(pair)
        else:
            assert not m.locked
            assert pair_allowed(problem, m.creator_a, m.creator_b)
    assert found_locked == locked
    byes = {b.creator for b in result.byes}
    assert len(byes) == len(result.byes)
    assert byes | seen == {str(x) for x in table.ids}
    assert not byes & seen
    for creator in problem.excluded:
        assert creator in byes


def signature(result: Result) -> tuple[object, ...]:
    """Everything observable of a result, for determinism checks."""
    return (
        result.status,
        tuple((m.creator_a, m.creator_b, m.start, round(m.score, 12)) for m in result.matches),
        tuple((b.creator, b.reason) for b in result.byes),
    )

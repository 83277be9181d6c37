"""Independent checks of a result against the hard rules (plain Python, no engine code)."""

from __future__ import annotations

from datetime import timedelta

from matchdesk.matching import MatchProblem, Result


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

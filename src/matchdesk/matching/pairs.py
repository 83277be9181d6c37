"""The hard rules for one given pair: what a manager's hand-made or locked pair must meet.

The solver never proposes a pair that breaks a hard rule; a pair made by hand (a locked
pair, a manual pair on the round board) is checked here, and each broken rule is named so
the refusal can say which one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matchdesk.matching.problem import MatchProblem


@dataclass(frozen=True)
class PairViolation:
    """A hard rule a pair breaks: `rule` is its key (as in the program file where there
    is one), `message` completes "the pair ..." in plain words."""

    rule: str
    message: str


def pair_violations(problem: MatchProblem, a: str, b: str) -> list[PairViolation]:
    """Every hard rule that pairing creators `a` and `b` (ids in `problem`) would break,
    in a fixed order; an empty list means the pair is allowed. Being in another pair is
    the caller's concern (the problem does not know the current matches)."""
    if a == b:
        return [PairViolation("distinct", "pairs a creator with itself")]
    out: list[PairViolation] = []
    for creator in (a, b):
        if creator in problem.excluded:
            out.append(PairViolation("excluded", f"includes {creator}, who is excluded"))
    key = frozenset((a, b))
    if any(frozenset(pair) == key for pair in problem.blocks):
        out.append(PairViolation("blocks", "is blocked"))
    cooldown = problem.rules.rematch_cooldown_rounds
    if any(frozenset((x, y)) == key and ago <= cooldown for x, y, ago in problem.recent_pairs):
        out.append(PairViolation("rematch_cooldown_rounds", "met within the cooldown"))
    table = problem.creators
    ia, ib = table.index_of(a), table.index_of(b)
    if abs(int(table.tier[ia]) - int(table.tier[ib])) > problem.rules.max_tier_distance:
        out.append(PairViolation("max_tier_distance", "is too far apart in tier"))
    if problem.rules.require_shared_language and not (
        set(table.languages_of(ia)) & set(table.languages_of(ib))
    ):
        out.append(PairViolation("require_shared_language", "shares no language"))
    if not problem.shared_starts(ia, ib):
        out.append(
            PairViolation(
                "duration_minutes",
                f"has no shared slot of {problem.rules.duration_minutes} minutes",
            )
        )
    return out

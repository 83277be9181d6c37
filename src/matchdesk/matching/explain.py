"""Why a creator got its partner, or its bye, in plain words and in figures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matchdesk.matching.result import ByeReason, Match, Result, ScoreParts
from matchdesk.matching.scoring import score_parts

ALTERNATIVES = 3

_BYE_TEXT = {
    ByeReason.EXCLUDED: "was excluded from this round by the operator",
    ByeReason.NO_FEASIBLE_PARTNER: (
        "has no feasible partner: nobody in the pool shares the tier band, a language and a "
        "slot with this creator, once blocks and the rematch cooldown are applied"
    ),
    ByeReason.ODD_ONE_OUT: (
        "is the odd one out: every other creator who could be paired with this one is "
        "matched, and the group they form has an odd number of creators"
    ),
    ByeReason.TIME_LIMIT: (
        "was left unmatched when the time limit cut the search short: a partner may "
        "still have been free"
    ),
    ByeReason.LOST_TO_BETTER_PAIRS: (
        "lost to better pairs: this creator's possible partners were matched with others, "
        "because that pairs more creators or scores higher in total"
    ),
}


@dataclass(frozen=True)
class Alternative:
    """Another possible partner, its score with the creator, and what it got instead."""

    partner: str
    parts: ScoreParts
    partner_matched_with: str | None
    partner_score: float | None


@dataclass(frozen=True)
class Explanation:
    """The story of one creator in a result."""

    creator: str
    match: Match | None
    bye_reason: ByeReason | None
    alternatives: tuple[Alternative, ...]
    text: str


def _parts(result: Result, a: int, b: int) -> ScoreParts:
    p = score_parts(result.prepared, np.array([a]), np.array([b]))
    return ScoreParts(*(float(x[0]) for x in p))


def _describe(parts: ScoreParts) -> str:
    return (
        f"score {parts.total:.3f}: revenue {parts.revenue:.2f}, audience {parts.audience:.2f}, "
        f"slot {parts.slot:.2f}, novelty {parts.novelty:.2f}, fairness {parts.fairness:.2f}"
    )


def explain(result: Result, creator: str) -> Explanation:
    """Why `creator` has this partner (score parts against its best alternatives) or a bye.

    Raises KeyError for an id that is not in the pool.
    """
    prep = result.prepared
    ids = prep.problem.creators.ids
    row = prep.problem.creators.index_of(creator)
    where = np.flatnonzero((result.pair_a == row) | (result.pair_b == row))
    match = result.matches[int(where[0])] if where.size else None
    partner = -1
    if where.size:
        i = int(where[0])
        partner = int(result.pair_b[i] if result.pair_a[i] == row else result.pair_a[i])

    cands = result.candidates
    mine = (cands.a == row) | (cands.b == row)
    others = np.where(cands.a[mine] == row, cands.b[mine], cands.a[mine])
    scores = cands.score[mine]
    order = np.lexsort((others, -scores))
    alternatives: list[Alternative] = []
    for j in others[order].tolist():
        if j == partner or len(alternatives) >= ALTERNATIVES:
            continue
        mate = int(result.mate[j])
        mate_score = float(_parts(result, j, mate).total) if mate >= 0 else None
        alternatives.append(
            Alternative(
                str(ids[j]),
                _parts(result, row, j),
                str(ids[mate]) if mate >= 0 else None,
                mate_score,
            )
        )

    lines: list[str] = []
    bye_reason: ByeReason | None = None
    if match is not None:
        other = match.creator_b if match.creator_a == creator else match.creator_a
        kind = "is locked with" if match.locked else "is matched with"
        lines.append(
            f"{creator} {kind} {other} from {match.start:%a %H:%M} to {match.end:%H:%M} UTC "
            f"({_describe(match.parts)})."
        )
    else:
        bye = next(b for b in result.byes if b.creator == creator)
        bye_reason = bye.reason
        lines.append(f"{creator} has a bye: {creator} {_BYE_TEXT[bye.reason]}.")
    for alt in alternatives:
        taken = (
            f"matched with {alt.partner_matched_with} (score {alt.partner_score:.3f})"
            if alt.partner_matched_with is not None
            else "also unmatched"
        )
        lines.append(f"Alternative {alt.partner}: {_describe(alt.parts)}; {taken}.")
    return Explanation(creator, match, bye_reason, tuple(alternatives), "\n".join(lines))

"""A match's score in words, for people: the five parts the engine weighs (see
`matching.problem.Weights`) as short phrases, and what a round's total and bound mean."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from matchdesk.matching.problem import Weights

LABELS = {
    "revenue": "revenue fit",
    "audience": "audience fit",
    "slot": "evening slot",
    "novelty": "new pair",
    "fairness": "recent byes",
}


@dataclass(frozen=True)
class Part:
    """One score part: its key, its label, its value in [0, 1] and a phrase."""

    key: str
    label: str
    value: float
    words: str


def _slot(value: float) -> str:
    if value >= 0.99:
        return "both evenings"
    if value >= 0.49:
        return "one's evening"
    return "outside both evenings"


def parts_in_words(parts: Mapping[str, float]) -> list[Part]:
    """The parts of a match's score, each with a phrase: `revenue fit 0.97`, `both
    evenings`, `never met`, `after 2 byes`-like wording for fairness."""
    out = []
    for key, label in LABELS.items():
        value = float(parts.get(key, 0.0))
        if key in ("revenue", "audience"):
            words = f"{label} {value:.2f}"
        elif key == "slot":
            words = _slot(value)
        elif key == "novelty":
            words = "never met" if value >= 0.5 else "met recently"
        else:
            words = "after recent byes" if value > 0 else "no recent byes"
        out.append(Part(key, label, value, words))
    return out


def summary(parts: Mapping[str, float]) -> str:
    """The parts as one line: `revenue fit 0.97, audience fit 0.80, both evenings, never met`."""
    return ", ".join(p.words for p in parts_in_words(parts))


def weights_in_words(weights: Weights | None = None) -> str:
    """How a match's score is made, in words, from the engine's weights: `revenue fit
    35%, audience fit 25%, ...`."""
    w = weights or Weights()
    shares = {
        "revenue fit": w.revenue,
        "audience fit": w.audience,
        "a slot in both creators' evenings": w.slot,
        "a pair that has not met recently": w.novelty,
        "creators with recent byes": w.fairness,
    }
    total = sum(shares.values()) or 1.0
    return ", ".join(f"{label} {100 * share / total:.0f}%" for label, share in shares.items())

"""A match's score parts in words, and the round score's weights in words."""

from __future__ import annotations

from matchdesk.rounds.score_words import parts_in_words, summary, weights_in_words


def test_parts_in_words() -> None:
    parts = {"revenue": 0.971, "audience": 0.8, "slot": 1.0, "novelty": 1.0, "fairness": 0.0}
    assert summary(parts) == (
        "revenue fit 0.97, audience fit 0.80, both evenings, never met, no recent byes"
    )
    other = {"revenue": 0.2, "audience": 0.0, "slot": 0.5, "novelty": 0.0, "fairness": 0.33}
    assert [p.words for p in parts_in_words(other)] == [
        "revenue fit 0.20",
        "audience fit 0.00",
        "one's evening",
        "met recently",
        "after recent byes",
    ]
    assert parts_in_words({})[2].words == "outside both evenings"


def test_weights_in_words() -> None:
    assert weights_in_words() == (
        "revenue fit 35%, audience fit 25%, a slot in both creators' evenings 20%, "
        "a pair that has not met recently 10%, creators with recent byes 10%"
    )

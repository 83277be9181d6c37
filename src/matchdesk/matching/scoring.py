"""Feasibility and score of pairs, vectorised over arrays of pairs.

A pair's score is the weighted sum of five parts in [0, 1] (see `Weights`): revenue
and audience similarity on a log10 scale, the slot (evening for both, one or neither,
the best the shared availability allows), novelty and fairness.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from matchdesk.matching.prepare import PoolArrays

if TYPE_CHECKING:
    from matchdesk.matching.problem import Weights

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.signedinteger[Any]]  # int32 or int64 rows

PAIR_CHUNK = 1 << 20


class ScoreParts(NamedTuple):
    """Score parts of pairs (each in [0, 1]) and the weighted total."""

    revenue: FloatArray
    audience: FloatArray
    slot: FloatArray
    novelty: FloatArray
    fairness: FloatArray
    total: FloatArray


def _any_common(words: npt.NDArray[np.uint64], a: IntArray, b: IntArray) -> BoolArray:
    """Whether the bitsets (word-major) of a[i] and b[i] share a bit."""
    acc = words[0][a] & words[0][b]
    for k in range(1, words.shape[0]):
        acc |= words[k][a] & words[k][b]
    out: BoolArray = acc != 0
    return out


def _in_sorted(keys: IntArray, sorted_keys: IntArray) -> BoolArray:
    if sorted_keys.size == 0:
        return np.zeros(keys.shape, dtype=np.bool_)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    found: BoolArray = sorted_keys[pos] == keys
    return found


def feasible(prep: PoolArrays, a: IntArray, b: IntArray) -> BoolArray:
    """Whether each pair (a, b) may be matched under every hard rule (locked aside)."""
    out = np.zeros(a.shape, dtype=np.bool_)
    rules = prep.rules
    tier = prep.tier
    for lo in range(0, a.size, PAIR_CHUNK):
        x, y = a[lo : lo + PAIR_CHUNK], b[lo : lo + PAIR_CHUNK]
        ok = (x != y) & prep.active[x] & prep.active[y]
        ok &= np.abs(tier[x] - tier[y]) <= rules.max_tier_distance
        if rules.require_shared_language:
            ok &= _any_common(prep.lang_words, x, y)
        ok &= _any_common(prep.starts, x, y)
        ok &= ~_in_sorted(prep.key(x, y), prep.forbidden)
        out[lo : lo + PAIR_CHUNK] = ok
    return out


def similarity(delta: FloatArray, span: float) -> FloatArray:
    """Strength similarity from a log10 distance: 1 at 0, falling linearly to 0 at span."""
    result: FloatArray = np.maximum(0.0, 1.0 - np.abs(delta) / span)
    return result


def slot_quality(prep: PoolArrays, a: IntArray, b: IntArray) -> FloatArray:
    """1 if a shared start puts both in their evening, 0.5 if one, else 0."""
    ev, st = prep.evening, prep.starts
    both = np.zeros(a.shape, dtype=np.uint64)
    one = np.zeros(a.shape, dtype=np.uint64)
    for k in range(ev.shape[0]):
        ea, eb = ev[k][a], ev[k][b]
        both |= ea & eb
        one |= (ea & st[k][b]) | (st[k][a] & eb)
    result: FloatArray = np.where(both != 0, 1.0, np.where(one != 0, 0.5, 0.0))
    return result


def _weighted(
    w: Weights,
    revenue: FloatArray,
    audience: FloatArray,
    slot: FloatArray,
    novelty: FloatArray,
    fairness: FloatArray,
) -> FloatArray:
    """The weighted sum of the score parts (the one place the weights meet the parts)."""
    total: FloatArray = (
        w.revenue * revenue
        + w.audience * audience
        + w.slot * slot
        + w.novelty * novelty
        + w.fairness * fairness
    )
    return total


def score_parts(prep: PoolArrays, a: IntArray, b: IntArray) -> ScoreParts:
    """Score parts of feasible pairs (a, b)."""
    w = prep.weights
    span = w.strength_span_decades
    revenue = similarity(prep.log_revenue[a] - prep.log_revenue[b], span)
    audience = similarity(prep.log_followers[a] - prep.log_followers[b], span)
    slot = np.zeros(a.shape, dtype=np.float64)
    for lo in range(0, a.size, PAIR_CHUNK):
        slot[lo : lo + PAIR_CHUNK] = slot_quality(
            prep, a[lo : lo + PAIR_CHUNK], b[lo : lo + PAIR_CHUNK]
        )
    novelty = np.where(_in_sorted(prep.key(a, b), prep.met), 0.0, 1.0)
    fairness = (prep.fair[a] + prep.fair[b]) / 2.0
    total = _weighted(w, revenue, audience, slot, novelty, fairness)
    return ScoreParts(revenue, audience, slot, novelty, fairness, total)


def scores(prep: PoolArrays, a: IntArray, b: IntArray) -> FloatArray:
    """Total score of feasible pairs (a, b)."""
    return score_parts(prep, a, b).total

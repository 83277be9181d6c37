"""Feasibility and score of pairs, vectorised over arrays of pairs.

A pair's score is the weighted sum of five parts in [0, 1] (see `Weights`): revenue
and audience similarity on a log10 scale, the slot (evening for both, one or neither,
the best the shared availability allows), novelty and fairness.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from matchdesk.matching.parallel import thread_map
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


def window_pairs(
    prep: PoolArrays, keys: IntArray, *, check_tier: bool
) -> tuple[IndexArray, IndexArray, FloatArray]:
    """The feasible pairs among sorted distinct keys of same-bucket pairs, with scores.

    Same-bucket pairs are active, share a language when one is required and a tier when
    the tier distance must be 0, so this checks only a shared start (and the tier
    distance when `check_tier`) and the forbidden pairs, and computes the slot part in
    the same pass over the bitsets. Scores are those of `scores`, to the bit. Returns
    `a`, `b` (int32 when the pool allows) in key order and the scores.
    """
    n = prep.n
    index_type = np.int32 if n < (1 << 31) else np.int64
    w = prep.weights
    span = w.strength_span_decades
    tier = prep.tier
    max_distance = prep.rules.max_tier_distance
    st, ev = prep.starts, prep.evening

    def check(lo: int) -> tuple[IndexArray, IndexArray, FloatArray]:
        chunk = keys[lo : lo + PAIR_CHUNK]
        x = chunk // n
        y = chunk - x * n
        shared = st[0][x] & st[0][y]
        both = ev[0][x] & ev[0][y]
        for k in range(1, st.shape[0]):
            shared |= st[k][x] & st[k][y]
            both |= ev[k][x] & ev[k][y]
        ok = shared != 0
        if check_tier:
            ok &= np.abs(tier[x] - tier[y]) <= max_distance
        if prep.forbidden.size:
            # Few forbidden keys against a sorted slice: search them in it, not it in them.
            pos = np.searchsorted(chunk, prep.forbidden)
            hit = pos < chunk.size
            pos = pos[hit]
            ok[pos[chunk[pos] == prep.forbidden[hit]]] = False
        x, y, chunk = x[ok], y[ok], chunk[ok]
        slot = np.where(both[ok] != 0, 1.0, 0.0)
        # One evening only: looked for where there is no shared evening (a minority).
        rest = np.flatnonzero(slot == 0.0)
        if rest.size:
            xr, yr = x[rest], y[rest]
            one = np.zeros(rest.size, dtype=np.uint64)
            for k in range(st.shape[0]):
                one |= (ev[k][xr] & st[k][yr]) | (st[k][xr] & ev[k][yr])
            slot[rest[one != 0]] = 0.5
        revenue = similarity(prep.log_revenue[x] - prep.log_revenue[y], span)
        audience = similarity(prep.log_followers[x] - prep.log_followers[y], span)
        novelty = np.where(_in_sorted(chunk, prep.met), 0.0, 1.0)
        fairness = (prep.fair[x] + prep.fair[y]) / 2.0
        total = _weighted(w, revenue, audience, slot, novelty, fairness)
        return x.astype(index_type), y.astype(index_type), total

    done = thread_map(check, range(0, keys.size, PAIR_CHUNK))
    parts_a = [d[0] for d in done]
    parts_b = [d[1] for d in done]
    parts_s = [d[2] for d in done]
    if not parts_s:
        z: IndexArray = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    return (
        np.concatenate(parts_a),
        np.concatenate(parts_b),
        np.concatenate(parts_s),
    )

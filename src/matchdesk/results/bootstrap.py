"""The statistics of match uplift, pure: numpy arrays in, frozen dataclasses out.

Two estimators, each with a seeded percentile bootstrap interval:

- `session_uplift`: a creator's diamonds per session minute in match sessions against
  their own baseline (the non-match sessions of the previous `BASELINE_DAYS` days that
  started within `SIMILAR_HOUR_MINUTES` of the match session's start on the creator's
  own clock). Each match session is compared with what its own baseline rate predicts
  for its minutes: `sum(match diamonds) / sum(match minutes x baseline rate) - 1`.
- `did_uplift`: per round and tier, difference-in-differences of the matched creators'
  match sessions against the round's byes, each creator against their own pre-period.

Below the minimum sample the answer is None ("not enough data"), never a made-up number.
The database side (`results.uplift`) only gathers the arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

RESAMPLES = 2_000
CONFIDENCE = 0.95
SEED = 0  # one fixed seed: the same data always gives the same interval
MIN_BASELINE_SESSIONS = 5  # per match session (and per creator in a round's comparison)
MIN_GROUP_CREATORS = 5  # per group (matched, byes) in a round's comparison
SIMILAR_HOUR_MINUTES = 120  # a baseline session starts within 2 h of the match session
BASELINE_DAYS = 56  # the previous 8 weeks
DIGITS = 6  # figures are rounded so that they do not depend on summation order
_BLOCK = 1_000_000  # bootstrap weights held at once (8 MB)

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Uplift:
    """Relative change in diamonds per session minute (0.25 = +25%) with its interval;
    `n` is the number of match sessions the estimate rests on."""

    estimate: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class DidEstimate:
    """A round's difference-in-differences for one tier; `estimate`, `low` and `high`
    are None when either group has fewer than the minimum of creators."""

    estimate: float | None
    low: float | None
    high: float | None
    n_matched: int
    n_control: int


@dataclass(frozen=True)
class GroupSums:
    """Per creator of a group: the pre-period's non-match sessions, diamonds and minutes,
    and the post-period's diamonds and minutes. A row may also be one creator in one of
    several rounds: `cluster` (the creator) then keeps a creator's rows together when
    resampling."""

    pre_sessions: NDArray[np.int64]
    pre_diamonds: Floats
    pre_minutes: Floats
    post_diamonds: Floats
    post_minutes: Floats
    cluster: NDArray[np.int64] | None = None

    @classmethod
    def of(
        cls,
        pre_sessions: ArrayLike,
        pre_diamonds: ArrayLike,
        pre_minutes: ArrayLike,
        post_diamonds: ArrayLike,
        post_minutes: ArrayLike,
        cluster: ArrayLike | None = None,
    ) -> GroupSums:
        return cls(
            np.asarray(pre_sessions, dtype=np.int64),
            np.asarray(pre_diamonds, dtype=np.float64),
            np.asarray(pre_minutes, dtype=np.float64),
            np.asarray(post_diamonds, dtype=np.float64),
            np.asarray(post_minutes, dtype=np.float64),
            None if cluster is None else np.asarray(cluster, dtype=np.int64),
        )

    @classmethod
    def joined(cls, groups: Sequence[GroupSums]) -> GroupSums:
        """The rows of several groups (say, one per round) as one group."""
        if not groups:
            return cls.of([], [], [], [], [], [])
        return cls(
            np.concatenate([g.pre_sessions for g in groups]),
            np.concatenate([g.pre_diamonds for g in groups]),
            np.concatenate([g.pre_minutes for g in groups]),
            np.concatenate([g.post_diamonds for g in groups]),
            np.concatenate([g.post_minutes for g in groups]),
            np.concatenate([g.clusters() for g in groups]),
        )

    def clusters(self) -> NDArray[np.int64]:
        """The resampling unit of each row (each row its own without `cluster`)."""
        if self.cluster is None:
            return np.arange(self.pre_sessions.size, dtype=np.int64)
        return self.cluster

    def eligible(self, min_baseline: int) -> GroupSums:
        """The creators with a baseline of at least `min_baseline` sessions and a diamond,
        and some minutes in the post-period."""
        keep = (self.pre_sessions >= min_baseline) & (self.pre_diamonds > 0)
        keep &= self.post_minutes > 0
        return GroupSums(
            self.pre_sessions[keep],
            self.pre_diamonds[keep],
            self.pre_minutes[keep],
            self.post_diamonds[keep],
            self.post_minutes[keep],
            None if self.cluster is None else self.cluster[keep],
        )


def similar_hour(
    minute_a: ArrayLike, minute_b: ArrayLike, window: int = SIMILAR_HOUR_MINUTES
) -> NDArray[np.bool_]:
    """Whether two local start times (minutes after local midnight) are at most `window`
    minutes apart around the clock (23:30 and 00:30 are 60 minutes apart)."""
    distance = np.abs(np.asarray(minute_a, dtype=np.int64) - np.asarray(minute_b, dtype=np.int64))
    distance %= 1440
    return np.asarray(np.minimum(distance, 1440 - distance) <= window, dtype=np.bool_)


def baseline_membership(
    match_start: ArrayLike,
    match_minute: ArrayLike,
    base_start: ArrayLike,
    base_minute: ArrayLike,
    *,
    days: int = BASELINE_DAYS,
    window: int = SIMILAR_HOUR_MINUTES,
) -> NDArray[np.bool_]:
    """An (match sessions x candidate sessions) mask: candidate j is in match session i's
    baseline when it started in the `days` days before i (start times in seconds) and
    within `window` minutes of i's local start hour (`*_minute`: minutes after the
    creator's local midnight)."""
    ms = np.asarray(match_start, dtype=np.float64)[:, None]
    bs = np.asarray(base_start, dtype=np.float64)[None, :]
    before = (bs < ms) & (bs >= ms - days * 86_400)
    hour = similar_hour(
        np.asarray(match_minute, dtype=np.int64)[:, None],
        np.asarray(base_minute, dtype=np.int64)[None, :],
        window,
    )
    return before & hour


def _counts(rng: np.random.Generator, resamples: int, n: int) -> Floats:
    """How often each of `n` items is drawn in each of `resamples` bootstrap samples."""
    picks = rng.integers(0, n, size=(resamples, n))
    offsets = (np.arange(resamples, dtype=np.int64) * n)[:, None]
    flat = np.bincount((picks + offsets).ravel(), minlength=resamples * n)
    return flat.reshape(resamples, n).astype(np.float64)


def _resampled_ratios(
    rng: np.random.Generator,
    resamples: int,
    cluster: NDArray[np.int64],
    numerator: Floats,
    denominator: Floats,
) -> Floats:
    """sum(numerator) / sum(denominator) in each of `resamples` bootstrap samples of the
    clusters (a cluster's rows drawn together), a block of samples at a time so that
    memory stays small however many rows there are."""
    _, inverse = np.unique(cluster, return_inverse=True)
    n = int(inverse.max()) + 1
    # A cluster drawn k times adds k times its rows' sums.
    top = np.bincount(inverse, weights=numerator, minlength=n)
    bottom = np.bincount(inverse, weights=denominator, minlength=n)
    block = max(1, _BLOCK // n)
    out = np.empty(resamples)
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        counts = _counts(rng, size, n)
        out[start : start + size] = _ratio(counts @ top, counts @ bottom)
    return out


def _interval(replicates: Floats, confidence: float) -> tuple[float, float]:
    finite = replicates[np.isfinite(replicates)]
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return round(float(low), DIGITS), round(float(high), DIGITS)


def _ratio(numerator: Floats, denominator: Floats) -> Floats:
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def session_uplift(
    match_diamonds: ArrayLike,
    match_minutes: ArrayLike,
    membership: ArrayLike,
    base_diamonds: ArrayLike,
    base_minutes: ArrayLike,
    *,
    min_baseline: int = MIN_BASELINE_SESSIONS,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> Uplift | None:
    """Uplift of one creator's match sessions (I of them) against their baselines among
    J candidate sessions (`membership`, I x J, from `baseline_membership`).

    A match session counts only when its baseline has at least `min_baseline` sessions
    and a diamond in it (a relative change against zero is not a number); None when no
    match session counts. The interval (`resamples` times, seeded) resamples the baseline
    sessions with replacement, and gives each match session the day-to-day variation of
    a session of its own baseline (a residual bootstrap: one match session says nothing
    of its own noise); a resample in which a match session's baseline drew no session
    leaves that match session out of that resample."""
    d = np.asarray(match_diamonds, dtype=np.float64)
    m = np.asarray(match_minutes, dtype=np.float64)
    if d.size == 0:
        return None
    member = np.asarray(membership, dtype=bool).reshape(d.size, -1)
    bd = np.asarray(base_diamonds, dtype=np.float64)
    bm = np.asarray(base_minutes, dtype=np.float64)
    rows = member.sum(axis=1) >= min_baseline
    rows &= member.astype(np.float64) @ bd > 0
    if not rows.any():
        return None
    d, m, member = d[rows], m[rows], member[rows]
    columns = member.any(axis=0)
    member, bd, bm = member[:, columns].astype(np.float64), bd[columns], bm[columns]
    rate = (member @ bd) / (member @ bm)
    estimate = d.sum() / (m * rate).sum() - 1.0

    rng = np.random.default_rng(seed)
    drawn = _counts(rng, resamples, bd.size)  # B x J
    rate_b = _ratio(drawn @ (member * bd).T, drawn @ (member * bm).T)  # B x I
    # A match session's own day-to-day variation: in each resample it earns its fitted
    # diamonds times the relative rate of one session of its baseline, drawn by minutes.
    noise = np.empty_like(rate_b)
    for i in range(d.size):
        members = np.flatnonzero(member[i])
        cumulative = np.cumsum(bm[members])
        picks = np.searchsorted(cumulative, rng.random(resamples) * cumulative[-1], side="right")
        chosen = members[np.minimum(picks, members.size - 1)]
        noise[:, i] = bd[chosen] / bm[chosen] / rate[i]
    fitted = m * rate * (1.0 + estimate)
    present = np.isfinite(rate_b)
    actual = np.where(present, fitted * noise, 0.0).sum(axis=1)
    expected = np.where(present, m * np.nan_to_num(rate_b), 0.0).sum(axis=1)
    low, high = _interval(_ratio(actual, expected) - 1.0, confidence)
    return Uplift(round(float(estimate), DIGITS), low, high, int(d.size))


def _actual_expected(group: GroupSums) -> tuple[Floats, Floats]:
    """Each row's post-period diamonds, and what its minutes would have earned at the
    row's own pre-period diamonds a minute."""
    return group.post_diamonds, group.post_minutes * group.pre_diamonds / group.pre_minutes


def did_uplift(
    matched: GroupSums,
    control: GroupSums,
    *,
    min_baseline: int = MIN_BASELINE_SESSIONS,
    min_creators: int = MIN_GROUP_CREATORS,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> DidEstimate:
    """Difference-in-differences of relative changes. A group's change is its
    post-period diamonds over what its creators' post-period minutes would have earned at
    each one's own pre-period diamonds a minute (as in `session_uplift`); the estimate
    is the matched group's change less the control's. That is the brief's "(matched
    change minus control change) relative to the matched baseline" with every creator
    measured against their own baseline, so neither the groups' different levels nor
    their different mixes of creators leak into it. Only creators with `min_baseline`
    pre-period sessions, a diamond in them and post-period minutes count; None below
    `min_creators` rows in either group. The interval resamples creators within each
    group (all of a creator's rows together, see `GroupSums.cluster`)."""
    t = matched.eligible(min_baseline)
    c = control.eligible(min_baseline)
    n_t, n_c = int(t.pre_sessions.size), int(c.pre_sessions.size)
    if n_t < min_creators or n_c < min_creators:
        return DidEstimate(None, None, None, n_t, n_c)
    actual_t, expected_t = _actual_expected(t)
    actual_c, expected_c = _actual_expected(c)
    estimate = float(actual_t.sum() / expected_t.sum() - actual_c.sum() / expected_c.sum())
    rng = np.random.default_rng(seed)
    replicates = _resampled_ratios(rng, resamples, t.clusters(), actual_t, expected_t)
    replicates -= _resampled_ratios(rng, resamples, c.clusters(), actual_c, expected_c)
    low, high = _interval(replicates, confidence)
    return DidEstimate(round(estimate, DIGITS), low, high, n_t, n_c)

"""The problem turned into the arrays every phase works on.

Time is discretised on the slot grid: grid start `k` is the minute
`grid_offset + k * slot_step` from the period start, and a creator "can start at k"
when the whole match `[start, start + duration]` lies in one availability interval.
Each creator gets two bitsets over the grid starts (packed in uint64 words): where they
can start, and where they can start with the match in their local evening. A pair is
feasible in time iff the AND of their start bitsets is non-zero, so the time check of
millions of pairs is a handful of vectorised word operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matchdesk.matching.problem import MatchProblem, Rules, Weights
from matchdesk.matching.scatter import or_ranges, range_keys
from matchdesk.matching.sorting import unique_inverse, unique_sorted

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
WordArray = npt.NDArray[np.uint64]
BoolArray = npt.NDArray[np.bool_]

CELL_MINUTES = 180  # time buckets for candidate search: 3 hours of grid starts


@dataclass(frozen=True, eq=False)
class PoolArrays:
    """What candidate search and matching read: per-creator arrays and pair key lists.

    A `Prepared` is one for the whole pool; `split_pool` cuts it into independent shards
    (rows renumbered 0..n-1 inside each), small and picklable, so a process or a Ray
    worker gets only its shard's arrays and none of the `MatchProblem`.
    """

    n: int
    grid: int  # number of grid starts in the period
    starts: WordArray  # (words, n) bitset: can start at grid k (word-major: fast gathers)
    evening: WordArray  # (words, n) bitset: can start at k with the match in local evening
    has_start: BoolArray
    cell_size: int  # grid starts per time bucket
    entry_creator: IntArray  # (creator, cell) memberships: the creator can start in the cell
    entry_cell: IntArray
    log_revenue: FloatArray
    log_followers: FloatArray
    fair: FloatArray  # min(recent_byes, cap) / cap
    lang_words: WordArray  # (lwords, n) language bitset
    active: BoolArray  # not excluded and not in a locked pair
    forbidden: IntArray  # sorted pair keys never allowed (blocks, cooldown)
    met: IntArray  # sorted pair keys that met before, outside the cooldown
    rules: Rules
    weights: Weights
    tier: IntArray
    lang_ptr: IntArray  # languages of each creator (CSR into lang_code)
    lang_code: IntArray
    vocab_size: int

    def key(self, a: IntArray, b: IntArray) -> IntArray:
        """Order-free pair key `min * n + max`."""
        return np.minimum(a, b) * self.n + np.maximum(a, b)


@dataclass(frozen=True, eq=False)
class Prepared(PoolArrays):
    """Arrays derived from a `MatchProblem`, rows in the table's (id-sorted) order."""

    problem: MatchProblem
    locked_a: IntArray
    locked_b: IntArray

    def start_minute(self, k: IntArray | int) -> IntArray:
        """Minutes from the period start of grid start k."""
        return self.problem.grid_offset + np.asarray(k, dtype=np.int64) * (
            self.problem.rules.slot_step_minutes
        )


def _pair_keys(problem: MatchProblem, pairs: list[tuple[str, str]]) -> IntArray:
    if not pairs:
        return np.zeros(0, dtype=np.int64)
    table = problem.creators
    a = table.indices_of([p[0] for p in pairs])
    b = table.indices_of([p[1] for p in pairs])
    n = len(table)
    return unique_sorted(np.minimum(a, b) * n + np.maximum(a, b))


def _evening_pattern(
    problem: MatchProblem, grid: int, offset: int, changes: list[tuple[int, int]]
) -> BoolArray:
    """For one offset history: whether each grid start puts the match in local evening."""
    rules, weights = problem.rules, problem.weights
    minutes = problem.grid_offset + np.arange(grid, dtype=np.int64) * rules.slot_step_minutes
    local_offset = np.full(grid, offset, dtype=np.int64)
    for at, value in changes:
        local_offset[minutes >= at] = value
    utc_day_minute = (problem.period_start.hour * 60 + problem.period_start.minute) % 1440
    local = (utc_day_minute + minutes + local_offset) % 1440
    end = local + rules.duration_minutes
    # The evening of the local day, or the part after midnight of the evening before.
    return ((local >= weights.evening_start_minute) & (end <= weights.evening_end_minute)) | (
        end + 1440 <= weights.evening_end_minute
    )


def _evening_words(problem: MatchProblem, grid: int, words: int) -> tuple[WordArray, IntArray]:
    """Evening patterns as words, one per distinct offset history, and each creator's."""
    table = problem.creators
    n = len(table)
    n_changes = np.diff(table.change_ptr)
    has_change = n_changes > 0
    first_at = np.zeros(n, dtype=np.int64)
    first_off = np.zeros(n, dtype=np.int64)
    first_at[has_change] = table.change_at[table.change_ptr[:-1][has_change]]
    first_off[has_change] = table.change_offset[table.change_ptr[:-1][has_change]]
    many = n_changes > 1
    own = np.where(many, 1 + np.cumsum(many), 0)  # creators with 2+ changes: own pattern
    span = int(problem.period_minutes) + 1
    key = (((table.utc_offset + 1440) * span + first_at) * 2880 + first_off + 1440) * (n + 2) + own
    unique_keys, sig_of = unique_inverse(key)
    patterns = np.zeros((unique_keys.size, words * 64), dtype=np.bool_)
    representative = np.zeros(unique_keys.size, dtype=np.int64)
    representative[sig_of[::-1]] = np.arange(n)[::-1]
    for s, row in enumerate(representative.tolist()):
        lo_c, hi_c = int(table.change_ptr[row]), int(table.change_ptr[row + 1])
        changes = list(
            zip(
                table.change_at[lo_c:hi_c].tolist(),
                table.change_offset[lo_c:hi_c].tolist(),
                strict=True,
            )
        )
        patterns[s, :grid] = _evening_pattern(problem, grid, int(table.utc_offset[row]), changes)
    packed = np.packbits(patterns, axis=1, bitorder="little").view(np.uint64)
    return np.ascontiguousarray(packed.T), sig_of


def prepare(problem: MatchProblem) -> Prepared:
    """Build the `Prepared` arrays of a problem (linear in the pool and the grid)."""
    table, rules = problem.creators, problem.rules
    n = len(table)
    step, duration = rules.slot_step_minutes, rules.duration_minutes
    offset = problem.grid_offset
    grid = max(0, (problem.period_minutes - duration - offset) // step + 1)
    words = max(1, -(-grid // 64))
    cell_size = max(1, CELL_MINUTES // step)

    # Grid range [lo, hi] of every availability interval (empty when lo > hi).
    lo = np.maximum(0, -(-(table.avail_start - offset) // step))
    hi = np.minimum(grid - 1, (table.avail_end - duration - offset) // step)
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(table.avail_ptr))
    valid = lo <= hi
    lo, hi, owner = lo[valid].astype(np.int64), hi[valid].astype(np.int64), owner[valid]

    starts = np.zeros((words, n), dtype=np.uint64)
    or_ranges(starts, owner, lo, hi)
    patterns, sig_of = _evening_words(problem, grid, words)
    evening = starts & patterns[:, sig_of]
    has_start = np.zeros(n, dtype=np.bool_)
    has_start[owner] = True

    # (creator, cell) memberships: every 3-hour cell an interval can start in.
    cells = max(1, -(-grid // cell_size))
    membership = range_keys(owner, lo // cell_size, hi // cell_size, cells)

    vocab = max(1, len(table.vocabulary))
    lwords = -(-vocab // 64)
    lang_words = np.zeros((lwords, n), dtype=np.uint64)
    lang_rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(table.lang_ptr))
    np.bitwise_or.at(
        lang_words,
        (table.lang_code // 64, lang_rows),
        np.left_shift(np.uint64(1), (table.lang_code % 64).astype(np.uint64)),
    )

    locked = list(problem.locked_pairs)
    locked_a = table.indices_of([a for a, _ in locked])
    locked_b = table.indices_of([b for _, b in locked])
    active = np.ones(n, dtype=np.bool_)
    active[table.indices_of(sorted(problem.excluded))] = False
    active[locked_a] = False
    active[locked_b] = False

    cooldown = rules.rematch_cooldown_rounds
    recent = [(a, b) for a, b, ago in problem.recent_pairs if ago <= cooldown]
    older = [(a, b) for a, b, ago in problem.recent_pairs if ago > cooldown]
    forbidden = unique_sorted(
        np.concatenate([_pair_keys(problem, list(problem.blocks)), _pair_keys(problem, recent)])
    )
    cap = problem.weights.fairness_cap
    return Prepared(
        problem=problem,
        n=n,
        grid=grid,
        starts=starts,
        evening=evening,
        has_start=has_start,
        cell_size=cell_size,
        entry_creator=membership // cells,
        entry_cell=membership % cells,
        log_revenue=np.log10(1.0 + table.revenue.astype(np.float64)),
        log_followers=np.log10(1.0 + table.followers.astype(np.float64)),
        fair=np.minimum(table.recent_byes, cap).astype(np.float64) / cap,
        lang_words=lang_words,
        active=active,
        forbidden=forbidden.astype(np.int64),
        met=np.setdiff1d(_pair_keys(problem, older), forbidden).astype(np.int64),
        rules=rules,
        weights=problem.weights,
        tier=table.tier,
        lang_ptr=table.lang_ptr,
        lang_code=table.lang_code,
        vocab_size=len(table.vocabulary),
        locked_a=locked_a,
        locked_b=locked_b,
    )

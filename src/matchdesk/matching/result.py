"""The output of the engine: matches with their slot and score parts, byes with reasons.

The result keeps its matches as columns (numpy arrays) and builds `Match` objects on
first use, so a million-creator solve does not pay for half a million Python objects
unless the caller asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matchdesk.matching.candidates import Candidates
    from matchdesk.matching.prepare import Prepared

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class Status(StrEnum):
    """How good the matching is known to be."""

    OPTIMAL = "optimal"  # exact on the full feasible graph
    FEASIBLE = "feasible"  # valid; quality reported against an upper bound
    TIME_LIMIT = "time_limit"  # valid, but improvement stopped at the time limit


class ByeReason(StrEnum):
    """Why a creator is left without a match."""

    EXCLUDED = "excluded"
    NO_FEASIBLE_PARTNER = "no feasible partner"
    ODD_ONE_OUT = "odd one out"
    LOST_TO_BETTER_PAIRS = "lost to better pairs"
    TIME_LIMIT = "time limit"  # the time limit cut the search short before it was proved


@dataclass(frozen=True)
class ScoreParts:
    """A pair's score parts, each in [0, 1], and the weighted total."""

    revenue: float
    audience: float
    slot: float
    novelty: float
    fairness: float
    total: float


@dataclass(frozen=True)
class Match:
    """Two creators (a < b by id) and their slot, with the score and its parts."""

    creator_a: str
    creator_b: str
    start: datetime
    end: datetime
    score: float
    parts: ScoreParts
    locked: bool


@dataclass(frozen=True)
class Bye:
    """A creator left unmatched, and why."""

    creator: str
    reason: ByeReason


@dataclass(frozen=True)
class Statistics:
    """Figures of a solve: sizes, time by phase and the quality certificate.

    upper_bound: a valid upper bound on the total score of any maximum-cardinality
    matching of the full feasible graph, the engine's objective (see bounds.py for which
    bound and why it holds; the small shards' odd_duals.exact_solve bounds those
    matchings only, the other shards' bounds every matching); weight / bound is a lower
    bound on the fraction of the optimum reached.
    """

    creators: int
    eligible: int  # creators with at least one feasible partner (locked pairs included)
    matched: int  # creators in a match
    checked_pairs: int
    feasible_checked: int
    candidate_edges: int
    components: int
    exact_components: int
    weight: float
    upper_bound: float
    bound: str
    phase_seconds: dict[str, float] = field(default_factory=dict)
    cardinality_proved: bool = False  # maximum cardinality on the full feasible graph
    augmented_pairs: int = 0  # pairs the search over the full feasible graph added
    # every shard has a certificate, not the fitted bound alone: odd_duals.py's exact
    # one (small shards) or certificate.py's pricing (a bucket over its budget gets the
    # half-margin raise: valid, looser)
    bound_priced: bool = False

    @property
    def bound_ratio(self) -> float:
        """weight / upper_bound (1.0 when both are 0)."""
        return 1.0 if self.upper_bound <= 0 else self.weight / self.upper_bound


@dataclass(frozen=True, eq=False)
class Result:
    """What `solve` returns. `matches` and `byes` are sorted by (start, creator_a)/creator.

    The columns (`pair_a`, `pair_b` as table rows, `start_minute`, parts) are the raw
    form; `matches` builds the objects on first access.
    """

    status: Status
    statistics: Statistics
    pair_a: IntArray
    pair_b: IntArray
    start_minute: IntArray
    parts: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]
    locked: npt.NDArray[np.bool_]
    bye_rows: IntArray
    bye_reasons: tuple[ByeReason, ...]
    prepared: Prepared = field(repr=False)
    candidates: Candidates = field(repr=False)
    mate: IntArray = field(repr=False)

    @cached_property
    def matches(self) -> tuple[Match, ...]:
        """The matches as objects (built once)."""
        problem = self.prepared.problem
        ids = problem.creators.ids
        origin = problem.period_start
        duration = timedelta(minutes=problem.rules.duration_minutes)
        out = []
        cols = [p.tolist() for p in self.parts]
        for i, (a, b, minute, locked) in enumerate(
            zip(
                self.pair_a.tolist(),
                self.pair_b.tolist(),
                self.start_minute.tolist(),
                self.locked.tolist(),
                strict=True,
            )
        ):
            start = origin + timedelta(minutes=minute)
            parts = ScoreParts(*(c[i] for c in cols))
            out.append(
                Match(str(ids[a]), str(ids[b]), start, start + duration, parts.total, parts, locked)
            )
        return tuple(out)

    @cached_property
    def byes(self) -> tuple[Bye, ...]:
        """The byes as objects, sorted by creator id."""
        ids = self.prepared.problem.creators.ids
        return tuple(
            Bye(str(ids[row]), reason)
            for row, reason in zip(self.bye_rows.tolist(), self.bye_reasons, strict=True)
        )

    @property
    def weight(self) -> float:
        """Total score of the matches."""
        return self.statistics.weight

"""The input of the engine: one round's pool of creators and the rules to pair them.

Everything is a frozen dataclass validated at construction: a bad value raises
`ValueError` naming the field, so the solver never meets an inconsistent problem.

Times are integer minutes relative to the round's period start (`period_start`, an aware
UTC datetime). Integer minutes keep the hot data in numpy arrays; `Creator.from_utc`
converts aware datetimes and an IANA zone for callers that have those.

A creator's local time (for "evening in both local times") is the UTC offset in minutes
at the period start plus the offset changes inside the period (a DST switch), as
`(minute from period start, new offset)` pairs. Offsets rather than zone names keep the
scoring pure and fast: no time-zone database lookups inside the solver.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from matchdesk.matching.pairs import pair_violations
from matchdesk.matching.table import CreatorTable

__all__ = ["Creator", "CreatorTable", "MatchProblem", "Rules", "Weights"]


def _require(condition: bool, name: str, message: str) -> None:
    if not condition:
        raise ValueError(f"{name}: {message}")


@dataclass(frozen=True)
class Rules:
    """The hard matching rules of SPEC section 2, with the same defaults."""

    duration_minutes: int = 60
    max_tier_distance: int = 0
    require_shared_language: bool = True
    rematch_cooldown_rounds: int = 4
    slot_step_minutes: int = 30

    def __post_init__(self) -> None:
        _require(1 <= self.duration_minutes <= 1440, "duration_minutes", "must be 1..1440")
        _require(self.max_tier_distance >= 0, "max_tier_distance", "must be >= 0")
        _require(self.rematch_cooldown_rounds >= 0, "rematch_cooldown_rounds", "must be >= 0")
        _require(
            1 <= self.slot_step_minutes <= 1440 and 1440 % self.slot_step_minutes == 0,
            "slot_step_minutes",
            "must divide a day (1..1440)",
        )


@dataclass(frozen=True)
class Weights:
    """Weights of the score parts; a pair's score is the weighted sum of parts in [0, 1].

    Defaults: revenue 0.35 and audience 0.25 (similar strength matters most), slot 0.2,
    novelty 0.1, fairness 0.1, so a score lies in [0, 1].

    - revenue / audience: `max(0, 1 - |log10(1+x) - log10(1+y)| / strength_span_decades)`
      for 30-day revenue and followers: 1 for equals, 0 at `strength_span_decades` apart.
    - slot: 1 when the match lies in both creators' local evening, 0.5 in one, 0 in none.
      Evening is `evening_start_minute`..`evening_end_minute` of the local day (the whole
      match inside it); an end beyond 1440 runs past midnight into the next day (20:00 to
      01:00 is 1200..1500).
    - novelty: 1 for a pair that never met, 0 for one that met before the cooldown.
    - fairness: the mean over the two creators of `min(recent_byes, fairness_cap) /
      fairness_cap`, so creators with recent byes are matched first.
    """

    revenue: float = 0.35
    audience: float = 0.25
    slot: float = 0.2
    novelty: float = 0.1
    fairness: float = 0.1
    strength_span_decades: float = 2.0
    evening_start_minute: int = 18 * 60
    evening_end_minute: int = 23 * 60
    fairness_cap: int = 3

    def __post_init__(self) -> None:
        for name in ("revenue", "audience", "slot", "novelty", "fairness"):
            value = getattr(self, name)
            _require(0.0 <= value <= 1e6 and value == value, name, "must be a weight >= 0")
        _require(self.strength_span_decades > 0, "strength_span_decades", "must be > 0")
        _require(
            0 <= self.evening_start_minute < min(1440, self.evening_end_minute)
            and self.evening_end_minute <= self.evening_start_minute + 1440,
            "evening_start_minute",
            "evening must satisfy 0 <= start < 1440 and start < end <= start + 1440",
        )
        _require(self.fairness_cap >= 1, "fairness_cap", "must be >= 1")

    @property
    def maximum(self) -> float:
        """The highest score a pair can have (all parts 1)."""
        return self.revenue + self.audience + self.slot + self.novelty + self.fairness


@dataclass(frozen=True)
class Creator:
    """One creator of the pool.

    id: the creator's handle (unique in the pool). tier: index of the tier (0 = top).
    languages: ISO 639-1 codes. followers, revenue_30d: strength, >= 0.
    availability: `(start, end)` minutes from the period start, start < end, inside the
    period. utc_offset_minutes: local time minus UTC at the period start;
    offset_changes: `(minute, new offset)` for DST switches inside the period.
    recent_byes: byes in recent rounds (fairness).
    """

    id: str
    tier: int
    languages: tuple[str, ...]
    followers: int
    revenue_30d: int
    availability: tuple[tuple[int, int], ...]
    utc_offset_minutes: int = 0
    offset_changes: tuple[tuple[int, int], ...] = ()
    recent_byes: int = 0

    def __post_init__(self) -> None:
        _require(isinstance(self.id, str) and self.id != "", "id", "must be a non-empty string")
        _require(self.tier >= 0, "tier", f"must be >= 0 (creator {self.id})")
        _require(
            all(isinstance(x, str) and x for x in self.languages),
            "languages",
            f"must be non-empty codes (creator {self.id})",
        )
        _require(self.followers >= 0, "followers", f"must be >= 0 (creator {self.id})")
        _require(self.revenue_30d >= 0, "revenue_30d", f"must be >= 0 (creator {self.id})")
        for start, end in self.availability:
            _require(start < end, "availability", f"interval end before start ({self.id})")
        _require(
            -24 * 60 < self.utc_offset_minutes < 24 * 60,
            "utc_offset_minutes",
            f"must be within a day (creator {self.id})",
        )
        for _, offset in self.offset_changes:
            _require(-24 * 60 < offset < 24 * 60, "offset_changes", f"bad offset ({self.id})")
        _require(self.recent_byes >= 0, "recent_byes", f"must be >= 0 (creator {self.id})")

    @classmethod
    def from_utc(
        cls,
        *,
        id: str,
        tier: int,
        languages: Iterable[str],
        followers: int,
        revenue_30d: int,
        availability: Iterable[tuple[datetime, datetime]],
        timezone: str,
        period_start: datetime,
        period_end: datetime,
        recent_byes: int = 0,
    ) -> Creator:
        """A creator from aware UTC intervals and an IANA zone (offsets from zoneinfo)."""
        _require(period_start.tzinfo is not None, "period_start", "must be timezone-aware")
        intervals = tuple(
            (_minutes(start, period_start), _minutes(end, period_start))
            for start, end in availability
        )
        offset, changes = offsets_in_period(timezone, period_start, period_end)
        return cls(
            id=id,
            tier=tier,
            languages=tuple(languages),
            followers=followers,
            revenue_30d=revenue_30d,
            availability=intervals,
            utc_offset_minutes=offset,
            offset_changes=changes,
            recent_byes=recent_byes,
        )


def _minutes(moment: datetime, origin: datetime) -> int:
    _require(moment.tzinfo is not None, "availability", "datetimes must be timezone-aware")
    return int((moment - origin) // timedelta(minutes=1))


def offsets_in_period(
    timezone: str, period_start: datetime, period_end: datetime
) -> tuple[int, tuple[tuple[int, int], ...]]:
    """The UTC offset of `timezone` at the period start and its changes inside the period.

    Offsets are sampled every 15 minutes (every real-world switch falls on a quarter
    hour), which is exact and costs ~700 zoneinfo calls for a week.
    """
    zone = ZoneInfo(timezone)
    start = period_start.astimezone(UTC)
    total = int((period_end - period_start) // timedelta(minutes=1))

    def offset_at(minute: int) -> int:
        delta = (start + timedelta(minutes=minute)).astimezone(zone).utcoffset()
        return 0 if delta is None else int(delta // timedelta(minutes=1))

    first = offset_at(0)
    changes: list[tuple[int, int]] = []
    current = first
    for minute in range(15, total, 15):
        value = offset_at(minute)
        if value != current:
            changes.append((minute, value))
            current = value
    return first, tuple(changes)


@dataclass(frozen=True, eq=False)
class MatchProblem:
    """One round: the pool, the period, the pair constraints, the rules and weights.

    creators: a `CreatorTable` (build it with `CreatorTable.from_creators` or, for big
    pools, `CreatorTable.from_arrays`; `MatchProblem.from_creators` does it for you).
    blocks: pairs of ids never to be matched (either direction).
    recent_pairs: `(a, b, rounds_ago)` with rounds_ago >= 1 for pairs that met recently;
    those with rounds_ago <= `rules.rematch_cooldown_rounds` are never matched, the
    others lose novelty. locked_pairs: pairs kept as they are (they must satisfy every
    hard rule, including a shared slot, or construction fails). excluded: ids left out.
    """

    period_start: datetime
    period_end: datetime
    creators: CreatorTable
    blocks: tuple[tuple[str, str], ...] = ()
    recent_pairs: tuple[tuple[str, str, int], ...] = ()
    locked_pairs: tuple[tuple[str, str], ...] = ()
    excluded: frozenset[str] = field(default_factory=frozenset)
    rules: Rules = field(default_factory=Rules)
    weights: Weights = field(default_factory=Weights)

    def __post_init__(self) -> None:
        _require(self.period_start.tzinfo is not None, "period_start", "must be timezone-aware")
        _require(self.period_end.tzinfo is not None, "period_end", "must be timezone-aware")
        _require(self.period_end > self.period_start, "period_end", "must be after period_start")
        _require(
            self.period_minutes * 60 == int((self.period_end - self.period_start).total_seconds()),
            "period_end",
            "period must be a whole number of minutes",
        )
        _require(
            self.period_start.second == 0 and self.period_start.microsecond == 0,
            "period_start",
            "must be a whole minute",
        )
        self.creators.check_inside(self.period_minutes)
        object.__setattr__(self, "excluded", frozenset(self.excluded))
        known = self.creators
        for name, pairs in (("blocks", self.blocks), ("locked_pairs", self.locked_pairs)):
            for pair in pairs:
                _require(len(pair) == 2, name, f"{pair!r} is not a pair")
                _require(pair[0] != pair[1], name, f"{pair!r} pairs a creator with itself")
                _require(known.has(pair[0]) and known.has(pair[1]), name, f"unknown id in {pair!r}")
        for a, b, ago in self.recent_pairs:
            _require(known.has(a) and known.has(b), "recent_pairs", f"unknown id in {(a, b)!r}")
            _require(a != b, "recent_pairs", f"{(a, b)!r} pairs a creator with itself")
            _require(ago >= 1, "recent_pairs", f"rounds_ago must be >= 1 for {(a, b)!r}")
        for creator in self.excluded:
            _require(known.has(creator), "excluded", f"unknown id {creator!r}")
        self._check_locked()

    @property
    def period_minutes(self) -> int:
        """Length of the period in minutes."""
        return int((self.period_end - self.period_start) // timedelta(minutes=1))

    @property
    def grid_offset(self) -> int:
        """Minutes from the period start to the first slot start on the UTC slot grid."""
        epoch = int(self.period_start.timestamp()) // 60
        return (-epoch) % self.rules.slot_step_minutes

    def _check_locked(self) -> None:
        seen: set[str] = set()
        for a, b in self.locked_pairs:
            for creator in (a, b):
                _require(creator not in seen, "locked_pairs", f"{creator} is in two locked pairs")
                _require(creator not in self.excluded, "locked_pairs", f"{creator} is excluded")
                seen.add(creator)
            broken = pair_violations(self, a, b)
            if broken:
                _require(False, "locked_pairs", f"locked pair ({a}, {b}) {broken[0].message}")

    def starts_of(self, index: int) -> set[int]:
        """Grid starts (minutes from period start) at which creator `index` can begin."""
        step, duration = self.rules.slot_step_minutes, self.rules.duration_minutes
        offset = self.grid_offset
        starts: set[int] = set()
        for start, end in self.creators.availability_of(index):
            first = offset + -(-(max(start, 0) - offset) // step) * step
            last = min(end, self.period_minutes) - duration
            starts.update(range(first, last + 1, step))
        return starts

    def shared_starts(self, a: int, b: int) -> list[int]:
        """Grid starts both creators can make (by table index), ascending."""
        return sorted(self.starts_of(a) & self.starts_of(b))

    @classmethod
    def from_creators(
        cls,
        period_start: datetime,
        period_end: datetime,
        creators: Sequence[Creator],
        *,
        blocks: Iterable[tuple[str, str]] = (),
        recent_pairs: Iterable[tuple[str, str, int]] = (),
        locked_pairs: Iterable[tuple[str, str]] = (),
        excluded: Iterable[str] = (),
        rules: Rules | None = None,
        weights: Weights | None = None,
    ) -> MatchProblem:
        """A problem from a list of `Creator`; the other arguments as the constructor's."""
        return cls(
            period_start,
            period_end,
            CreatorTable.from_creators(creators),
            blocks=tuple((a, b) for a, b in blocks),
            recent_pairs=tuple((a, b, ago) for a, b, ago in recent_pairs),
            locked_pairs=tuple((a, b) for a, b in locked_pairs),
            excluded=frozenset(excluded),
            rules=rules or Rules(),
            weights=weights or Weights(),
        )

"""Random but realistic pools for the engine's tests and benchmarks (numpy only).

Log-normal audience with revenue correlated to it, creators clustered in a few time
zones (some switching to summer time inside the week when asked), evening-heavy
availability, one to three languages tied to the zone, a few blocks and recent pairs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from matchdesk.matching.problem import Creator, MatchProblem, Rules, Weights
from matchdesk.matching.table import CreatorTable

# (UTC offset in winter, summer-time shift in a DST week, main language, weight)
ZONES = (
    (-300, 60, "en", 0.20),
    (-480, 60, "en", 0.10),
    (-360, 60, "es", 0.08),
    (0, 60, "en", 0.08),
    (60, 60, "de", 0.07),
    (330, 0, "hi", 0.14),
    (420, 0, "id", 0.12),
    (480, 0, "tl", 0.08),
    (-180, 0, "pt", 0.09),
    (345, 0, "ne", 0.04),
)
EXTRA_LANGUAGES = ("en", "es", "fr", "ar")
PERIOD_START = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # Monday 00:00 in Los Angeles


def synthetic_problem(
    n: int,
    seed: int = 0,
    *,
    dst_week: bool = False,
    rules: Rules | None = None,
    weights: Weights | None = None,
    blocks: int = 0,
    recent: int = 0,
) -> MatchProblem:
    """A one-week pool of `n` creators; `dst_week` puts a clock change on Wednesday."""
    rng = np.random.default_rng(seed)
    week = 7 * 1440
    zone_weights = np.array([z[3] for z in ZONES])
    zone = rng.choice(len(ZONES), size=n, p=zone_weights / zone_weights.sum())
    base = np.array([z[0] for z in ZONES])[zone]
    shift = np.array([z[1] for z in ZONES])[zone] if dst_week else np.zeros(n, dtype=np.int64)
    change_minute = 2 * 1440 + 600  # Wednesday, 10:00 UTC
    has_change = shift != 0

    log_followers = rng.normal(4.0, 0.9, size=n).clip(0, 8)
    log_revenue = (0.9 * log_followers + rng.normal(-0.4, 0.6, size=n)).clip(0, 7)
    followers = (10**log_followers).astype(np.int64)
    revenue = (10**log_revenue).astype(np.int64) * (rng.random(n) > 0.03)
    tier = np.where(revenue >= 200_000, 0, np.where(revenue >= 20_000, 1, 2))

    # Availability: 0-4 local windows, mostly evenings, converted to UTC minutes.
    count = rng.choice(5, size=n, p=[0.02, 0.18, 0.35, 0.3, 0.15])
    owner = np.repeat(np.arange(n), count)
    day = rng.integers(0, 7, size=owner.size)
    evening = rng.random(owner.size) < 0.85
    local_start = np.where(
        evening,
        rng.integers(34, 44, size=owner.size) * 30,
        rng.integers(14, 34, size=owner.size) * 30,
    )
    length = rng.integers(4, 11, size=owner.size) * 30
    start = day * 1440 + local_start - base[owner]
    # After the clock change local times are `shift` minutes later in UTC terms.
    start = np.where(has_change[owner] & (start >= change_minute), start - shift[owner], start)
    end = np.minimum(start + length, week)
    start = np.maximum(start, 0)
    ok = end - start >= 30
    owner, start, end = owner[ok], start[ok], end[ok]
    order = np.lexsort((start, owner))
    owner, start, end = owner[order], start[order], end[order]
    avail_ptr = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n))])

    main = [z[2] for z in ZONES]
    vocabulary = sorted(set(main) | set(EXTRA_LANGUAGES))
    code = {x: i for i, x in enumerate(vocabulary)}
    first = np.array([code[main[z]] for z in range(len(ZONES))])[zone]
    second = np.array([code[x] for x in EXTRA_LANGUAGES])[rng.integers(0, 4, size=n)]
    third = np.array([code[x] for x in EXTRA_LANGUAGES])[rng.integers(0, 4, size=n)]
    k = rng.choice(3, size=n, p=[0.55, 0.35, 0.10]) + 1
    langs = np.stack([first, second, third], axis=1)
    rows = []
    for width in (1, 2, 3):
        rows.append(np.where((k >= width)[:, None], langs[:, width - 1 : width], -1))
    table_langs = np.concatenate(rows, axis=1)
    table_langs.sort(axis=1)
    dup = np.zeros_like(table_langs, dtype=bool)
    dup[:, 1:] = table_langs[:, 1:] == table_langs[:, :-1]
    table_langs[dup] = -1
    valid = table_langs >= 0
    lang_ptr = np.concatenate([[0], np.cumsum(valid.sum(axis=1))])
    lang_code = table_langs[valid]

    ids = np.array([f"c{i:07d}" for i in rng.permutation(n).tolist()], dtype=np.str_)
    table = CreatorTable.from_arrays(
        ids=ids,
        tier=tier,
        vocabulary=vocabulary,
        lang_ptr=lang_ptr,
        lang_code=lang_code,
        followers=followers,
        revenue=revenue,
        avail_ptr=avail_ptr,
        avail_start=start,
        avail_end=end,
        utc_offset=base,
        change_ptr=np.concatenate([[0], np.cumsum(has_change)]),
        change_at=np.full(int(has_change.sum()), change_minute),
        change_offset=(base + shift)[has_change],
        recent_byes=rng.choice(4, size=n, p=[0.7, 0.15, 0.1, 0.05]),
    )
    pair_rng = np.random.default_rng(seed + 1)
    names = table.ids
    block_pairs = _random_pairs(pair_rng, n, blocks)
    recent_pairs = _random_pairs(pair_rng, n, recent)
    return MatchProblem(
        period_start=PERIOD_START,
        period_end=PERIOD_START + timedelta(days=7),
        creators=table,
        blocks=tuple((str(names[x]), str(names[y])) for x, y in block_pairs),
        recent_pairs=tuple(
            (str(names[x]), str(names[y]), int(pair_rng.integers(1, 9))) for x, y in recent_pairs
        ),
        rules=rules or Rules(),
        weights=weights or Weights(),
    )


def _random_pairs(rng: np.random.Generator, n: int, count: int) -> list[tuple[int, int]]:
    if n < 2 or count == 0:
        return []
    x = rng.integers(0, n, size=count)
    y = rng.integers(0, n, size=count)
    seen: set[tuple[int, int]] = set()
    for a, b in zip(x.tolist(), y.tolist(), strict=True):
        if a != b:
            seen.add((min(a, b), max(a, b)))
    return sorted(seen)


NARROW_START = datetime(2026, 3, 9, tzinfo=UTC)  # Monday 00:00 UTC


def narrow_pool(
    n: int,
    seed: int,
    *,
    languages: int = 2,
    days: int = 2,
    first_hour: int = 10,
    hours: int = 3,
    window_minutes: int = 5,
    max_windows: int = 2,
    tiers: int = 1,
    blocks_per_creator: float = 0.0,
    rules: Rules | None = None,
) -> MatchProblem:
    """`n` creators with one to `max_windows` windows of `window_minutes` on the first
    `days` days between `first_hour` and `first_hour + hours` UTC, one or two of
    `languages` languages, log-normal strengths; blocks at random."""
    rng = np.random.default_rng(seed)
    rules = rules or Rules(duration_minutes=5, slot_step_minutes=5)
    step = rules.slot_step_minutes
    slots = hours * 60 // step
    codes = [f"l{i}" for i in range(languages)]
    creators = []
    for i in range(n):
        count = int(rng.integers(1, max_windows + 1))
        windows = set()
        for _ in range(count):
            day = int(rng.integers(0, days))
            slot = int(rng.integers(0, max(1, slots - window_minutes // step + 1)))
            start = day * 1440 + first_hour * 60 + slot * step
            windows.add((start, start + window_minutes))
        own = {codes[int(rng.integers(0, languages))]}
        if rng.random() < 0.3:
            own.add(codes[int(rng.integers(0, languages))])
        followers = int(10 ** rng.normal(4.0, 0.9))
        revenue = int(10 ** rng.normal(3.5, 0.8))
        creators.append(
            Creator(
                f"n{i:05d}",
                int(rng.integers(0, tiers)),
                tuple(sorted(own)),
                followers=followers,
                revenue_30d=revenue,
                availability=tuple(sorted(windows)),
            )
        )
    blocks: list[tuple[str, str]] = []
    if blocks_per_creator > 0:
        count = int(blocks_per_creator * n)
        x = rng.integers(0, n, size=count)
        y = rng.integers(0, n, size=count)
        blocks = sorted({(f"n{a:05d}", f"n{b:05d}") for a, b in zip(x, y, strict=True) if a < b})
    return MatchProblem.from_creators(
        NARROW_START, NARROW_START + timedelta(days=7), creators, blocks=blocks, rules=rules
    )


# narrow_pool arguments of the families that stress the cardinality guarantee
CARDINALITY_FAMILIES: dict[str, dict[str, Any]] = {
    "short slots": {},
    "narrow windows": {"max_windows": 1, "days": 1},
    "one language": {"languages": 1, "max_windows": 1, "days": 3, "hours": 2},
    "many languages": {"languages": 6, "max_windows": 1},
    "heavy blocks": {"blocks_per_creator": 3.0, "max_windows": 1},
    "adjacent tiers": {
        "tiers": 3,
        "max_windows": 1,
        "rules": Rules(duration_minutes=5, slot_step_minutes=5, max_tier_distance=1),
    },
}

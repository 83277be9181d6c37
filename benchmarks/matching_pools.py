"""Benchmark pools: demo creators (matchdesk.roster.demo) -> one weekly `MatchProblem`.

The weekly pool is every active creator whose tier (default program: S >= 200,000
revenue monthly, A >= 20,000 weekly, B weekly) has a weekly cadence, for the week
starting Monday 2026-03-23 00:00 in the program's zone (Los Angeles); Europe switches
to summer time inside that week, so the pools exercise a DST change. Block lists become
block pairs inside the pool.

Generating a million demo creators and expanding their availability takes minutes, so
the columns are cached as `build/matching_pools/demo_<n>_<seed>.npz` (gitignored) and
generation is never part of a measured time.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from matchdesk.matching import CreatorTable, MatchProblem, Rules
from matchdesk.matching.problem import offsets_in_period
from matchdesk.program import Program
from matchdesk.roster.availability import Window, expand
from matchdesk.roster.demo import generate_creators
from matchdesk.rounds.pool import rules_of

CACHE = Path(__file__).resolve().parent.parent / "build" / "matching_pools"
PROGRAM = Program()
WEEK_START = datetime(2026, 3, 23, tzinfo=ZoneInfo(PROGRAM.program.timezone))
PERIOD_START = WEEK_START.astimezone(ZoneInfo("UTC"))
PERIOD_END = (WEEK_START + timedelta(days=7)).astimezone(ZoneInfo("UTC"))


def _rules() -> Rules:
    return rules_of(PROGRAM)


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _columns(n: int, seed: int) -> dict[str, np.ndarray]:
    """Demo creators of the weekly tiers, as the columns of a CreatorTable + blocks."""
    weekly = {i for i, t in enumerate(PROGRAM.tiers) if t.cadence == "weekly"}
    window_cache: dict[tuple[str, Window], list[tuple[int, int]]] = {}
    offset_cache: dict[str, tuple[int, tuple[tuple[int, int], ...]]] = {}
    cols: dict[str, list[int]] = {
        k: []
        for k in (
            "tier",
            "followers",
            "revenue",
            "lang_len",
            "avail_len",
            "avail_start",
            "avail_end",
            "utc_offset",
            "change_len",
            "change_at",
            "change_offset",
        )
    }
    ids: list[str] = []
    langs: list[str] = []
    blocked: list[tuple[str, str]] = []
    origin = PERIOD_START
    records = generate_creators(n, seed)
    if True:
        for r in records:
            if r.status != "active":
                continue
            tier = PROGRAM.tier_for(r.revenue_30d, r.followers)
            if tier is None or PROGRAM.tier_index(tier) not in weekly:
                continue
            intervals: list[tuple[int, int]] = []
            for window in r.availability:
                key = (r.timezone, window)
                if key not in window_cache:
                    window_cache[key] = [
                        (
                            int((s - origin) // timedelta(minutes=1)),
                            int((e - origin) // timedelta(minutes=1)),
                        )
                        for s, e in expand((window,), r.timezone, PERIOD_START, PERIOD_END)
                    ]
                intervals.extend(window_cache[key])
            intervals = _merge(intervals)
            if r.timezone not in offset_cache:
                offset_cache[r.timezone] = offsets_in_period(r.timezone, PERIOD_START, PERIOD_END)
            offset, changes = offset_cache[r.timezone]
            ids.append(r.handle)
            cols["tier"].append(PROGRAM.tier_index(tier))
            cols["followers"].append(r.followers)
            cols["revenue"].append(r.revenue_30d)
            cols["lang_len"].append(len(set(r.languages)))
            langs.extend(sorted(set(r.languages)))
            cols["avail_len"].append(len(intervals))
            cols["avail_start"].extend(s for s, _ in intervals)
            cols["avail_end"].extend(e for _, e in intervals)
            cols["utc_offset"].append(offset)
            cols["change_len"].append(len(changes))
            cols["change_at"].extend(m for m, _ in changes)
            cols["change_offset"].extend(o for _, o in changes)
            blocked.extend((r.handle, other) for other in r.blocked)
    out = {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}
    out["ids"] = np.asarray(ids, dtype=np.str_)
    out["langs"] = np.asarray(langs, dtype=np.str_)
    out["block_a"] = np.asarray([a for a, _ in blocked], dtype=np.str_)
    out["block_b"] = np.asarray([b for _, b in blocked], dtype=np.str_)
    return out


def demo_columns(n: int, seed: int = 0, *, verbose: bool = False) -> dict[str, np.ndarray]:
    """The cached columns of the weekly pool drawn from `n` demo creators."""
    path = CACHE / f"demo_{n}_{seed}.npz"
    if path.exists():
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    started = time.perf_counter()
    cols = _columns(n, seed)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, **cols)  # type: ignore[arg-type]
    if verbose:
        print(f"  generated pool {n:,} in {time.perf_counter() - started:.0f} s (cached {path})")
    return cols


def _ptr(lengths: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def demo_problem(n: int, seed: int = 0, *, verbose: bool = False) -> MatchProblem:
    """One weekly `MatchProblem` from `n` demo creators (the weekly-tier, active ones)."""
    cols = demo_columns(n, seed, verbose=verbose)
    vocabulary, lang_code = np.unique(cols["langs"], return_inverse=True)
    table = CreatorTable.from_arrays(
        ids=cols["ids"],
        tier=cols["tier"],
        vocabulary=[str(v) for v in vocabulary],
        lang_ptr=_ptr(cols["lang_len"]),
        lang_code=lang_code.reshape(-1),
        followers=cols["followers"],
        revenue=cols["revenue"],
        avail_ptr=_ptr(cols["avail_len"]),
        avail_start=cols["avail_start"],
        avail_end=cols["avail_end"],
        utc_offset=cols["utc_offset"],
        change_ptr=_ptr(cols["change_len"]),
        change_at=cols["change_at"],
        change_offset=cols["change_offset"],
    )
    in_pool = set(cols["ids"].tolist()) if cols["block_a"].size else set()
    blocks = tuple(
        (str(a), str(b))
        for a, b in zip(cols["block_a"].tolist(), cols["block_b"].tolist(), strict=True)
        if b in in_pool and a != b
    )
    return MatchProblem(PERIOD_START, PERIOD_END, table, blocks=blocks, rules=_rules())

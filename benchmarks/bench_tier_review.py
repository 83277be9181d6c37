"""The tier review over a big ledger, on SQLite and PostgreSQL.

Creators (all with results, all in tier B) get a ledger day on each of the 42 program days
before today, with diamonds spread around tier A's line (20,000 over 30 days), so a good
share is proposed. Timed: `count_proposals` (the dashboard's figure) and `review` (the
page and `tiers review`), each one grouped query over the ledger.

    python benchmarks/bench_tier_review.py [--creators 100000] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from databases import drop_schema, fresh_database
from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.results.tier_review import count_proposals, review

TODAY = date(2026, 3, 23)  # a Monday: the weeks ending 15 and 22 March are reviewed
DAYS = 42


def _fill(md: Matchdesk, backend: str, creators: int) -> None:
    first = TODAY - timedelta(days=DAYS)
    if backend == "postgresql":
        numbers = "SELECT generate_series(1, :n) AS i"
        days = "SELECT generate_series(0, :d - 1) AS k"
        day = "(CAST(:first AS date) + d.k)"
    else:
        numbers = (
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n)"
            " SELECT i FROM s"
        )
        days = (
            "WITH RECURSIVE t(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM t WHERE k < :d - 1)"
            " SELECT k FROM t"
        )
        day = "date(:first, '+' || d.k || ' days')"
    with md.transaction() as session:
        session.execute(
            text(
                "INSERT INTO creators (handle, display_name, email, timezone, languages, region,"
                " category, followers, revenue_30d, revenue_source, tier, status, manager,"
                " version, created_at, updated_at)"
                " SELECT 'c' || n.i, '', '', 'UTC', 'en', '', '', 1000, 0, 'results', 'B',"
                f" 'active', '', 1, :now, :now FROM ({numbers}) AS n"
            ),
            {"n": creators, "now": "2026-03-01 00:00:00"},
        )
        session.execute(
            text(
                "INSERT INTO ledger_days (creator_id, day, sessions, live_minutes, diamonds,"
                " new_followers, match_sessions)"
                f" SELECT c.id, {day}, 1, 60, ((c.id * 7919) % 900) + ((c.id + d.k) % 5) * 60,"
                f" 0, 0 FROM creators AS c CROSS JOIN ({days}) AS d"
            ),
            {"d": DAYS, "first": first.isoformat()},
        )
        if backend == "postgresql":
            session.execute(text("ANALYZE creators"))
            session.execute(text("ANALYZE ledger_days"))
        else:
            session.execute(text("ANALYZE"))


def run(backend: str, creators: int, workdir: Path) -> None:
    url, schema = fresh_database(backend, workdir)
    md = Matchdesk.build(Settings(database_url=url, program=workdir / "none.toml"))
    try:
        started = time.perf_counter()
        _fill(md, backend, creators)
        filled = time.perf_counter() - started

        def count(session: Session) -> int:
            return count_proposals(session, md.program, TODAY)

        def listed(session: Session) -> int:
            return len(review(session, md.program, TODAY))

        calls: list[tuple[str, Callable[[Session], int]]] = [("count", count), ("review", listed)]
        times = {}
        for name, call in calls:
            best = float("inf")
            for _ in range(2):
                with md.transaction() as session:
                    started = time.perf_counter()
                    found = call(session)
                    best = min(best, time.perf_counter() - started)
            times[name] = (best, found)
        print(
            f"{backend:10} {creators:>9,} creators, {creators * DAYS:>11,} ledger days"
            f" (filled in {filled:5.1f} s): count_proposals {times['count'][0]:6.2f} s"
            f" ({times['count'][1]:,}), review {times['review'][0]:6.2f} s"
            f" ({times['review'][1]:,} proposals)"
        )
    finally:
        md.close()
        drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creators", type=int, nargs="+", default=[100_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        for creators in args.creators:
            for backend in args.backends:
                run(backend, creators, Path(workdir))


if __name__ == "__main__":
    main()

"""Match uplift from the database, on SQLite and PostgreSQL.

Target (results issue): a creator's report at most 50 ms, so their uplift (one indexed
query and a 2,000-resample bootstrap) must cost a fraction of that. The data is the demo's:
a roster, then 6 weeks of history (past weekly rounds played, sessions saved through the
results import); filling it is timed too (it is what `matchdesk demo` does). Then, in one
transaction each: `creator_uplift` over the last 30 days for 200 creators, `match_uplifts`
for 200 completed matches, `round_uplift` for every round, `tier_uplift` over the history.

    python benchmarks/bench_uplift.py [--creators 200 10000] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select

from databases import drop_schema, fresh_database
from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.results.demo import fill_history
from matchdesk.results.uplift import creator_uplift, match_uplifts, round_uplift, tier_uplift
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.models import Creator
from matchdesk.roster.service import save_records
from matchdesk.rounds.models import Match

TODAY = date(2026, 12, 2)
SAMPLE = 200


def _ms(times: list[float]) -> str:
    values = np.array(times) * 1000
    return f"median {np.median(values):6.1f} ms, p95 {np.percentile(values, 95):6.1f} ms"


def run(backend: str, creators: int, workdir: Path) -> None:
    url, schema = fresh_database(backend, workdir)
    md = Matchdesk.build(Settings(database_url=url, program=workdir / "none.toml"))
    try:
        with md.transaction() as session:
            save_records(session, md.program, generate_creators(creators, seed=1))
        started = time.perf_counter()
        with md.transaction() as session:
            history = fill_history(session, md.program, seed=1, today=TODAY)
        filled = time.perf_counter() - started
        print(
            f"{backend:10} {creators:>7,} creators: history {filled:6.2f} s "
            f"({history.sessions:,} sessions, {history.match_sessions:,} in matches, "
            f"{len(history.rounds)} rounds)"
        )
        rng = np.random.default_rng(0)
        with md.transaction() as session:
            ids = session.scalars(select(Creator.id).order_by(Creator.id)).all()
            chosen = rng.choice(ids, size=min(SAMPLE, len(ids)), replace=False).tolist()
            times = []
            for creator_id in chosen:
                t = time.perf_counter()
                creator_uplift(session, md.program, creator_id, TODAY - timedelta(days=30), TODAY)
                times.append(time.perf_counter() - t)
            print(f"{'':10} creator_uplift (30 days)  {_ms(times)}")
            matches = session.scalars(
                select(Match.id).where(Match.status == "completed").order_by(Match.id)
            ).all()
            picked = rng.choice(matches, size=min(SAMPLE, len(matches)), replace=False).tolist()
            times = []
            for match_id in picked:
                t = time.perf_counter()
                match_uplifts(session, md.program, match_id)
                times.append(time.perf_counter() - t)
            print(f"{'':10} match_uplifts             {_ms(times)}")
            times = []
            for round_id in history.rounds:
                t = time.perf_counter()
                round_uplift(session, md.program, round_id)
                times.append(time.perf_counter() - t)
            print(f"{'':10} round_uplift              {_ms(times)}")
            t = time.perf_counter()
            tier_uplift(session, md.program, TODAY - timedelta(weeks=8), TODAY)
            print(f"{'':10} tier_uplift (8 weeks)     {(time.perf_counter() - t) * 1000:6.1f} ms")
    finally:
        md.close()
        drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, nargs="+", default=[200, 10_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for creators in args.creators:
            for backend in args.backends:
                run(backend, creators, Path(tmp))


if __name__ == "__main__":
    main()

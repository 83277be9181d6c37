"""Building a weekly round from the database to stored matches, on SQLite and PostgreSQL.

Target (rounds issue): a weekly round of 100,000 creators in at most 60 s. The roster is
the demo generator's (filled first, not timed); the round is built by the command a
manager runs, `matchdesk rounds create --cadence weekly --start ...`, in a fresh process,
and the time is the whole command (start-up, loading the pool and its availability,
matching, storing matches and byes, commit). The engine's own phases are printed beside.

    python benchmarks/bench_rounds.py [--sizes 10000 100000] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from databases import drop_schema, fresh_database
from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.service import save_records

START = "2026-11-30"  # a Monday


def fill(url: str, creators: int, workdir: Path) -> None:
    md = Matchdesk.build(Settings(database_url=url, program=workdir / "none.toml"))
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(creators, seed=1))
    md.close()


def measure(url: str, workdir: Path) -> tuple[float, dict[str, Any], int]:
    env = dict(os.environ, MATCHDESK_DATABASE_URL=url, MATCHDESK_PROGRAM=str(workdir / "none.toml"))
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "matchdesk",
            "rounds",
            "create",
            "--cadence",
            "weekly",
            "--start",
            START,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"rounds create failed: {done.stderr}")
    round_id = int(done.stdout.strip().splitlines()[-1])
    show = subprocess.run(
        [sys.executable, "-m", "matchdesk", "rounds", "show", str(round_id), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    matches = len(json.loads(show.stdout)["matches"])
    md = Matchdesk.build(Settings(database_url=url, program=workdir / "none.toml"))
    from matchdesk.rounds.service import get_round

    with md.transaction() as session:
        statistics = dict(get_round(session, round_id).statistics)
    md.close()
    return seconds, statistics, matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(
        f"{'creators':>9} {'backend':<10} {'pool':>7} {'matches':>8} {'command s':>10} "
        f"{'engine s':>9}  target"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for size in args.sizes:
            for backend in args.backends:
                url, schema = fresh_database(backend, workdir)
                try:
                    fill(url, size, workdir)
                    seconds, stats, matches = measure(url, workdir)
                finally:
                    drop_schema(schema)
                engine = sum(float(v) for v in stats["seconds"].values())
                verdict = ""
                if size >= 100_000:
                    verdict = "<= 60 s: " + ("met" if seconds <= 60 else "MISSED")
                print(
                    f"{size:>9,} {backend:<10} {stats['creators']:>7,} {matches:>8,} "
                    f"{seconds:>10.1f} {engine:>9.1f}  {verdict}",
                    flush=True,
                )


if __name__ == "__main__":
    main()

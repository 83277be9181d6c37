"""Roster import speed and peak memory, on SQLite and PostgreSQL.

Target (issue 2): a 100,000-creator CSV from the demo generator imports in at most 20 s
with at most 1 GB peak memory on SQLite on a 2-core machine. Each import runs in a fresh
process into an empty, migrated database, exactly as `matchdesk creators import` does; the
time is the whole command (process start, reading, validating, writing, commit).

    python benchmarks/bench_import.py [--sizes 10000 100000] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from databases import drop_schema, fresh_database
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.records import COLUMNS
from matchdesk.roster.service import record_row
from matchdesk.roster.tables import write_csv


def child(file: str, url: str) -> None:
    """Runs in the measured process: the CLI's own import path, then its peak memory."""
    os.environ["MATCHDESK_DATABASE_URL"] = url
    from matchdesk.context import Matchdesk
    from matchdesk.roster.service import import_roster

    md = Matchdesk.build()
    started = time.perf_counter()
    with md.transaction() as session:
        report = import_roster(session, md.program, Path(file).read_bytes(), Path(file).name)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"created": report.created, "import_s": seconds, "peak_bytes": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    print(
        f"Roster import benchmark ({os.cpu_count()} cores); target at 100,000 on SQLite: "
        "<= 20 s and <= 1 GB peak"
    )
    print(
        f"{'creators':>9} {'backend':<11} {'command s':>9} {'import s':>9} {'peak MB':>8}  target"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for size in args.sizes:
            roster = workdir / f"roster-{size}.csv"
            records = generate_creators(size, seed=42)
            roster.write_bytes(write_csv(list(COLUMNS), [record_row(r) for r in records]))
            del records
            for backend in args.backends:
                url, schema = fresh_database(backend, workdir)
                started = time.perf_counter()
                result = subprocess.run(
                    [sys.executable, __file__, "--child", str(roster), url],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                wall = time.perf_counter() - started
                figures = json.loads(result.stdout.strip().splitlines()[-1])
                assert figures["created"] == size, figures
                peak_mb = figures["peak_bytes"] / 2**20
                verdict = ""
                if size == 100_000 and backend == "sqlite":
                    verdict = "ok" if wall <= 20 and peak_mb <= 1024 else "MISSED"
                print(
                    f"{size:>9,} {backend:<11} {wall:>9.2f} {figures['import_s']:>9.2f} "
                    f"{peak_mb:>8.0f}  {verdict}"
                )
                drop_schema(schema)


if __name__ == "__main__":
    main()

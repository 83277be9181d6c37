"""The dashboard and the program report page of a 100,000-creator program under load.

Target (issue 10): p95 at most 300 ms with 20 concurrent clients (wrk, as bench_web), on
SQLite and PostgreSQL. The roster comes from the demo generator; eight weeks of ledger
days (about a fifth of the creators live on a day) are written straight into
ledger_days with numpy (the reports read the ledger and its rollups, not sessions), then
the rollups are rebuilt from it and every creator's revenue_30d refreshed.

    python benchmarks/bench_report_pages.py [--creators 100000] [--seconds 10] [--workers 2]
        [--json FILE]

`--json FILE` also writes the figures there (bench_results.py --pages reads them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import insert, select, text

from bench_web import LUA, prepare
from databases import drop_schema, serving
from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.results import rollups
from matchdesk.results.ledger import refresh_revenue
from matchdesk.results.models import LedgerDay
from matchdesk.results.staging import today_in
from matchdesk.roster.models import Creator

DAYS = 56


def fill_ledger(url: str, workdir: Path) -> int:
    md = Matchdesk.build(Settings(database_url=url, secret_key_file=workdir / "secret"))
    today = today_in(md.program.program.timezone)
    rng = np.random.default_rng(5)
    rows = 0
    with md.transaction() as session:
        ids = np.array(session.scalars(select(Creator.id)).all())
        for d in range(DAYS):
            day = today - timedelta(days=DAYS - 1 - d)
            live = ids[rng.random(ids.size) < 0.2]
            n = live.size
            sessions = 1 + rng.poisson(0.45, n)
            batch = [
                {
                    "creator_id": int(c),
                    "day": day,
                    "sessions": int(s),
                    "live_minutes": int(m),
                    "diamonds": int(x),
                    "new_followers": 0,
                    "match_sessions": 0,
                }
                for c, s, m, x in zip(
                    live,
                    sessions,
                    sessions * rng.integers(20, 180, n),
                    sessions * rng.integers(0, 3000, n),
                    strict=True,
                )
            ]
            session.execute(insert(LedgerDay), batch)
            rows += n
        # Written straight into the ledger: the report rollups are built from it, as a
        # repair would (an import keeps them as it goes).
        rollups.rebuild(session)
        # creators with results: revenue_30d from the ledger, reviewed by the tier review
        refresh_revenue(session, today, select(LedgerDay.creator_id).distinct())
    if md.engine.dialect.name == "postgresql":
        with md.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    md.close()
    return rows


def session_cookie(base: str) -> str:
    """Signed in as bench_web's operator, waiting as long as it takes: as the server starts,
    its warmer computes the cached figures, and a sign-in then can take a while."""
    with httpx.Client(base_url=base, timeout=300) as client:
        page = client.get("/login").text
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert found is not None
        client.post(
            "/login",
            data={
                "email": "bench@example.com",
                "password": "benchmark password",
                "csrf_token": found.group(1),
                "next": "/",
            },
        )
        return f"matchdesk_session={client.cookies['matchdesk_session']}"


def wrk(base: str, paths: list[str], cookie: str, seconds: int, workdir: Path) -> dict[str, str]:
    script = workdir / "load.lua"
    script.write_text(LUA % (", ".join(f'"{p}"' for p in paths), f'["Cookie"] = "{cookie}"'))
    run = subprocess.run(
        ["wrk", "-t2", "-c20", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT"))
    return dict(part.split("=") for part in line.split()[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: scripts/ensure-wrk.sh installs it")
    print(
        f"Report pages: {args.creators:,} creators, {DAYS} days of ledger, 20 connections, "
        f"{args.seconds} s, {args.workers} workers, {os.cpu_count()} cores shared with wrk; "
        "target p95 <= 300 ms"
    )
    found: dict[str, Any] = {"creators": args.creators, "seconds": args.seconds, "pages": {}}
    for backend in args.backends:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            url, schema = prepare(backend, args.creators, workdir)
            try:
                rows = fill_ledger(url, workdir)
                print(f"{backend}: {rows:,} ledger days")
                end = date.today()
                start = end - timedelta(days=27)
                pages = {
                    "dashboard": ["/"],
                    "program report": [f"/reports?from={start}&to={end}"],
                }
                with serving(url, workdir, "--workers", str(args.workers), "--no-worker") as base:
                    cookie = session_cookie(base)
                    for label, paths in pages.items():
                        alone = []
                        for _ in range(3):  # one request at a time, for its own cost
                            t = time.perf_counter()
                            httpx.get(base + paths[0], headers={"Cookie": cookie}, timeout=120)
                            alone.append(time.perf_counter() - t)
                        print(f"{backend:<11} {label:<16} alone: {min(alone) * 1000:.0f} ms")
                        # Warm-up until steady: as the server starts, each worker's
                        # warmer computes the cached figures on a thread of its own.
                        settling: list[float] = []
                        for _ in range(8):
                            settling.append(float(wrk(base, paths, cookie, 3, workdir)["p95"]))
                            if len(settling) > 1 and settling[-1] >= 0.8 * settling[-2]:
                                break
                        print(
                            f"{backend:<11} {label:<16} warm-up p95 (3 s each): "
                            + ", ".join(f"{p:.0f}" for p in settling)
                            + " ms"
                        )
                        f = wrk(base, paths, cookie, args.seconds, workdir)
                        p95 = float(f["p95"])
                        errors = int(f["errors"]) + int(f["non2xx"])
                        done = int(f["requests"]) > 0
                        verdict = "ok" if done and p95 <= 300 and errors == 0 else "MISSED"
                        load = os.getloadavg()[0]
                        print(
                            f"{backend:<11} {label:<16} p50 {float(f['p50']):>7.1f}  p95 "
                            f"{p95:>7.1f}  p99 {float(f['p99']):>7.1f} ms  "
                            f"{int(f['requests']) / args.seconds:>6.1f} req/s  "
                            f"errors {errors}  {verdict}  "
                            f"(load average {load:.1f})"
                        )
                        found["pages"].setdefault(label, {})[backend] = {
                            "p50": float(f["p50"]),
                            "p95": p95,
                            "p99": float(f["p99"]),
                            "requests": int(f["requests"]),
                            "errors": errors,
                            "load": load,
                        }
            finally:
                drop_schema(schema)
    if args.json:
        args.json.write_text(json.dumps(found))


if __name__ == "__main__":
    main()

"""Roster list page and `GET /api/v1/creators` with filters at 100,000 creators.

Target (issue 4): p95 at most 150 ms with 20 concurrent clients, on SQLite and PostgreSQL.
The server is `matchdesk serve` in its own processes; the load is wrk (Debian's package)
on loopback with 20 connections, rotating through filtered URLs. Both share this machine's
cores, so the figures include the load generator's own cost.

    python benchmarks/bench_web.py [--creators 100000] [--seconds 15] [--workers 2]
        [--storm-seconds 10] [--storm-only]

It ends with the login storm (issue 15): the roster page read by one client, quiet and then
while 20 clients send wrong passwords; its p95 should stay within 2x of the quiet figure.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from databases import drop_schema, fresh_database, serving
from matchdesk.accounts.service import create_operator, create_token
from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.service import save_records

FILTERS = [
    "tier=B&region=US&sort=-followers",
    "language=es&sort=-revenue_30d",
    "tier=A&status=active",
    "q=lu&sort=handle",
    "region=IN&language=hi&page=3",
    "tier=S&sort=-revenue_30d",
    "status=paused&region=BR",
    "q=ka&tier=B&page=2",
]
LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {%s})
end
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT p50=%%.1f p95=%%.1f p99=%%.1f requests=%%d errors=%%d non2xx=%%d\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.errors.status))
end
"""


def prepare(backend: str, creators: int, workdir: Path) -> tuple[str, str | None]:
    url, schema = fresh_database(backend, workdir)
    md = Matchdesk.build(Settings(database_url=url, secret_key_file=workdir / "secret"))
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(creators, seed=7))
        create_operator(session, "bench@example.com", "benchmark password", "viewer")
    if backend == "postgresql":
        with md.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    md.close()
    return url, schema


def token_for(url: str, workdir: Path) -> str:
    md = Matchdesk.build(Settings(database_url=url, secret_key_file=workdir / "secret"))
    with md.transaction() as session:
        token = create_token(session, "bench", "viewer").token
    md.close()
    return token


def session_cookie(base: str) -> str:
    with httpx.Client(base_url=base) as client:
        page = client.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        client.post(
            "/login",
            data={
                "email": "bench@example.com",
                "password": "benchmark password",
                "csrf_token": csrf,
                "next": "/",
            },
        )
        return f"matchdesk_session={client.cookies['matchdesk_session']}"


def wrk(base: str, prefix: str, header: tuple[str, str], seconds: int, workdir: Path) -> str:
    paths = ", ".join(f'"{prefix}?{f}"' for f in FILTERS)
    script = workdir / "load.lua"
    script.write_text(LUA % (paths, f'["{header[0]}"] = "{header[1]}"'))
    run = subprocess.run(
        ["wrk", "-t2", "-c20", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    )
    line = [x for x in run.stdout.splitlines() if x.startswith("RESULT")]
    return line[0] if line else run.stdout


def _reader_p95(base: str, cookie: str, seconds: float) -> tuple[float, int]:
    """One client reading the roster page back to back: its p95 in ms and its count."""
    times: list[float] = []
    with httpx.Client(base_url=base, headers={"Cookie": cookie}, timeout=30) as client:
        end = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < end:
            started = time.perf_counter()
            client.get(f"/creators?{FILTERS[i % len(FILTERS)]}").raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
            i += 1
    times.sort()
    return times[int(len(times) * 0.95) - 1 if len(times) > 1 else 0], len(times)


def _wrong_passwords(base: str, stop: Any, counts: list[int]) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        n = 0
        while not stop.is_set():
            try:
                page = client.get("/login").text
                csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
                email = "bench@example.com" if n % 2 else f"nobody{n}@example.com"
                client.post(
                    "/login",
                    data={"email": email, "password": "a wrong guess", "csrf_token": csrf},
                )
            except httpx.HTTPError:  # a refused connection under load: keep storming
                pass
            n += 1
        counts.append(n)


def _storm(base: str, clients: int, stop: Any, attempts: Any) -> None:
    """The storm's process: `clients` threads sending wrong passwords until `stop`."""
    counts: list[int] = []
    threads = [
        threading.Thread(target=_wrong_passwords, args=(base, stop, counts)) for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    attempts.value = sum(counts)


def login_storm(backend: str, base: str, cookie: str, seconds: float) -> None:
    """Issue 15: 20 clients sending wrong passwords while another reads the roster; the
    reader's p95 should stay within 2x of its quiet figure. The storm runs in a process of
    its own (the server has its own too), so the reader's figures are not its client's
    threads fighting over one interpreter. Quiet, storm, quiet again: the machine's other
    load shows as a difference between the two quiet figures."""
    quiet, quiet_n = _reader_p95(base, cookie, seconds)
    context = multiprocessing.get_context("fork")
    stop, attempts = context.Event(), context.Value("i", 0)
    storm = context.Process(target=_storm, args=(base, 20, stop, attempts))
    storm.start()
    try:
        loud, loud_n = _reader_p95(base, cookie, seconds)
    finally:
        stop.set()
        storm.join()
    after, after_n = _reader_p95(base, cookie, seconds)
    verdict = "ok" if loud <= 2 * quiet else "MISSED"
    print(
        f"{backend:<11} login storm: reader p95 quiet {quiet:.1f} ms ({quiet_n} reads), "
        f"during 20 wrong-password clients {loud:.1f} ms ({loud_n} reads, "
        f"{attempts.value} sign-in attempts), quiet again {after:.1f} ms ({after_n} reads); "
        f"target <= 2x quiet: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--storm-seconds", type=float, default=10, help="0: no login storm")
    parser.add_argument("--storm-only", action="store_true", help="only the login storm")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: `make bench` installs it (Debian package wrk)")
    print(
        f"Web benchmark: {args.creators:,} creators, 20 connections, {args.seconds} s each, "
        f"{args.workers} server workers, {os.cpu_count()} cores shared with wrk; "
        "target p95 <= 150 ms"
    )
    print(
        f"{'backend':<11} {'endpoint':<22} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'req/s':>7} {'errors':>6}  target"
    )
    for backend in args.backends:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            url, schema = prepare(backend, args.creators, workdir)
            token = token_for(url, workdir)
            try:
                with serving(url, workdir, "--workers", str(args.workers), "--no-worker") as base:
                    cookie = session_cookie(base)
                    bearer = ("Authorization", f"Bearer {token}")
                    endpoints = (
                        ("roster page", "/creators", ("Cookie", cookie)),
                        ("GET /api/v1/creators", "/api/v1/creators", bearer),
                    )
                    for label, prefix, header in () if args.storm_only else endpoints:
                        wrk(base, prefix, header, 2, workdir)  # warm-up, not measured
                        line = wrk(base, prefix, header, args.seconds, workdir)
                        figures = dict(part.split("=") for part in line.split()[1:])
                        p95 = float(figures["p95"])
                        rate = int(figures["requests"]) / args.seconds
                        errors = int(figures["errors"]) + int(figures["non2xx"])
                        verdict = "ok" if p95 <= 150 and errors == 0 else "MISSED"
                        print(
                            f"{backend:<11} {label:<22} {float(figures['p50']):>7.1f} {p95:>7.1f} "
                            f"{float(figures['p99']):>7.1f} {rate:>7.0f} {errors:>6}  {verdict}"
                        )
                    if args.storm_seconds:
                        login_storm(backend, base, cookie, args.storm_seconds)
            finally:
                drop_schema(schema)


if __name__ == "__main__":
    main()

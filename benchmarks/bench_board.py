"""The round board of a big round: its first page, rendered by a real server; board
actions (lock and unlock a match) on it; and publishing it.

Targets: the first page in at most 1 s (issue 5); a board action in at most 300 ms on a
45,000-match round and a 100,000-creator round published in at most 30 s (issue 13).
A demo roster (24,000 creators by default, which gives a weekly round of a little over
10,000 matches) is stored and its round built with `build_round`, on SQLite and on
PostgreSQL; then `matchdesk serve` answers `GET /rounds/{id}` for a signed-in manager:
one warm-up request, then `--requests` timed ones in a row (median and max), with the
first page of a search and page 50 for comparison.

Board actions are timed as the POST alone (the redirect back to the board is the page
above). Publishing runs in-process (`rounds.lifecycle.publish`: every invitation and its
calendar file written to the outbox in one transaction) and reports ms per message.

    python benchmarks/bench_board.py [--creators 24000] [--requests 20]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from contextlib import closing
from pathlib import Path

import httpx
from sqlalchemy import select, text

from databases import drop_schema, fresh_database, serving
from matchdesk.accounts.service import create_operator
from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.service import save_records
from matchdesk.rounds.board import Edit
from matchdesk.rounds.lifecycle import publish
from matchdesk.rounds.models import Match
from matchdesk.rounds.period import next_start, program_today
from matchdesk.rounds.service import build_round, get_round, list_rounds

TARGET_SECONDS = 1.0
ACTION_TARGET_SECONDS = 0.3
PUBLISH_TARGET_SECONDS = 30.0  # for 100,000 creators
EMAIL, PASSWORD = "bench@example.com", "benchmark password"
ROW_RE = re.compile(r'<tr id="match-\d+"')


def prepare(backend: str, creators: int, workdir: Path) -> tuple[str, str | None, int, int, float]:
    """A database with the roster and its round: (url, schema, round id, matches, build s)."""
    url, schema = fresh_database(backend, workdir)
    md = Matchdesk.build(Settings(database_url=url, secret_key_file=workdir / "secret"))
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(creators, seed=7))
        create_operator(session, EMAIL, PASSWORD, "manager")
    started = time.perf_counter()
    with md.transaction() as session:
        start = next_start("weekly", program_today(md.program.program.timezone))
        round_ = build_round(session, md.program, cadence="weekly", start=start, actor="bench")
        session.flush()
        round_id = round_.id
    built = time.perf_counter() - started
    if backend == "postgresql":
        with md.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    with md.transaction() as session:
        [(_, matches, _)] = list_rounds(session)
    md.close()
    return url, schema, round_id, matches, built


def signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf, "next": "/"}
    )
    return client


def timed(client: httpx.Client, path: str, requests: int) -> tuple[float, float, int]:
    """Median and max seconds of `requests` GETs after one warm-up, and the rows shown."""
    client.get(path).raise_for_status()
    seconds = []
    rows = 0
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        seconds.append(time.perf_counter() - started)
        response.raise_for_status()
        rows = len(ROW_RE.findall(response.text))
    return statistics.median(seconds), max(seconds), rows


def timed_actions(
    client: httpx.Client, url: str, round_id: int, requests: int
) -> tuple[float, float]:
    """Median and max seconds of `requests` lock/unlock POSTs of the round's first match
    (each with the round's current version, as the board sends it)."""
    md = Matchdesk.build(Settings(database_url=url))
    with md.transaction() as session:
        match_id = session.scalar(
            select(Match.id).where(Match.round_id == round_id).order_by(Match.id).limit(1)
        )
        version = get_round(session, round_id).version
    md.close()
    page = client.get(f"/rounds/{round_id}").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    seconds = []
    for i in range(requests + 1):
        data = {
            "csrf_token": csrf,
            "version": str(version),
            "locked": "true" if i % 2 == 0 else "false",
        }
        started = time.perf_counter()
        response = client.post(f"/rounds/{round_id}/matches/{match_id}/lock", data=data)
        elapsed = time.perf_counter() - started
        if response.status_code != 303:
            raise RuntimeError(f"lock answered {response.status_code}: {response.text[:300]}")
        version += 1
        if i:  # the first is the warm-up
            seconds.append(elapsed)
    return statistics.median(seconds), max(seconds)


def timed_publish(url: str, workdir: Path, round_id: int) -> tuple[float, int]:
    """Seconds to publish the round in one transaction, and the messages queued."""
    md = Matchdesk.build(
        Settings(database_url=url, secret_key_file=workdir / "secret", base_url="http://bench")
    )
    started = time.perf_counter()
    with md.transaction() as session:
        queued = publish(session, md.settings, md.program, round_id, Edit("bench", None))
    seconds = time.perf_counter() - started
    md.close()
    return seconds, queued


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=24_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(
        f"Round board benchmark: {args.creators:,} creators, one server process, "
        f"{args.requests} requests in a row after a warm-up, {os.cpu_count()} cores; "
        f"target: first page in at most {TARGET_SECONDS:.0f} s"
    )
    print(
        f"{'backend':<11} {'matches':>8} {'build s':>8}  {'page':<22} {'rows':>4} "
        f"{'median ms':>9} {'max ms':>7}  target"
    )
    for backend in args.backends:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            url, schema, round_id, matches, built = prepare(backend, args.creators, workdir)
            try:
                with (
                    serving(url, workdir, "--no-worker") as base,
                    closing(signed_in(base)) as client,
                ):
                    for label, query in (
                        ("first page", ""),
                        ("search 'k', first page", "?q=k"),
                        ("page 50", "?page=50"),
                    ):
                        median, worst, rows = timed(
                            client, f"/rounds/{round_id}{query}", args.requests
                        )
                        verdict = ""
                        if label == "first page":
                            ok = worst <= TARGET_SECONDS and matches >= 10_000 and rows == 100
                            verdict = "ok" if ok else "MISSED"
                        print(
                            f"{backend:<11} {matches:>8,} {built:>8.1f}  {label:<22} {rows:>4} "
                            f"{median * 1000:>9.0f} {worst * 1000:>7.0f}  {verdict}"
                        )
                    median, worst = timed_actions(client, url, round_id, args.requests)
                    ok = worst <= ACTION_TARGET_SECONDS
                    print(
                        f"{backend:<11} {matches:>8,} {built:>8.1f}  {'action: lock/unlock':<22} "
                        f"{'':>4} {median * 1000:>9.0f} {worst * 1000:>7.0f}  "
                        f"{'ok' if ok else 'MISSED'}"
                        + ("" if matches >= 45_000 else " (target is for 45,000 matches)")
                    )
                seconds, queued = timed_publish(url, workdir, round_id)
                per = seconds / max(queued, 1)
                projected = per * 0.95 * 100_000  # ~95% of a pool is invited
                print(
                    f"{backend:<11} {matches:>8,} publish: {seconds:.1f} s for {queued:,} "
                    f"messages ({per * 1000:.2f} ms each); 100,000 creators at this rate: "
                    f"~{projected:.0f} s against {PUBLISH_TARGET_SECONDS:.0f} s "
                    f"{'ok' if projected <= PUBLISH_TARGET_SECONDS else 'MISSED'}"
                )
                if matches < 10_000:
                    print(f"  only {matches:,} matches: raise --creators for a 10,000-match round")
            finally:
                drop_schema(schema)


if __name__ == "__main__":
    main()

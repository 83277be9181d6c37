"""The program report at platform scale, engine against engine, and the creator report.

A year of a million creators' ledger (about 100 million sessions in about 69 million
creator-days) is generated directly with numpy, week by week, and written as a Parquet
snapshot (one row group a week). Side by side in one run, the program report of the year
(sessions, LIVE minutes, diamonds and distinct creators live per program week):

- DuckDB over the Parquet snapshot, and polars (lazy scan of the same snapshot);
- the app's own `results.reports.program_report` (weeks and tiers, SPEC section 5) on
  PostgreSQL and SQLite, against a migrated matchdesk database holding the year as the
  app keeps it: 1,000,000 creators, the day x tier and week x tier x weekday-mask rollups
  of all 52 weeks (computed here with numpy, exactly what the imports keep), every
  creator's counted tier, with `--moved` creators whose tier has changed since (so the
  read-time correction runs). Of `ledger_days` the database holds `--sql-weeks` whole
  weeks plus the full year of the probed creators (loading 69 million rows would take
  longer than this run may; the program report does not read the ledger, except the
  moved creators' own days);
- the old plan, SQL over `ledger_days` (the weeks query), timed on the loaded weeks and
  scaled to the year by rows (a full scan is linear in rows).

The app's report over the loaded weeks is checked against that SQL over the ledger.
And the app's `creator_report` (one creator over the year, all of their ledger days
loaded) for 50 creators.

    python benchmarks/bench_reports.py [--creators 1000000] [--weeks 52] [--sql-weeks 2]
        [--json FILE]

`--json FILE` also writes the figures there (bench_results.py --reports reads them).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

START = date(2026, 1, 5)  # a Monday
LIVE_SHARE = 0.19  # share of creator-days with a session
EXTRA_SESSIONS = 0.45  # Poisson mean of a live day's sessions beyond the first
POSTGRES_DSN = os.environ.get("MATCHDESK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")

WEEKS_SQL = """
SELECT {week} AS week, SUM(sessions), SUM(live_minutes), SUM(diamonds),
       COUNT(DISTINCT creator_id)
FROM {table} WHERE day BETWEEN {a} AND {b} AND sessions > 0 GROUP BY 1 ORDER BY 1
"""


def week_chunks(creators: int, weeks: int, seed: int = 3) -> Iterator[dict[str, np.ndarray]]:
    """The ledger, a week at a time: creator_id, day (days since 1970), tier, sessions,
    live_minutes, diamonds."""
    rng = np.random.default_rng(seed)
    tier = rng.choice(np.array([0, 1, 2], dtype=np.int8), size=creators, p=[0.01, 0.14, 0.85])
    scale = np.array([40_000, 6_000, 300])[tier]
    epoch = (START - date(1970, 1, 1)).days
    for w in range(weeks):
        parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("creator_id", "day", "tier", "sessions", "live_minutes", "diamonds")
        }
        for d in range(7):
            ids = np.flatnonzero(rng.random(creators) < LIVE_SHARE).astype(np.int32)
            n = ids.size
            sessions = (1 + rng.poisson(EXTRA_SESSIONS, n)).astype(np.int16)
            parts["creator_id"].append(ids + 1)
            parts["day"].append(np.full(n, epoch + 7 * w + d, dtype=np.int32))
            parts["tier"].append(tier[ids])
            parts["sessions"].append(sessions)
            parts["live_minutes"].append((sessions * rng.integers(20, 180, n)).astype(np.int32))
            parts["diamonds"].append(
                (sessions * rng.exponential(1.0, n) * scale[ids]).astype(np.int64)
            )
        yield {k: np.concatenate(v) for k, v in parts.items()}


def timed(run: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """The best of `repeat` runs, in seconds, and the last answer."""
    best, answer = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        answer = run()
        best = min(best, time.perf_counter() - t)
    return best, answer


class Rollups:
    """What the app keeps for the year, computed from the generated weeks with numpy:
    day x tier sums, week x tier x mask counts, and the probed creators' ledger."""

    def __init__(self, creators: int, probes: np.ndarray) -> None:
        self.creators = creators
        self.probes = probes
        self.days: list[tuple[Any, ...]] = []
        self.masks: list[tuple[Any, ...]] = []
        self.probe_rows: list[dict[str, np.ndarray]] = []

    def add_week(self, w: int, chunk: dict[str, np.ndarray]) -> None:
        monday_ = START + timedelta(days=7 * w)
        weekday = (chunk["day"] - (START - date(1970, 1, 1)).days - 7 * w).astype(np.int64)
        tier = chunk["tier"].astype(np.int64)
        key = weekday * 3 + tier
        figures = [
            np.bincount(key, weights=chunk[name].astype(np.float64), minlength=21)
            for name in ("sessions", "live_minutes", "diamonds")
        ]
        for k in range(21):
            if figures[0][k]:
                self.days.append(
                    (monday_ + timedelta(days=k // 3), k % 3, *(int(f[k]) for f in figures))
                )
        bits = np.zeros(self.creators + 1, dtype=np.int64)
        np.bitwise_or.at(bits, chunk["creator_id"], 1 << weekday)
        tier_of = np.zeros(self.creators + 1, dtype=np.int64)
        tier_of[chunk["creator_id"]] = tier
        live = np.flatnonzero(bits)
        keys, counts = np.unique(tier_of[live] * 128 + bits[live], return_counts=True)
        self.masks.extend(
            (monday_, int(k // 128), int(k % 128), int(c))
            for k, c in zip(keys, counts, strict=True)
        )
        mine = np.isin(chunk["creator_id"], self.probes)
        self.probe_rows.append({k: v[mine] for k, v in chunk.items()})


def write_parquet(
    path: Path, creators: int, weeks: int, rollups: Rollups
) -> tuple[int, int, list[dict[str, np.ndarray]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = sessions = 0
    kept: list[dict[str, np.ndarray]] = []
    schema = pa.schema(
        [
            ("creator_id", pa.int32()),
            ("day", pa.date32()),
            ("tier", pa.int8()),
            ("sessions", pa.int16()),
            ("live_minutes", pa.int32()),
            ("diamonds", pa.int64()),
        ]
    )
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for w, chunk in enumerate(week_chunks(creators, weeks)):
            rollups.add_week(w, chunk)
            table = pa.table(
                {**chunk, "day": pa.array(chunk["day"], pa.int32()).cast(pa.date32())},
                schema=schema,
            )
            writer.write_table(table)
            rows += len(table)
            sessions += int(chunk["sessions"].sum())
            kept.append(chunk) if len(kept) < 2 else None
    return rows, sessions, kept


def duckdb_weeks(path: Path, first: date, last: date) -> list[Any]:
    import duckdb

    sql = WEEKS_SQL.format(
        week="date_trunc('week', day)",
        table=f"read_parquet('{path}')",
        a=f"DATE '{first}'",
        b=f"DATE '{last}'",
    )
    with duckdb.connect() as con:
        return con.execute(sql).fetchall()


def polars_weeks(path: Path, first: date, last: date) -> Any:
    import polars as pl

    return (
        pl.scan_parquet(path)
        .filter(pl.col("day").is_between(first, last), pl.col("sessions") > 0)
        .group_by(pl.col("day").dt.truncate("1w").alias("week"))
        .agg(
            pl.col("sessions").sum(),
            pl.col("live_minutes").sum(),
            pl.col("diamonds").sum(),
            pl.col("creator_id").n_unique(),
        )
        .sort("week")
        .collect()
    )


def _iso(days: np.ndarray) -> list[str]:
    return [str(d) for d in days.astype("datetime64[D]")]


def _ledger_rows(
    chunks: list[dict[str, np.ndarray]], skip: np.ndarray | None
) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for c in chunks:
        keep = (
            np.ones(c["creator_id"].size, bool) if skip is None else ~np.isin(c["creator_id"], skip)
        )
        rows.extend(
            zip(
                c["creator_id"][keep].tolist(),
                _iso(c["day"][keep]),
                c["sessions"][keep].tolist(),
                c["live_minutes"][keep].tolist(),
                c["diamonds"][keep].tolist(),
                [0] * int(keep.sum()),
                [0] * int(keep.sum()),
                strict=True,
            )
        )
    return rows


def load_app_database(
    backend: str,
    workdir: Path,
    creators: int,
    tier_of: np.ndarray,
    names: list[str],
    rollups: Rollups,
    sample: list[dict[str, np.ndarray]],
    moved: int,
) -> tuple[str, str | None, int]:
    """A migrated matchdesk database holding the year as the app keeps it; its URL, the
    PostgreSQL schema to drop and the number of ledger days loaded."""
    from databases import fresh_database

    url, schema = fresh_database(backend, workdir)
    now = "2026-12-01 00:00:00" + (".000000" if backend == "sqlite" else "+00")
    creator_rows = [
        (
            *(i, f"c{i:07d}", "", "", "UTC", "en", "", "", 1000, 0, "results"),
            *(names[int(tier_of[i])], names[int(tier_of[i])], "active", "", 1, now, now),
        )
        for i in range(1, creators + 1)
    ]
    # Creators whose tier changed since they were counted: the report corrects for them.
    rng = np.random.default_rng(11)
    for i in rng.choice(np.arange(1, creators + 1), moved, replace=False).tolist():
        row = creator_rows[i - 1]
        creator_rows[i - 1] = (*row[:11], names[(int(tier_of[i]) + 1) % 3], *row[12:])
        # (the tier is now another; counted_tier, the next field, still the old one)
    days = [(d, names[t], s, m, x, 0, 0) for d, t, s, m, x in rollups.days]
    masks = [(w, names[t], bits, n) for w, t, bits, n in rollups.masks]
    ledger = _ledger_rows(sample, rollups.probes) + _ledger_rows(rollups.probe_rows, None)
    ledger.sort()
    creator_cols = (
        "id, handle, display_name, email, timezone, languages, region, category, followers,"
        " revenue_30d, revenue_source, tier, counted_tier, status, manager, version,"
        " created_at, updated_at"
    )
    if backend == "sqlite":
        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        con.executemany(
            f"INSERT INTO creators ({creator_cols}) VALUES ({','.join('?' * 18)})",
            creator_rows,
        )
        con.executemany(
            "INSERT INTO ledger_tier_days VALUES (?,?,?,?,?,?,?)",
            [(str(r[0]), *r[1:]) for r in days],
        )
        con.executemany(
            "INSERT INTO ledger_week_masks VALUES (?,?,?,?)", [(str(r[0]), *r[1:]) for r in masks]
        )
        con.executemany(
            "INSERT INTO ledger_days (creator_id, day, sessions, live_minutes, diamonds,"
            " new_followers, match_sessions) VALUES (?,?,?,?,?,?,?)",
            ledger,
        )
        con.commit()
        con.execute("ANALYZE")
        con.close()
    else:
        import psycopg

        from databases import POSTGRES_URL

        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as pg:
            cur = pg.cursor()
            cur.execute(f"SET search_path TO {schema}")
            for table, columns, rows in (
                ("creators", creator_cols, creator_rows),
                (
                    "ledger_tier_days",
                    "day, tier, sessions, live_minutes, diamonds, new_followers, match_sessions",
                    days,
                ),
                ("ledger_week_masks", "week, tier, days, creators", masks),
                (
                    "ledger_days",
                    "creator_id, day, sessions, live_minutes, diamonds, new_followers,"
                    " match_sessions",
                    ledger,
                ),
            ):
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for start in range(0, len(rows), 100_000):
                        copy.write(
                            "".join(
                                "\t".join(map(str, r)) + "\n" for r in rows[start : start + 100_000]
                            )
                        )
            cur.execute("VACUUM ANALYZE")  # what autovacuum would have done by then
    return url, schema, len(ledger)


def app_backend(
    backend: str,
    workdir: Path,
    args: argparse.Namespace,
    tier_of: np.ndarray,
    rollups: Rollups,
    sample: list[dict[str, np.ndarray]],
) -> dict[str, float]:
    """Times the app's program report of the year and its creator report, and the old
    weeks query over `ledger_days` on the loaded weeks."""
    from sqlalchemy import text

    from databases import drop_schema
    from matchdesk.config import Settings
    from matchdesk.context import Matchdesk
    from matchdesk.results.reports import creator_report, program_report

    names = ["S", "A", "B"]
    t0 = time.perf_counter()
    url, schema, ledger_rows = load_app_database(
        backend, workdir, args.creators, tier_of, names, rollups, sample, args.moved
    )
    load = time.perf_counter() - t0
    md = Matchdesk.build(
        Settings(
            database_url=url, secret_key_file=workdir / "secret", program=workdir / "none.toml"
        )
    )
    assert [t.name for t in md.program.tiers] == names
    first, last = START, START + timedelta(days=7 * args.weeks - 1)
    try:
        with md.transaction() as session:
            program_s, document = timed(lambda: program_report(session, md.program, first, last))
            assert len(document["weeks"]) == args.weeks
            # Checked against the ledger over the loaded (complete) weeks.
            edge = START + timedelta(days=7 * len(sample) - 1)
            a, b = START + timedelta(days=2), edge
            mine = program_report(session, md.program, a, b)["weeks"]
            week = (
                "date_trunc('week', day)::date"
                if backend == "postgresql"
                else "date(day, 'weekday 0', '-6 days')"
            )
            sql = text(WEEKS_SQL.format(week=week, table="ledger_days", a=":a", b=":b"))
            scan, rows = timed(lambda: session.execute(sql, {"a": a, "b": b}).all())
            assert [
                (w["sessions"], w["live_minutes"], w["diamonds"], w["creators_live"]) for w in mine
            ] == [tuple(int(x) for x in r[1:]) for r in rows], (
                "the rollups disagree with the ledger"
            )
            probes = [f"c{int(i):07d}" for i in rollups.probes]

            def creators_run() -> None:
                for handle in probes:
                    creator_report(session, md.program, handle, first, last)

            per_creator, _ = timed(creators_run)
            sample_rows = int(
                session.scalar(
                    text("SELECT COUNT(*) FROM ledger_days WHERE day BETWEEN :a AND :b"),
                    {"a": a, "b": b},
                )
                or 0
            )
    finally:
        md.close()
        drop_schema(schema)
    return {
        "load": load,
        "ledger_rows": ledger_rows,
        "program": program_s,
        "scan": scan,
        "scan_rows": sample_rows,
        "creator": per_creator / len(probes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--sql-weeks", type=int, default=2)
    parser.add_argument("--moved", type=int, default=1000, help="creators whose tier changed")
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    print(
        f"Reports at scale: {args.creators:,} creators, {args.weeks} weeks, "
        f"{os.cpu_count()} cores (shared); targets (a year of 1,000,000 creators): program "
        "report <= 2 s, creator <= 50 ms"
    )
    tier_of = np.zeros(args.creators + 1, dtype=np.int8)
    probes = np.random.default_rng(1).choice(np.arange(1, args.creators + 1), 50, replace=False)
    rollups = Rollups(args.creators, probes.astype(np.int32))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = workdir / "ledger.parquet"
        t = time.perf_counter()
        rows, sessions, sample = write_parquet(path, args.creators, args.weeks, rollups)
        tier_of[1:] = np.random.default_rng(3).choice(
            np.array([0, 1, 2], dtype=np.int8), size=args.creators, p=[0.01, 0.14, 0.85]
        )  # the generator's tiers (same seed, first draw)
        print(
            f"generated {rows:,} ledger days ({sessions:,} sessions) as Parquet "
            f"({path.stat().st_size / 2**20:.0f} MB) and the rollups "
            f"({len(rollups.days):,} day rows, {len(rollups.masks):,} mask rows) "
            f"in {time.perf_counter() - t:.1f} s"
        )
        sample = sample[: args.sql_weeks]
        first, last = START, START + timedelta(days=7 * args.weeks - 1)
        figures: list[tuple[str, float, str]] = []
        found: dict[str, Any] = {"creators": args.creators, "weeks": args.weeks}
        duck, answer = timed(lambda: duckdb_weeks(path, first, last))
        figures.append(
            ("DuckDB over Parquet, all the weeks (weeks only)", duck, f"{len(answer)} weeks")
        )
        pol, answer = timed(lambda: polars_weeks(path, first, last))
        figures.append(
            ("polars over Parquet, all the weeks (weeks only)", pol, f"{len(answer)} weeks")
        )
        found["reference"] = {"DuckDB": duck, "polars": pol}
        found["reference_load"] = os.getloadavg()[0]
        found["backends"] = {}
        creator_times: list[tuple[str, float]] = []
        for backend in args.backends:
            got = app_backend(backend, workdir, args, tier_of, rollups, sample)
            print(
                f"  ({backend}: loaded {args.creators:,} creators, the rollups and "
                f"{got['ledger_rows']:,} ledger days in {got['load']:.0f} s)"
            )
            figures.append(
                (
                    f"{backend}: matchdesk program_report (rollups, {args.moved:,} moved)",
                    got["program"],
                    "weeks and tiers, exact",
                )
            )
            figures.append(
                (
                    f"{backend}: SQL over ledger_days (scaled from {got['scan_rows']:,} rows "
                    f"in {got['scan']:.2f} s)",
                    got["scan"] * rows / max(got["scan_rows"], 1),
                    "estimate, weeks only",
                )
            )
            creator_times.append((backend, got["creator"]))
            found["backends"][backend] = {
                "program": got["program"],
                "ledger_sql": got["scan"] * rows / max(got["scan_rows"], 1),
                "creator": got["creator"],
                "load": os.getloadavg()[0],
            }
        # The targets are for a year of a million creators; smaller runs only show figures.
        full = args.creators >= 1_000_000 and args.weeks >= 52
        span = "a year" if args.weeks == 52 else f"{args.weeks} weeks"
        print(f"{f'program report ({span})':<78} {'seconds':>8}  target")
        for label, seconds, note in figures:
            verdict = ("ok" if seconds <= 2 else "MISSED") if full else "-"
            print(f"{label:<78} {seconds:>8.3f}  {verdict}  {note}")
        for backend, seconds in creator_times:
            verdict = ("ok" if seconds <= 0.05 else "MISSED") if full else "-"
            label = f"matchdesk creator_report ({span}), {backend}"
            print(f"{label:<78} {seconds * 1000:>7.2f} ms  {verdict}")
    if args.json:
        args.json.write_text(json.dumps(found))


if __name__ == "__main__":
    main()

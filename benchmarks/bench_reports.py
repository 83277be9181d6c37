"""The program report at platform scale, engine against engine, and the creator report.

A year of a million creators' ledger (about 100 million sessions in about 69 million
creator-days) is generated directly with numpy, week by week (no sessions table: the
reports read the ledger), and written as a Parquet snapshot (one row group a week).
Then, side by side in one run, the program report's weeks query (sessions, LIVE
minutes, diamonds and distinct creators live per program week, one year):

- DuckDB over the Parquet snapshot,
- polars (lazy scan of the same snapshot),
- SQL over a ledger table on PostgreSQL and SQLite: a sample of `--sql-weeks` weeks is
  loaded (a year would take longer to load than this run may), the query is timed on it
  and scaled to the year by rows (a full scan is linear in rows);
- SQL over weekly rollups (week x tier sums and creators live, the table a rollup kept as
  results arrive would hold): the year's query on PostgreSQL and SQLite, plus the two
  partial edge weeks a range may touch, counted from the ledger.

And the creator report's ledger query (one creator's days over a year) on both backends.

    python benchmarks/bench_reports.py [--creators 1000000] [--weeks 52] [--sql-weeks 2]
"""

from __future__ import annotations

import argparse
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


def write_parquet(
    path: Path, creators: int, weeks: int
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
        for chunk in week_chunks(creators, weeks):
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


DDL = """CREATE TABLE {t} (creator_id INTEGER NOT NULL, day DATE NOT NULL, tier SMALLINT,
sessions INTEGER NOT NULL, live_minutes BIGINT NOT NULL, diamonds BIGINT NOT NULL,
PRIMARY KEY (creator_id, day))"""
MASK_DDL = """CREATE TABLE {t} (week DATE NOT NULL, tier SMALLINT NOT NULL,
days SMALLINT NOT NULL, creators BIGINT NOT NULL, PRIMARY KEY (week, tier, days))"""
DAY_DDL = """CREATE TABLE {t} (day DATE NOT NULL, tier SMALLINT NOT NULL, sessions BIGINT,
live_minutes BIGINT, diamonds BIGINT, PRIMARY KEY (day, tier))"""
ROLLUP_DDL = """CREATE TABLE {t} (week DATE NOT NULL, tier SMALLINT NOT NULL,
sessions BIGINT, live_minutes BIGINT, diamonds BIGINT, creators_live BIGINT,
PRIMARY KEY (week, tier))"""


def _iso(days: np.ndarray) -> list[str]:
    return [str(d) for d in days.astype("datetime64[D]")]


def sql_backend(
    name: str, sample: list[dict[str, np.ndarray]], weeks: int, creators: int, workdir: Path
) -> dict[str, float]:
    """Loads the sample weeks and rollups for the whole year; times the three queries."""
    rows = [
        list(
            zip(
                c["creator_id"].tolist(),
                _iso(c["day"]),
                c["tier"].tolist(),
                c["sessions"].tolist(),
                c["live_minutes"].tolist(),
                c["diamonds"].tolist(),
                strict=True,
            )
        )
        for c in sample
    ]
    flat = [r for part in rows for r in part]
    first = START
    last = START + timedelta(days=7 * len(sample) - 1)
    # The year's rollups: the sample's weekly figures repeated for every week.
    roll: list[tuple[Any, ...]] = []
    for w in range(weeks):
        src = sample[w % len(sample)]
        for t in (0, 1, 2):
            m = src["tier"] == t
            roll.append(
                (
                    str(START + timedelta(days=7 * w)),
                    t,
                    int(src["sessions"][m].sum()),
                    int(src["live_minutes"][m].sum()),
                    int(src["diamonds"][m].sum()),
                    int(np.unique(src["creator_id"][m]).size),
                )
            )
    # Day-mask rollups: per week, tier and set of weekdays live (a 7-bit mask), how many
    # creators; creators live over any days of a week = the sum over masks meeting them.
    # Per day and tier: the sums. Both additive, so any range is exact from rollups alone.
    masks: list[tuple[Any, ...]] = []
    days: list[tuple[Any, ...]] = []
    for w in range(weeks):
        src = sample[w % len(sample)]
        monday_ = START + timedelta(days=7 * w)
        weekday = (src["day"] - src["day"].min()).astype(np.int64)
        bits = np.zeros(creators + 1, dtype=np.int64)
        np.bitwise_or.at(bits, src["creator_id"], 1 << weekday)
        tier_of = np.zeros(creators + 1, dtype=np.int64)
        tier_of[src["creator_id"]] = src["tier"]
        live = np.flatnonzero(bits)
        keys, counts = np.unique(tier_of[live] * 128 + bits[live], return_counts=True)
        masks.extend(
            (str(monday_), int(k // 128), int(k % 128), int(c))
            for k, c in zip(keys, counts, strict=True)
        )
        for d in range(7):
            for t in (0, 1, 2):
                m = (weekday == d) & (src["tier"] == t)
                days.append(
                    (
                        str(monday_ + timedelta(days=d)),
                        t,
                        int(src["sessions"][m].sum()),
                        int(src["live_minutes"][m].sum()),
                        int(src["diamonds"][m].sum()),
                    )
                )
    if name == "sqlite":
        con: Any = sqlite3.connect(workdir / "ledger.db")
        cur = con.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        week = "date(day, 'weekday 0', '-6 days')"
        day_week = week
        q = "?"
    else:
        import psycopg

        con = psycopg.connect(POSTGRES_DSN, autocommit=True)
        cur = con.cursor()
        cur.execute(
            "DROP SCHEMA IF EXISTS bench_reports CASCADE; CREATE SCHEMA bench_reports;"
            "SET search_path TO bench_reports"
        )
        week = "date_trunc('week', day)::date"
        day_week = week
        q = "%s"
    cur.execute(DDL.format(t="ledger"))
    cur.execute(ROLLUP_DDL.format(t="rollup"))
    cur.execute(MASK_DDL.format(t="masks"))
    cur.execute(DAY_DDL.format(t="days"))
    t0 = time.perf_counter()
    if name == "sqlite":
        cur.executemany("INSERT INTO ledger VALUES (?,?,?,?,?,?)", sorted(flat))
        cur.executemany("INSERT INTO rollup VALUES (?,?,?,?,?,?)", roll)
        cur.executemany("INSERT INTO masks VALUES (?,?,?,?)", masks)
        cur.executemany("INSERT INTO days VALUES (?,?,?,?,?)", days)
        con.commit()
        cur.execute("ANALYZE")
    else:
        with cur.copy("COPY ledger FROM STDIN") as copy:
            for start in range(0, len(flat), 200_000):
                block = flat[start : start + 200_000]
                copy.write("".join("\t".join(map(str, r)) + "\n" for r in block))
        for table, data in (("rollup", roll), ("masks", masks), ("days", days)):
            with cur.copy(f"COPY {table} FROM STDIN") as copy:
                for r in data:
                    copy.write_row(r)
        cur.execute("ANALYZE")
    load = time.perf_counter() - t0
    sql = WEEKS_SQL.format(week=week, table="ledger", a=q, b=q)
    scan, _ = timed(lambda: cur.execute(sql, (str(first), str(last))).fetchall())
    edge = (str(first), str(first + timedelta(days=6)))
    edge_t, _ = timed(lambda: cur.execute(sql, edge).fetchall())
    year_end = str(START + timedelta(days=7 * weeks - 1))
    rollup_sql = (
        f"SELECT week, SUM(sessions), SUM(live_minutes), SUM(diamonds), "
        f"SUM(creators_live) FROM rollup WHERE week BETWEEN {q} AND {q} "
        f"GROUP BY week ORDER BY week"
    )
    roll_t, _ = timed(lambda: cur.execute(rollup_sql, (str(START), year_end)).fetchall())
    # A year from a Wednesday to a Tuesday: partial first and last weeks.
    a, b = START + timedelta(days=2), START + timedelta(days=7 * weeks - 6)
    day_sql = (
        f"SELECT {day_week} AS week, SUM(sessions), SUM(live_minutes), SUM(diamonds) "
        f"FROM days WHERE day BETWEEN {q} AND {q} GROUP BY 1 ORDER BY 1"
    )
    # the range's weekdays in each week: all seven but in the first and last week
    mask_sql = (
        f"SELECT week, SUM(creators) FROM masks WHERE week BETWEEN {q} AND {q} AND "
        f"(days & CASE WHEN week = {q} THEN {q} WHEN week = {q} THEN {q} ELSE 127 END)"
        f" <> 0 GROUP BY week ORDER BY week"
    )
    first_w, last_w = str(START), str(START + timedelta(days=7 * (weeks - 1)))
    first_bits, last_bits = 127 - 3, 3  # Wednesday..Sunday, Monday..Tuesday

    def from_masks() -> None:
        cur.execute(day_sql, (str(a), str(b))).fetchall()
        cur.execute(mask_sql, (first_w, last_w, first_w, first_bits, last_w, last_bits)).fetchall()

    mask_t, _ = timed(from_masks)
    # The masks agree with the ledger: creators live from Wednesday of the first week.
    check = (
        str(START),
        str(START + timedelta(days=6)),
        str(START),
        first_bits,
        str(START),
        first_bits,
    )
    from_ledger = cur.execute(sql, (str(START + timedelta(days=2)), check[1])).fetchall()
    assert [int(r[1]) for r in cur.execute(mask_sql, check).fetchall()] == [
        int(r[4]) for r in from_ledger
    ], "day-mask rollups disagree with the ledger"
    probe = [int(x) for x in np.random.default_rng(1).integers(1, creators, 50)]
    creator_sql = (
        f"SELECT COALESCE(SUM(sessions),0), COALESCE(SUM(live_minutes),0), "
        f"COALESCE(SUM(diamonds),0), COUNT(*) FROM ledger "
        f"WHERE creator_id = {q} AND day BETWEEN {q} AND {q}"
    )

    def creators_run() -> None:
        for cid in probe:
            cur.execute(creator_sql, (cid, str(START), year_end)).fetchall()

    per_creator, _ = timed(creators_run)
    if name == "postgresql":
        cur.execute("DROP SCHEMA bench_reports CASCADE")
    con.close()
    return {
        "load": load,
        "rows": len(flat),
        "scan": scan,
        "year_scan": scan * weeks / len(sample),
        "edge": edge_t,
        "rollup": roll_t,
        "rollup_total": roll_t + 2 * edge_t,
        "creator": per_creator / len(probe),
        "masks": mask_t,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--sql-weeks", type=int, default=2)
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"])
    args = parser.parse_args()
    print(
        f"Reports at scale: {args.creators:,} creators, {args.weeks} weeks, "
        f"{os.cpu_count()} cores (shared); targets: program report <= 2 s, creator <= 50 ms"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = workdir / "ledger.parquet"
        t = time.perf_counter()
        rows, sessions, sample = write_parquet(path, args.creators, args.weeks)
        print(
            f"generated {rows:,} ledger days ({sessions:,} sessions) as Parquet "
            f"({path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - t:.1f} s"
        )
        sample = sample[: args.sql_weeks]
        first, last = START, START + timedelta(days=7 * args.weeks - 1)
        figures: list[tuple[str, float, str]] = []
        duck, answer = timed(lambda: duckdb_weeks(path, first, last))
        figures.append(("DuckDB over Parquet, full year", duck, f"{len(answer)} weeks"))
        pol, answer = timed(lambda: polars_weeks(path, first, last))
        figures.append(("polars over Parquet, full year", pol, f"{len(answer)} weeks"))
        creator_times: list[tuple[str, float]] = []
        for backend in args.backends:
            got = sql_backend(backend, sample, args.weeks, args.creators, workdir)
            figures.append(
                (
                    f"{backend} SQL over ledger (scaled from {got['rows']:,} rows "
                    f"in {got['scan']:.2f} s)",
                    got["year_scan"],
                    "estimate",
                )
            )
            figures.append(
                (
                    f"{backend} SQL over weekly rollups + 2 edge weeks from ledger",
                    got["rollup_total"],
                    f"rollup {got['rollup'] * 1000:.1f} ms, edge week {got['edge']:.2f} s",
                )
            )
            figures.append(
                (
                    f"{backend} SQL over day and day-mask rollups (exact, any range)",
                    got["masks"],
                    "no ledger read",
                )
            )
            creator_times.append((backend, got["creator"]))
            print(f"  ({backend}: loaded {got['rows']:,} sample rows in {got['load']:.1f} s)")
        print(f"{'program report (weeks of a year)':<78} {'seconds':>8}  target")
        for label, seconds, note in figures:
            verdict = "ok" if seconds <= 2 else "MISSED"
            print(f"{label:<78} {seconds:>8.3f}  {verdict}  {note}")
        for backend, seconds in creator_times:
            verdict = "ok" if seconds <= 0.05 else "MISSED"
            print(
                f"creator report ledger query, {backend:<47} {seconds * 1000:>7.2f} ms  {verdict}"
            )


if __name__ == "__main__":
    main()

"""Results import speed and peak memory, on SQLite and PostgreSQL, side by side.

Target (issue 10): a 1,000,000-row results file imports in at most 30 s on PostgreSQL and
60 s on SQLite, peak memory under 1 GB. The roster (100,000 creators from the demo
generator) is imported first; then each results import runs in a fresh process, exactly
as `matchdesk results import` does (reading, validating, staging with COPY, the set-based
writes and the ledger upsert, commit). The same file is then imported again (every
session unchanged), and once more with a tenth of the sessions' figures changed.

    python benchmarks/bench_results.py [--rows 1000000] [--creators 100000]
        [--backends sqlite postgresql] [--runs first again changed] [--files DIR]
        [--all | --reports --pages] [--report-creators 1000000] [--report-weeks 52]
        [--page-creators 100000] [--page-seconds 10]

With `--reports` (or `--all`) bench_reports.py runs next (the program report of a year
over 1,000,000 creators beside DuckDB and polars, and the creator report), with `--pages`
(or `--all`) bench_report_pages.py (the dashboard and program report pages under 20 wrk
clients), each as its own process with its own output, on the same backends; then one
table sums up every figure of issue 10 beside its target, with the load average.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Only the standard library at the top: the measured process (`child`) loads what the
# command loads, not this script's file generator (numpy) nor its database setup (Alembic).

TARGET_SECONDS = {"postgresql": 30.0, "sqlite": 60.0}
TARGET_PEAK_MB = 1024
TARGET_ROWS = 1_000_000  # the targets are for a file of this many rows


PHASES: dict[str, float] = {}


def _timed(owner: Any, name: str, label: str) -> None:
    """Wrap `owner.name` so that its time adds up under `label` (the phases line)."""
    inner = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            PHASES[label] = PHASES.get(label, 0.0) + time.perf_counter() - started

    setattr(owner, name, timed)


def _time_phases() -> None:
    """Where an import's time goes (the wrapped steps are the import's own)."""
    from matchdesk.results import importing, rollups, service, staging

    for owner, name, label in (
        (service, "read_table", "read file"),
        (importing, "parse_columns", "check rows"),
        (staging.Stage, "add_rows", "stage (COPY)"),
        (staging.Stage, "resolve", "look up handles"),
        (staging.Stage, "check_duplicates", "duplicates"),
        (service, "membership_problems", "match membership"),
        (service, "link_by_overlap", "link by overlap"),
        (staging.Stage, "classify", "classify"),
        (service, "_audit_updates", "audit updates"),
        (rollups, "settle_tiers", "settle tiers"),
        (rollups, "_record_masks", "week masks"),
        (rollups, "add_to_days", "day rollups"),
        (rollups, "add_deltas", "ledger days"),
        (staging.Stage, "write_sessions", "write sessions"),
        (service, "complete_matches", "complete matches"),
        (service, "refresh_revenue", "revenue_30d"),
        (service, "figures_recorded", "creator stats"),
    ):
        if hasattr(owner, name):
            _timed(owner, name, label)


def _backend_pid(session: Any) -> int | None:
    """The PostgreSQL server process of this session (on this machine), or None."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _process_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system) a process has used so far, from /proc; None if unknown."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(kind: str, file: str, url: str) -> None:
    """Runs in the measured process: the CLI's own import path, then its peak memory."""
    os.environ["MATCHDESK_DATABASE_URL"] = url
    import matchdesk.cli  # noqa: F401  (what `matchdesk results import` loads first)
    from matchdesk.context import Matchdesk

    if kind == "results":
        _time_phases()

    md = Matchdesk.build()
    data = Path(file).read_bytes()
    started = time.perf_counter()
    cpu_started = time.process_time()
    counts: Any
    server_cpu = None
    with md.transaction() as session:
        backend_pid = _backend_pid(session)
        if kind == "roster":
            from matchdesk.roster.service import import_roster

            counts = import_roster(session, md.program, data, Path(file).name)
        else:
            from matchdesk.results.service import import_results

            counts = import_results(session, md.program, data, Path(file).name, actor="bench")
        server_cpu = _process_cpu(backend_pid)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "created": counts.created,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "import_s": seconds,
                "import_cpu_s": cpu,
                "process_cpu_s": time.process_time(),
                "server_cpu_s": server_cpu,
                "peak_bytes": peak,
                "phases": PHASES,
            }
        )
    )


def results_file(path: Path, handles: list[str], rows: int, seed: int, changed: float) -> None:
    """`rows` sessions of creators drawn at random, starts spread over 8 weeks (unique per
    creator), written as CSV; `changed`: the share whose diamonds differ (for the update
    run, same seed)."""
    import numpy as np

    from matchdesk.results.records import COLUMNS

    rng = np.random.default_rng(seed)
    creators = rng.integers(0, len(handles), rows)
    # A distinct start per (creator, slot): the row index keeps every key unique.
    base = datetime(2026, 1, 5, tzinfo=UTC)
    minutes = rng.integers(0, 56 * 24 * 60, rows)
    durations = rng.integers(15, 240, rows)
    diamonds = rng.gamma(1.2, 400, rows).astype(np.int64)
    bump = np.random.default_rng(seed + 1).random(rows) < changed
    diamonds = diamonds + bump.astype(np.int64)
    viewers = rng.integers(0, 5000, rows)
    followers = rng.integers(0, 50, rows)
    with path.open("w") as out:
        out.write(",".join(COLUMNS) + "\n")
        for i in range(rows):
            start = base + timedelta(minutes=int(minutes[i]), seconds=i % 60, microseconds=i)
            out.write(
                f"{handles[creators[i]]},{start.strftime('%Y-%m-%dT%H:%M:%S.%fZ')},"
                f"{durations[i]},{diamonds[i]},{viewers[i]},{followers[i]},,\n"
            )


def run_child(kind: str, file: Path, url: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(file), url],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{kind} import failed:\n{result.stderr[-3000:]}")
    return wall, json.loads(result.stdout.strip().splitlines()[-1])


def run_script(name: str, options: list[str], workdir: Path) -> dict[str, Any] | None:
    """Another benchmark of this directory as its own process (its output passes
    through), and the figures it wrote with `--json`; None if it failed."""
    figures = workdir / f"{Path(name).stem}.json"
    command = [sys.executable, str(Path(__file__).with_name(name)), *options]
    print(f"\n$ python benchmarks/{name} {' '.join(options)}", flush=True)
    done = subprocess.run([*command, "--json", str(figures)], check=False)
    if done.returncode != 0 or not figures.exists():
        print(f"{name} failed (exit status {done.returncode})", flush=True)
        return None
    return dict(json.loads(figures.read_text()))


SMALLER = "(smaller than the target's size)"
NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


def verdict(values: dict[str, float | None], limits: dict[str, float], full: bool) -> str:
    """met / MISSED (naming the backends that missed) against each backend's limit; at a
    size smaller than the target's, no verdict."""
    measured = {b: v for b, v in values.items() if v is not None}
    if not measured:
        return "not run"
    if not full:
        return SMALLER
    missed = [NAMES.get(b, b) for b, v in measured.items() if v > limits[b]]
    if not missed:
        return "met"
    return "MISSED" if len(missed) == len(measured) else f"MISSED ({', '.join(missed)})"


def _loads(*loads: float | None) -> str:
    known = [x for x in loads if x is not None]
    if not known:
        return "-"
    low, high = min(known), max(known)
    return f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}-{high:.1f}"


def _seconds(value: float) -> str:
    return (
        f"{value:.2f} s" if value < 10 else f"{value:.1f} s" if value < 100 else f"{value:,.0f} s"
    )


def summary(
    args: argparse.Namespace,
    imports: dict[str, dict[str, float]],
    reports: dict[str, Any] | None,
    pages: dict[str, Any] | None,
) -> None:
    """One table: every figure of issue 10, PostgreSQL and SQLite side by side, the
    reference engines where they apply, the target and whether it was met."""
    backends = [b for b in ("postgresql", "sqlite") if b in args.backends]
    rows: list[list[str]] = []

    def row(
        figure: str,
        values: dict[str, float | None],
        shown: dict[str, str],
        reference: str,
        target: str,
        outcome: str,
        loads: list[float | None],
    ) -> None:
        cells = [shown.get(b, "-") if values.get(b) is not None else "-" for b in backends]
        rows.append([figure, *cells, reference, target, outcome, _loads(*loads)])

    full = args.rows >= TARGET_ROWS
    first = {b: imports.get(b, {}).get("first") for b in backends}
    row(
        f"results import, {args.rows:,} rows (first, whole command)",
        first,
        {b: f"{v:.1f} s" for b, v in first.items() if v is not None},
        "-",
        " / ".join(f"<= {TARGET_SECONDS[b]:.0f} s {NAMES[b]}" for b in backends),
        verdict(first, TARGET_SECONDS, full),
        [imports.get(b, {}).get("first_load") for b in backends],
    )
    peak = {b: imports.get(b, {}).get("peak_mb") for b in backends}
    row(
        f"results import peak memory ({', '.join(args.runs)})",
        peak,
        {b: f"{v:,.0f} MB" for b, v in peak.items() if v is not None},
        "-",
        f"< {TARGET_PEAK_MB:,} MB",
        verdict(peak, dict.fromkeys(backends, TARGET_PEAK_MB - 1e-9), full),
        [imports.get(b, {}).get("load") for b in backends],
    )
    if args.reports:
        got = (reports or {}).get("backends", {})
        full = bool(reports) and args.report_creators >= 1_000_000 and args.report_weeks >= 52
        span = "a year" if args.report_weeks == 52 else f"{args.report_weeks} weeks"
        size = f"{span}, {args.report_creators:,} creators"
        loads = [got.get(b, {}).get("load") for b in backends]
        program = {b: got.get(b, {}).get("program") for b in backends}
        reference = (reports or {}).get("reference", {})
        row(
            f"program report ({size})",
            program,
            {b: _seconds(v) for b, v in program.items() if v is not None},
            ", ".join(f"{k} {_seconds(v)}" for k, v in reference.items()) or "-",
            "<= 2 s",
            verdict(program, dict.fromkeys(backends, 2.0), full) if reports else "failed",
            [*loads, (reports or {}).get("reference_load")],
        )
        scan = {b: got.get(b, {}).get("ledger_sql") for b in backends}
        row(
            "  candidate: SQL over ledger_days (scaled)",
            scan,
            {b: f"~{_seconds(v)}" for b, v in scan.items() if v is not None},
            "-",
            "(beside it)",
            "-",
            loads,
        )
        creator = {b: got.get(b, {}).get("creator") for b in backends}
        row(
            f"creator report ({span})",
            creator,
            {b: f"{v * 1000:.1f} ms" for b, v in creator.items() if v is not None},
            "-",
            "<= 50 ms",
            verdict(creator, dict.fromkeys(backends, 0.05), full) if reports else "failed",
            loads,
        )
    if args.pages:
        full = bool(pages) and args.page_creators >= 100_000
        for label in ("dashboard", "program report"):
            got = (pages or {}).get("pages", {}).get(label, {})
            p95 = {b: got.get(b, {}).get("p95") for b in backends}
            # A run with errors, or no request answered, misses whatever its p95.
            judged = {
                b: (v if got[b]["errors"] == 0 and got[b]["requests"] > 0 else float("inf"))
                for b, v in p95.items()
                if v is not None
            }
            shown = {
                b: f"{v:,.0f} ms" + (f" ({got[b]['errors']} errors)" if got[b]["errors"] else "")
                for b, v in p95.items()
                if v is not None
            }
            row(
                f"{label} page p95, 20 clients ({args.page_creators:,} creators)",
                p95,
                shown,
                "-",
                "<= 300 ms",
                verdict(judged, dict.fromkeys(backends, 300.0), full) if pages else "failed",
                [got.get(b, {}).get("load") for b in backends],
            )
    header = ["figure", *(NAMES[b] for b in backends), "reference engines", "target", "verdict"]
    header.append("load")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(
        f"\nIssue 10's figures ({os.cpu_count()} cores, load average now "
        f"{os.getloadavg()[0]:.1f}; the load column: while each was measured)"
    )
    for cells in [header, ["-" * w for w in widths], *rows]:
        print(" | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument(
        "--runs",
        nargs="+",
        choices=["first", "again", "changed"],
        default=["first", "again", "changed"],
        help="which imports to run (each after the ones before it in this list)",
    )
    parser.add_argument(
        "--files",
        type=Path,
        help="keep the generated files in this directory and reuse them when present "
        "(same --rows and --creators)",
    )
    parser.add_argument(
        "--all", action="store_true", help="the import, then --reports and --pages: every figure"
    )
    parser.add_argument(
        "--reports", action="store_true", help="then bench_reports.py (program, creator report)"
    )
    parser.add_argument(
        "--pages", action="store_true", help="then bench_report_pages.py (the pages under wrk)"
    )
    parser.add_argument("--report-creators", type=int, default=1_000_000)
    parser.add_argument("--report-weeks", type=int, default=52)
    parser.add_argument("--page-creators", type=int, default=100_000)
    parser.add_argument("--page-seconds", type=int, default=10)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    args.reports = args.reports or args.all
    args.pages = args.pages or args.all
    from databases import drop_schema, fresh_database
    from matchdesk.roster.demo import generate_creators
    from matchdesk.roster.records import COLUMNS as ROSTER_COLUMNS
    from matchdesk.roster.service import record_row
    from matchdesk.roster.tables import write_csv

    print(
        f"Results import benchmark ({os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}): {args.rows:,} sessions of {args.creators:,} creators; "
        f"targets {TARGET_SECONDS['postgresql']:.0f} s PostgreSQL, "
        f"{TARGET_SECONDS['sqlite']:.0f} s SQLite, < {TARGET_PEAK_MB} MB peak"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        files = args.files or workdir
        files.mkdir(parents=True, exist_ok=True)
        tag = f"{args.rows}-{args.creators}"
        roster = files / f"roster-{tag}.csv"
        first = files / f"results-{tag}.csv"
        changed = files / f"results-changed-{tag}.csv"
        made = time.perf_counter()
        if not (roster.exists() and first.exists() and changed.exists()):
            records = generate_creators(args.creators, seed=42)
            handles = [r.handle for r in records]
            roster.write_bytes(write_csv(list(ROSTER_COLUMNS), [record_row(r) for r in records]))
            del records
            results_file(first, handles, args.rows, seed=7, changed=0.0)
            results_file(changed, handles, args.rows, seed=7, changed=0.1)
        print(
            f"files ready in {time.perf_counter() - made:.1f} s "
            f"({first.stat().st_size / 2**20:.0f} MB each)"
        )
        print(
            f"{'backend':<11} {'run':<10} {'command s':>9} {'import s':>9} {'peak MB':>8} "
            f"{'new':>9} {'updated':>9} {'unchanged':>9}  target"
        )
        imports: dict[str, dict[str, float]] = {}
        for backend in args.backends:
            mine = imports.setdefault(backend, {})
            url, schema = fresh_database(backend, workdir)
            try:
                run_child("roster", roster, url)
                chosen = {"first": first, "again": first, "changed": changed}
                for label, file in ((run, chosen[run]) for run in args.runs):
                    wall, figures = run_child("results", file, url)
                    peak_mb = figures["peak_bytes"] / 2**20
                    mine["peak_mb"] = max(mine.get("peak_mb", 0.0), peak_mb)
                    mine["load"] = os.getloadavg()[0]
                    if label == "first":
                        mine["first"], mine["first_load"] = wall, mine["load"]
                    verdict = ""
                    if label == "first" and args.rows < TARGET_ROWS:
                        verdict = f"(the targets are for {TARGET_ROWS:,} rows)"
                    elif label == "first":
                        within = wall <= TARGET_SECONDS[backend] and peak_mb < TARGET_PEAK_MB
                        verdict = (
                            f"{'ok' if within else 'MISSED'} "
                            f"(<= {TARGET_SECONDS[backend]:.0f} s, < {TARGET_PEAK_MB} MB)"
                        )
                    print(
                        f"{backend:<11} {label:<10} {wall:>9.2f} {figures['import_s']:>9.2f} "
                        f"{peak_mb:>8.0f} {figures['created']:>9,} {figures['updated']:>9,} "
                        f"{figures['unchanged']:>9,}  {verdict}",
                        flush=True,
                    )
                    server = figures.get("server_cpu_s")
                    print(
                        f"    CPU s: import (Python) {figures['import_cpu_s']:.1f}, whole "
                        f"process {figures['process_cpu_s']:.1f}"
                        + (f", PostgreSQL backend {server:.1f}" if server is not None else ""),
                        flush=True,
                    )
                    print(
                        "    phases (s): "
                        + ", ".join(f"{k} {v:.1f}" for k, v in figures["phases"].items())
                        + f"; load average {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
            finally:
                drop_schema(schema)
        if not (args.reports or args.pages):
            return
        reports = pages = None
        backends = ["--backends", *args.backends]
        if args.reports:
            reports = run_script(
                "bench_reports.py",
                [
                    *("--creators", str(args.report_creators)),
                    *("--weeks", str(args.report_weeks), *backends),
                ],
                workdir,
            )
        if args.pages:
            pages = run_script(
                "bench_report_pages.py",
                [
                    *("--creators", str(args.page_creators)),
                    *("--seconds", str(args.page_seconds), *backends),
                ],
                workdir,
            )
        summary(args, imports, reports, pages)


if __name__ == "__main__":
    main()

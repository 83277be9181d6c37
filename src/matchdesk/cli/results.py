"""`matchdesk results ...`: LIVE session results (docs/formats.md, section 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID

from matchdesk.cli.support import _app, _progress, out
from matchdesk.errors import InvalidInput

results_app = typer.Typer(help="LIVE session results and the revenue ledger.", no_args_is_help=True)
CLI_ACTOR = "cli"


@results_app.command("import")
def results_import(
    file: Annotated[
        Path, typer.Argument(help="A results file, .csv or .xlsx (docs/formats.md, section 4).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate only; write nothing.")
    ] = False,
) -> None:
    """Import a session results file: all rows or none."""
    from matchdesk.results.service import import_results

    if not file.is_file():
        raise InvalidInput(f"{file}: no such file")
    md = _app()
    data = file.read_bytes()
    with _progress("Importing") as progress, md.transaction() as session:
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done, total=total)

        result = import_results(
            session,
            md.program,
            data,
            file.name,
            actor=CLI_ACTOR,
            dry_run=dry_run,
            progress=report,
        )
    summary = (
        f"{result.total} sessions from {file.name}: {result.created} new, "
        f"{result.updated} updated, {result.unchanged} unchanged; "
        f"{result.linked} linked to a match"
    )
    if dry_run:
        out.print(f"Would import {summary}.", highlight=False)
    else:
        out.print(
            f"Imported {summary}; {result.matches_completed} matches completed.",
            highlight=False,
        )


@results_app.command("list")
def results_list(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many.")] = 20,
) -> None:
    """The latest imported sessions, tab-separated (newest import first)."""
    from matchdesk.results.service import latest_sessions
    from matchdesk.results.staging import iso

    md = _app()
    with md.transaction() as session:
        rows = latest_sessions(session, limit)
    print("\t".join(("handle", "started_at", "day", "minutes", "diamonds", "match", "outcome")))
    for row in rows:
        cells = (
            row.handle,
            iso(row.started_at),
            row.day.isoformat(),
            str(row.duration_minutes),
            str(row.diamonds),
            "" if row.match_id is None else str(row.match_id),
            row.outcome or "",
        )
        print("\t".join(cells))


@results_app.command("refresh")
def results_refresh(
    today: Annotated[
        str | None,
        typer.Option("--today", help="The program day to refresh for (YYYY-MM-DD; default today)."),
    ] = None,
) -> None:
    """Refresh every results-sourced revenue_30d from the ledger's last 30 program days
    (what the worker's daily job does; for cron, or with no worker)."""
    from datetime import date

    from matchdesk.results.daily import refresh

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        raise InvalidInput(f"--today: {today!r} is not a date (YYYY-MM-DD)") from None
    md = _app()
    with _progress("Refreshing") as progress, md.transaction() as session:
        task = progress.add_task("revenue_30d from the ledger", total=1)
        done = refresh(session, md.program, day)
        progress.update(task, completed=1)
    out.print(
        f"Refreshed for {done.day.isoformat()}: {done.revenue_changed} creators' revenue_30d "
        f"changed, {done.tiers_settled} creators' report figures moved to their tier now.",
        highlight=False,
    )

"""`matchdesk creators ...` and `matchdesk demo`: the roster (docs/formats.md, sections 1 and 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID

from matchdesk.cli.support import _app, _progress, out
from matchdesk.errors import InvalidInput, MatchdeskError

creators_app = typer.Typer(help="The roster of creators.", no_args_is_help=True)


@creators_app.command("import")
def creators_import(
    file: Annotated[
        Path, typer.Argument(help="A roster file, .csv or .xlsx (docs/formats.md, section 1).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate only; write nothing.")
    ] = False,
) -> None:
    """Import a roster file: all rows or none."""
    from matchdesk.roster.service import import_roster

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

        result = import_roster(
            session, md.program, data, file.name, dry_run=dry_run, progress=report
        )
    verb = "Would import" if dry_run else "Imported"
    out.print(
        f"{verb} {result.total} creators from {file.name}: {result.created} new, "
        f"{result.updated} updated, {result.unchanged} unchanged."
    )


@creators_app.command("export")
def creators_export(
    file: Annotated[Path, typer.Argument(help="Where to write: .csv or .xlsx.")],
) -> None:
    """Write the roster in the roster file format."""
    from matchdesk.roster.service import export_roster

    if file.suffix.lower() not in (".csv", ".xlsx"):
        raise InvalidInput(f"{file}: the file name must end in .csv or .xlsx")
    md = _app()
    with md.transaction() as session:
        data = export_roster(session, file.name)
    file.write_bytes(data)
    out.print(f"Wrote {file}.")


@creators_app.command("link")
def creators_link(
    handle: Annotated[str, typer.Argument(help="The creator's handle (@ optional).")],
) -> None:
    """Print a signed portal link for one creator (valid MATCHDESK_PORTAL_LINK_DAYS days)."""
    from matchdesk.audit import record
    from matchdesk.portal.links import issue_portal_link

    md = _app()
    with md.transaction() as session:
        link = issue_portal_link(session, md.settings, handle)
        record(session, "cli", "portal_link_issued", "creator", link.handle)
    out.print(f"Portal link for @{link.handle}, valid until {link.expires_at:%Y-%m-%d %H:%M} UTC:")
    print(link.url)


def demo(
    creators: Annotated[int, typer.Option(min=2, max=2_000_000, help="How many creators.")] = 200,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same program.")
    ] = 1,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing (and succeed) if there are creators.")
    ] = False,
    weeks: Annotated[
        int,
        typer.Option(
            min=0, max=26, help="Weeks of history: past rounds played, with session results."
        ),
    ] = 6,
) -> None:
    """Fill an empty database with a realistic synthetic program."""
    from matchdesk.results.demo import fill_history
    from matchdesk.roster.demo import generate_creators
    from matchdesk.roster.service import count_creators, save_records
    from matchdesk.roster.tiers import tier_counts
    from matchdesk.rounds.demo import build_demo_round

    md = _app()
    with md.transaction() as session:
        existing = count_creators(session)
        if existing:
            if if_empty:
                out.print(f"The database already has {existing} creators; no demo added.")
                return
            raise MatchdeskError(
                f"The database already has {existing} creators; demo fills only an empty database."
            )
        records = generate_creators(creators, seed)
        with _progress("Demo") as progress:
            task = progress.add_task("Saving creators", total=len(records))
            save_records(
                session,
                md.program,
                records,
                lambda _p, done, _t: progress.update(task, completed=done),
            )
        counts = tier_counts(session)
    summary = ", ".join(f"{tier or 'no tier'}: {n}" for tier, n in sorted(counts.items(), key=str))
    out.print(f"Demo program: {creators} creators (seed {seed}); tiers {summary}.")
    if weeks:
        with md.transaction() as session:
            history = fill_history(session, md.program, weeks=weeks, seed=seed)
        out.print(
            f"Demo history: {len(history.rounds)} past weekly rounds played, "
            f"{history.sessions:,} LIVE sessions ({history.match_sessions:,} in matches, "
            f"with a planted match effect of {history.effect:+.0%} diamonds a minute).",
            highlight=False,
        )
    with md.transaction() as session:
        built = build_demo_round(session, md.program)
    if built is not None:
        out.print(
            f"Demo round {built.id}: weekly, from {built.period_start:%Y-%m-%d}, "
            f"{built.statistics['matched'] // 2} matches (a draft: review and publish it).",
            highlight=False,
        )
    from matchdesk.checkins.demo import MANAGERS, add_demo_managers

    with md.transaction() as session:
        managed = add_demo_managers(session)
    names = ", ".join(m[1] for m in MANAGERS)
    out.print(
        f"Demo managers: {names}, {managed} creators shared among them (Check-ins).",
        highlight=False,
    )

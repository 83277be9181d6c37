"""The `matchdesk` command line (SPEC section 3). Commands parse, call a service, print.

Exit codes: 0 success, 2 invalid input (reasons on stderr), 1 any other failure.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import TaskID

from matchdesk.cli_rounds import rounds_app
from matchdesk.cli_support import _app, _progress, err, out
from matchdesk.errors import InvalidInput, MatchdeskError, NotFound

app = typer.Typer(help="Run a creator LIVE match program.", no_args_is_help=True)
creators_app = typer.Typer(help="The roster of creators.", no_args_is_help=True)
app.add_typer(creators_app, name="creators")
users_app = typer.Typer(help="Operators: the ops team's accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
tokens_app = typer.Typer(help="API tokens for integrations.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
app.add_typer(rounds_app, name="rounds")


@app.command()
def init() -> None:
    """Create the database, or migrate it to the newest schema."""
    from matchdesk.migrate import upgrade
    from matchdesk.roster.tiers import ensure_tiers_current

    md = _app()
    upgrade(md.engine)
    with md.transaction() as session:
        ensure_tiers_current(session, md.program)
    out.print(f"Database ready: {md.engine.url.render_as_string(hide_password=True)}")


@creators_app.command("import")
def creators_import(
    file: Annotated[Path, typer.Argument(help="A roster file, .csv or .xlsx (SPEC section 1).")],
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


@app.command()
def demo(
    creators: Annotated[int, typer.Option(min=2, max=2_000_000, help="How many creators.")] = 200,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same program.")
    ] = 1,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing (and succeed) if there are creators.")
    ] = False,
) -> None:
    """Fill an empty database with a realistic synthetic program."""
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
    with md.transaction() as session:
        built = build_demo_round(session, md.program)
    if built is not None:
        out.print(
            f"Demo round {built.id}: weekly, from {built.period_start:%Y-%m-%d}, "
            f"{built.statistics['matched'] // 2} matches (a draft: review and publish it).",
            highlight=False,
        )


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The operator's e-mail (their sign-in name).")],
    role: Annotated[str, typer.Option(help="admin, manager or viewer.")] = "manager",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str | None, typer.Option(help="At least 10 characters; asked for when left out.")
    ] = None,
) -> None:
    """Add an operator."""
    from matchdesk.accounts.service import create_operator

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    md = _app()
    with md.transaction() as session:
        operator = create_operator(session, email, password, role, name)
    out.print(f"Operator {operator.email} ({operator.role}) created.")


@users_app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Argument(help="The operator's e-mail.")],
    password: Annotated[str | None, typer.Option(help="Asked for when left out.")] = None,
) -> None:
    """Set an operator's password (and lift a sign-in lock)."""
    from matchdesk.accounts.service import find_operator, set_password

    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    md = _app()
    with md.transaction() as session:
        set_password(session, find_operator(session, email), password)
    out.print(f"Password of {email.strip().lower()} changed.")


@users_app.command("bootstrap")
def users_bootstrap() -> None:
    """Create a first admin with a random password if there is no operator yet."""
    import secrets

    from matchdesk.accounts.service import count_operators, create_operator

    md = _app()
    with md.transaction() as session:
        if count_operators(session):
            out.print("Sign in with your operator account (add one: matchdesk users create EMAIL).")
            return
        password = secrets.token_urlsafe(12)
        create_operator(session, "admin@example.com", password, "admin", "Admin")
    out.print(
        f"First admin created. Sign in at {md.settings.base_url}/login as "
        f"[bold]admin@example.com[/] with password [bold]{password}[/] "
        "(change it: matchdesk users set-password admin@example.com)."
    )


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    role: Annotated[str, typer.Option(help="admin, manager or viewer.")] = "viewer",
) -> None:
    """Create an API token; it is printed once, alone on the last line."""
    from matchdesk.accounts.service import create_token

    md = _app()
    with md.transaction() as session:
        issued = create_token(session, name, role)
    out.print(f"Token {issued.record.prefix}… ({role}) created; keep it secret:")
    print(issued.token)


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[int, typer.Argument(help="The token's id.")]) -> None:
    """Revoke an API token."""
    from matchdesk.accounts.service import revoke_token

    md = _app()
    with md.transaction() as session:
        token = revoke_token(session, token_id)
    out.print(f"Token {token.prefix}… revoked.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker/--no-worker",
            help="Also deliver messages and run jobs in this process (on by default, so one "
            "command runs everything; turn it off when `matchdesk worker` runs separately).",
        ),
    ] = True,
) -> None:
    """Serve the web app."""
    import threading

    import uvicorn

    from matchdesk.jobs.catalog import default_registry
    from matchdesk.roster.tiers import ensure_tiers_current
    from matchdesk.web.app import create_app
    from matchdesk.worker import run_worker

    md = _app()
    with md.transaction() as session:
        ensure_tiers_current(session, md.program)
    host, port = host or md.settings.host, port or md.settings.port
    stop = threading.Event()
    if with_worker:
        threading.Thread(
            target=run_worker,
            kwargs={"md": md, "registry": default_registry(), "stop": stop},
            name="matchdesk-worker",
            daemon=True,
        ).start()
    if workers > 1:  # each worker builds its own app from the same environment
        md.settings.signing_key()  # made once here, before the workers race to create it
        uvicorn.run(
            "matchdesk.web.factory:app", factory=True, host=host, port=port, workers=workers
        )
    else:
        uvicorn.run(create_app(md), host=host, port=port)
    stop.set()


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due and run queued jobs, then exit.")
    ] = False,
    worker_id: Annotated[
        str | None, typer.Option(help="A fixed id, so a restarted worker takes back its claims.")
    ] = None,
) -> None:
    """Deliver outgoing messages and run background jobs until stopped (Ctrl-C)."""
    from matchdesk.jobs.catalog import default_registry
    from matchdesk.worker import run_worker

    md = _app()
    out.print("Worker started; Ctrl-C stops it after the current message or job.")
    run_worker(md, once=once, worker_id=worker_id, registry=default_registry())


def main() -> None:
    """Entry point: renders domain errors in one place, with the documented exit codes."""
    try:
        app()  # usage errors exit with 2 inside; domain errors come out here
    except (InvalidInput, NotFound) as exc:  # the user's input is wrong: exit 2
        err.print(f"[bold red]Error:[/] {escape(exc.message)}", highlight=False)
        for detail in exc.details:
            err.print(f"  {detail}", highlight=False, markup=False)
        sys.exit(2)
    except MatchdeskError as exc:
        err.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("Aborted.")
        sys.exit(1)
    except Exception as exc:
        err.print(f"[bold red]Error:[/] {type(exc).__name__}: {escape(str(exc))}", highlight=False)
        sys.exit(1)

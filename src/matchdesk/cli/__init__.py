"""The `matchdesk` command line (docs/formats.md, section 3): a module per area, each a Typer app.
Commands parse, call a service, print.

Exit codes: 0 success, 2 invalid input (reasons on stderr), 1 any other failure.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from matchdesk.cli import system
from matchdesk.cli.campaigns import campaigns_app
from matchdesk.cli.checkins import checkins_app, users_hours
from matchdesk.cli.creators import creators_app, demo
from matchdesk.cli.newsletters import newsletters_app
from matchdesk.cli.reports import reports_app
from matchdesk.cli.results import results_app
from matchdesk.cli.rounds import rounds_app
from matchdesk.cli.segments import segments_app
from matchdesk.cli.support import err
from matchdesk.cli.tiers import tiers_app
from matchdesk.cli.users import tokens_app, users_app
from matchdesk.errors import InvalidInput, MatchdeskError, NotFound

# Plain help: Typer's rich help shows every flag as taking a value (`--dry-run <bool>`).
app = typer.Typer(
    help="Run a creator LIVE match program.", no_args_is_help=True, rich_markup_mode=None
)
app.command()(system.init)
app.add_typer(creators_app, name="creators")
app.command()(demo)
users_app.command("hours")(users_hours)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(rounds_app, name="rounds")
app.add_typer(results_app, name="results")
app.add_typer(reports_app, name="reports")
app.add_typer(tiers_app, name="tiers")
app.add_typer(checkins_app, name="checkins")
app.add_typer(segments_app, name="segments")
app.add_typer(newsletters_app, name="newsletters")
app.add_typer(campaigns_app, name="campaigns")
app.command()(system.serve)
app.command()(system.worker)


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

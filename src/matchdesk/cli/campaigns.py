"""`matchdesk campaigns create FILE.toml` and `matchdesk campaigns leaderboard ID` (SPEC 8)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from matchdesk.cli.support import _app, out

campaigns_app = typer.Typer(
    help="Campaigns and leaderboards (SPEC section 8).", no_args_is_help=True
)


@campaigns_app.command("create")
def campaigns_create(
    path: Annotated[Path, typer.Argument(help="The campaign file (TOML).")],
) -> None:
    """A campaign from its file; prints its id alone on the last line."""
    from matchdesk.outreach.campaigns import create_campaign, read_campaign_file
    from matchdesk.rounds.period import program_today

    spec = read_campaign_file(path)
    md = _app()
    with md.transaction() as session:
        campaign = create_campaign(
            session, spec, today=program_today(md.program.program.timezone), actor="cli"
        )
        campaign_id = campaign.id
    out.print(f"Campaign {spec.name!r} created ({spec.starts} to {spec.ends}).", markup=False)
    print(campaign_id)


@campaigns_app.command("leaderboard")
def campaigns_leaderboard(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON document.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the standings as CSV.")] = False,
) -> None:
    """The standings: `[{"rank", "handle", "league", "points"}]`, ranked within each
    league by points (descending), then by handle."""
    from matchdesk.outreach.campaigns import leaderboard
    from matchdesk.rounds.period import program_today

    md = _app()
    with md.transaction() as session:
        standings = leaderboard(
            session, campaign_id, today=program_today(md.program.program.timezone)
        )
    if as_json:
        print(json.dumps([s.as_json() for s in standings]))
        return
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["league", "rank", "handle", "points"])
        for s in standings:
            writer.writerow([s.league, s.rank, s.handle, s.points])
        return
    for s in standings:
        out.print(f"{s.league:12} {s.rank:>4}  {s.handle:24} {s.points:>12,}", markup=False)

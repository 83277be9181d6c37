"""`matchdesk tiers review [--apply] [--handle H ...] [--json]`: the tier review."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from matchdesk.cli.support import _app
from matchdesk.errors import InvalidInput

tiers_app = typer.Typer(help="The tier review of creators with results.", no_args_is_help=True)


def _as_of(value: str | None, timezone: str) -> date:
    from matchdesk.rounds.period import program_today

    if value is None:
        return program_today(timezone)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--as-of: {value!r} is not a date (YYYY-MM-DD)") from None


@tiers_app.command("review")
def tiers_review(
    apply: Annotated[
        bool, typer.Option("--apply", help="Apply the proposed moves (all, or those of --handle).")
    ] = False,
    handles: Annotated[
        list[str] | None,
        typer.Option("--handle", help="With --apply: apply this creator's move only (repeat)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON document.")] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Review as of this program date (default today).")
    ] = None,
) -> None:
    """The creators whose revenue has met another tier's minimums for `tier_review_weeks`
    consecutive complete program weeks, with the figures; --apply moves them."""
    from matchdesk.results.tier_review import apply_moves, review

    if handles and not apply:
        raise InvalidInput("--handle needs --apply")
    md = _app()
    today = _as_of(as_of, md.program.program.timezone)
    with md.transaction() as session:
        if apply:
            proposals = apply_moves(
                session, md.program, today, actor="cli", handles=handles or None
            )
        else:
            proposals = review(session, md.program, today)
    if as_json:
        document = {
            "as_of": today.isoformat(),
            "weeks": md.program.program.tier_review_weeks,
            "applied": apply,
            "moves": [p.figures() for p in proposals],
        }
        print(json.dumps(document, ensure_ascii=False))
        return
    verb = "Applied" if apply else "Proposed"
    print(f"{verb} {len(proposals)} tier move{'' if len(proposals) == 1 else 's'} as of {today}")
    for p in proposals:
        weeks = ", ".join(f"{w.week_end}: {w.revenue_30d:,}" for w in p.weeks)
        print(f"  {p.handle}: {p.from_tier or '-'} -> {p.to_tier} ({p.direction}; {weeks})")

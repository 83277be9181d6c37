"""`matchdesk segments preview FILE.json|NAME [--json]`: who a segment holds now."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from matchdesk.cli.support import _app, out
from matchdesk.errors import InvalidInput

segments_app = typer.Typer(help="Segments of creators (JSON rule trees).", no_args_is_help=True)


@segments_app.command("preview")
def segments_preview(
    segment: Annotated[str, typer.Argument(help="A segment JSON file, or a saved segment's name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON document.")] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Measure the results fields as of this program date."),
    ] = None,
) -> None:
    """The creators the segment holds now: `{"count", "handles"}` (handles sorted)."""
    from matchdesk.outreach.segments import describe_rules, load_segment_text
    from matchdesk.outreach.service import preview, saved_rules
    from matchdesk.rounds.period import program_today

    md = _app()
    today = program_today(md.program.program.timezone)
    if as_of is not None:
        try:
            today = date.fromisoformat(as_of)
        except ValueError:
            raise InvalidInput(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD)") from None
    path = Path(segment)
    with md.transaction() as session:
        if path.suffix.lower() == ".json" or path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InvalidInput(f"{segment}: cannot read the file ({exc.strerror})") from None
            rules = load_segment_text(text, where=segment)
        else:
            rules = saved_rules(session, segment)
        found = preview(session, rules, today)
    if as_json:
        print(json.dumps({"count": found.count, "handles": list(found.handles)}))
        return
    for line in describe_rules(rules):
        out.print(line, markup=False, highlight=False)
    out.print(f"{found.count:,} creator{'' if found.count == 1 else 's'}", highlight=False)
    for handle in found.handles:
        out.print(f"  {handle}", markup=False, highlight=False)

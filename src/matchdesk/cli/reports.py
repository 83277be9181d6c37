"""`matchdesk reports ...`: the creator and program reports (docs/formats.md, section 5)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from matchdesk.cli.support import _app

reports_app = typer.Typer(
    help="Creator and program reports (docs/formats.md, section 5).", no_args_is_help=True
)

FromOption = Annotated[str, typer.Option("--from", help="First program day, YYYY-MM-DD.")]
ToOption = Annotated[str, typer.Option("--to", help="Last program day (included), YYYY-MM-DD.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the JSON document.")]


def _print(document: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(document, ensure_ascii=False))
        return
    for key, value in document.items():
        if isinstance(value, list):
            print(f"{key}:")
            for item in value:
                print("  " + "  ".join(f"{k}={v}" for k, v in item.items()))
        elif isinstance(value, dict):
            print(f"{key}: " + "  ".join(f"{k}={v}" for k, v in value.items()))
        elif value is None and key == "uplift":
            print(f"{key}: none (not enough data)")
        else:
            print(f"{key}: {value}")


@reports_app.command("creator")
def report_creator(
    handle: Annotated[str, typer.Argument(help="The creator's handle (`@` optional).")],
    start: FromOption,
    end: ToOption,
    as_json: JsonOption = False,
) -> None:
    """One creator's sessions, minutes, diamonds, matches and uplift over a period."""
    from matchdesk.results.reports import creator_report, parse_range

    first, last = parse_range(start, end)
    md = _app()
    with md.transaction() as session:
        document = creator_report(session, md.program, handle, first, last)
    _print(document, as_json)


@reports_app.command("program")
def report_program(start: FromOption, end: ToOption, as_json: JsonOption = False) -> None:
    """The program's figures per week and per tier over a period."""
    from matchdesk.results.reports import parse_range, program_report

    first, last = parse_range(start, end)
    md = _app()
    with md.transaction() as session:
        document = program_report(session, md.program, first, last)
    _print(document, as_json)

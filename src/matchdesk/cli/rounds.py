"""`matchdesk rounds ...`: build, list, show, export, publish, rematch and discard rounds
(docs/formats.md, section 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from matchdesk.cli.support import _app, _progress, out

rounds_app = typer.Typer(help="Match rounds: build, show, export, publish.", no_args_is_help=True)

CLI_ACTOR = "cli"


@rounds_app.command("create")
def rounds_create(
    cadence: Annotated[str, typer.Option(help="weekly or monthly.")],
    start: Annotated[str, typer.Option(help="YYYY-MM-DD: a Monday (weekly) or the 1st (monthly).")],
    tier: Annotated[
        str | None, typer.Option(help="Only this tier (default: every tier of the cadence).")
    ] = None,
    seed: Annotated[int, typer.Option(help="The engine's random seed.")] = 0,
) -> None:
    """Build a draft round; prints a summary, then the round's id alone on the last line."""
    from matchdesk.roster.models import utcnow
    from matchdesk.rounds.period import parse_start
    from matchdesk.rounds.service import BUILD_STEPS, build_round, late_build_note

    day = parse_start(start)
    md = _app()
    with _progress("Round") as progress, md.transaction() as session:
        task = progress.add_task("Building the round", total=BUILD_STEPS)

        def step(number: int, message: str) -> None:
            progress.update(task, completed=number - 1, description=message)

        round_ = build_round(
            session,
            md.program,
            cadence=cadence,
            start=day,
            tier=tier,
            actor=CLI_ACTOR,
            seed=seed,
            step=step,
            not_before=utcnow(),
        )
        progress.update(task, completed=BUILD_STEPS)
        stats = round_.statistics
        round_id = round_.id
        period = f"{round_.period_start:%Y-%m-%d %H:%M} to {round_.period_end:%Y-%m-%d %H:%M} UTC"
        late = late_build_note(round_, md.program.program.timezone)
    matched, eligible = stats["matched"], stats["eligible"]
    out.print(
        f"Round {round_id}: {cadence}{f', tier {tier}' if tier else ''}, {period}.\n"
        f"Pool {stats['creators']:,} creators, {eligible:,} with a feasible partner; "
        f"{matched // 2:,} matches ({matched:,} creators), "
        f"{stats['creators'] - matched:,} byes.\n"
        f"Score {stats['weight']:.2f} of at most {stats['upper_bound']:.2f} "
        f"({stats['status']}). Draft: review it, then `matchdesk rounds publish {round_id}`."
        + (f"\n{late}" if late else ""),
        highlight=False,
    )
    print(round_id)


@rounds_app.command("list")
def rounds_list(
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list.")] = False,
) -> None:
    """The 100 most recent rounds (newest period first) with their status and counts."""
    from matchdesk.rounds.service import isoformat_z, list_rounds

    md = _app()
    with md.transaction() as session:
        rounds = [
            {
                "round_id": r.id,
                "cadence": r.cadence,
                "tier": r.tier,
                "period_start": isoformat_z(r.period_start),
                "period_end": isoformat_z(r.period_end),
                "status": r.status,
                "matches": matches,
                "byes": byes,
                "version": r.version,
            }
            for r, matches, byes in list_rounds(session)
        ]
    if as_json:
        print(json.dumps(rounds))
        return
    if not rounds:
        out.print("No rounds yet: `matchdesk rounds create --cadence weekly --start YYYY-MM-DD`.")
    for r in rounds:
        out.print(
            f"{r['round_id']:>6}  {r['cadence']:<7}  {r['tier'] or 'every tier':<10}  "
            f"{r['period_start']} to {r['period_end']}  {r['status']:<9}  "
            f"{r['matches']:,} matches, {r['byes']:,} byes",
            highlight=False,
            markup=False,
        )


@rounds_app.command("discard")
def rounds_discard(round_id: Annotated[int, typer.Argument(help="The round's id.")]) -> None:
    """Discard a draft round (its period can then be built again)."""
    from matchdesk.rounds.service import discard_round

    md = _app()
    with md.transaction() as session:
        discard_round(session, round_id, actor=CLI_ACTOR, expected_version=None)
    out.print(f"Round {round_id} discarded.", highlight=False)


@rounds_app.command("show")
def rounds_show(
    round_id: Annotated[int, typer.Argument(help="The round's id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object (docs/formats.md, section 3).")
    ] = False,
) -> None:
    """The matches and byes of a round."""
    from matchdesk.rounds.service import round_document

    md = _app()
    with md.transaction() as session:
        document = round_document(session, round_id)
    if as_json:
        print(json.dumps(document, ensure_ascii=False))
        return
    out.print(
        f"Round {document['round_id']} ({document['cadence']}): "
        f"{document['period_start']} to {document['period_end']}",
        highlight=False,
    )
    for m in document["matches"]:
        out.print(
            f"  {m['match_id']:>7}  {m['starts_at']}  @{m['creator_a']} x @{m['creator_b']}"
            f"  score {m['score']:.3f}  {m['status']}",
            highlight=False,
            markup=False,
        )
    for b in document["byes"]:
        out.print(f"  bye  @{b['creator']}: {b['reason']}", highlight=False, markup=False)
    out.print(f"{len(document['matches'])} matches, {len(document['byes'])} byes.")


@rounds_app.command("export")
def rounds_export(
    round_id: Annotated[int, typer.Argument(help="The round's id.")],
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or ics.")],
    output: Annotated[Path, typer.Option(help="The file to write.")],
) -> None:
    """Write a round's matches to a file."""
    from matchdesk.rounds.export import export_round

    md = _app()
    with md.transaction() as session:
        data = export_round(session, round_id, fmt)
    output.write_bytes(data)
    out.print(f"Round {round_id} written to {output} ({fmt}).", highlight=False)


@rounds_app.command("publish")
def rounds_publish(round_id: Annotated[int, typer.Argument(help="The round's id.")]) -> None:
    """Publish a draft round: every matched creator gets an invitation (via the outbox)."""
    from matchdesk.rounds.board import Edit
    from matchdesk.rounds.lifecycle import publish
    from matchdesk.rounds.queries import unreachable

    md = _app()
    with md.transaction() as session:
        queued = publish(session, md.settings, md.program, round_id, Edit(CLI_ACTOR, None))
        missed = unreachable(session, round_id, limit=1_000_000)
    out.print(
        f"Round {round_id} published; {queued} invitations queued (`matchdesk worker` sends them).",
        highlight=False,
    )
    if missed.total:
        out.print(
            f"{missed.total} matched creators have no e-mail address and got no invitation "
            "(send them `matchdesk creators link HANDLE`): "
            + ", ".join("@" + h for h in missed.handles),
            highlight=False,
            markup=False,
        )


@rounds_app.command("rematch")
def rounds_rematch(round_id: Annotated[int, typer.Argument(help="The round's id.")]) -> None:
    """Pair the published round's free creators (after declines) with each other."""
    from matchdesk.rounds.board import Edit
    from matchdesk.rounds.lifecycle import rematch

    md = _app()
    with md.transaction() as session:
        made = rematch(session, md.settings, md.program, round_id, Edit(CLI_ACTOR, None))
    out.print(f"Round {round_id}: {made} new matches.")

"""`matchdesk newsletters create|send|show|pause|resume` (see the README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from matchdesk.cli.support import _app, _progress, out
from matchdesk.errors import InvalidInput

newsletters_app = typer.Typer(help="Newsletters to segments of the roster.", no_args_is_help=True)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{what} {path}: cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} {path}: not UTF-8 text") from None


@newsletters_app.command("create")
def newsletters_create(
    name: Annotated[str, typer.Option("--name", help="The newsletter's name (for operators).")],
    segment: Annotated[
        str, typer.Option("--segment", help="A segment JSON file, or a saved segment's name.")
    ],
    subject: Annotated[
        str, typer.Option("--subject", help="The subject (personal fields allowed).")
    ],
    body: Annotated[Path, typer.Option("--body", help="The Markdown body file.")],
    send_at: Annotated[
        str | None, typer.Option("--send-at", help="Send at this ISO 8601 time (with offset).")
    ] = None,
    local_time: Annotated[
        str | None,
        typer.Option("--local-time", help="Send at HH:MM on each recipient's own clock..."),
    ] = None,
    on_date: Annotated[
        str | None, typer.Option("--date", help="...on this date (YYYY-MM-DD).")
    ] = None,
    body_in: Annotated[
        list[str] | None,
        typer.Option("--body-in", help="LANG=FILE.md: the body in a language (repeatable)."),
    ] = None,
    subject_in: Annotated[
        list[str] | None,
        typer.Option("--subject-in", help="LANG=SUBJECT: the subject in a language (repeatable)."),
    ] = None,
) -> None:
    """A draft newsletter; prints its id alone on the last line. Each creator gets the
    first of their languages given with --body-in, else the default subject and body."""
    from matchdesk.outreach.newsletters import create_newsletter, parse_schedule
    from matchdesk.outreach.service import get_segment

    schedule = parse_schedule(send_at, local_time, on_date)
    text = _read(body, "--body")
    translations: dict[str, dict[str, str]] = {}
    for item in body_in or []:
        code, _, file = item.partition("=")
        translations[code.strip().lower()] = {"body": _read(Path(file), f"--body-in {code}")}
    for item in subject_in or []:
        code, _, line = item.partition("=")
        if code.strip().lower() not in translations:
            raise InvalidInput(f"--subject-in {code}: give its body with --body-in {code}=FILE")
        translations[code.strip().lower()]["subject"] = line
    md = _app()
    with md.transaction() as session:
        path = Path(segment)
        segment_name = None
        if path.suffix.lower() == ".json" or path.is_file():
            try:
                document = json.loads(_read(path, "--segment"))
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"--segment {segment}: not valid JSON ({exc.msg})") from None
        else:
            document, segment_name = get_segment(session, segment).rules, segment
        newsletter = create_newsletter(
            session,
            name=name,
            segment=document,
            segment_name=segment_name,
            subject=subject,
            body=text,
            schedule=schedule,
            actor="cli",
            translations=translations,
        )
        newsletter_id = newsletter.id
    out.print(f"Draft newsletter {name!r} created.", markup=False, highlight=False)
    print(newsletter_id)


@newsletters_app.command("send")
def newsletters_send(
    newsletter_id: Annotated[int, typer.Argument(help="The newsletter's id.")],
) -> None:
    """Start sending: the segment is evaluated now, one delivery per recipient; messages
    are queued (rendered) here with a progress bar and delivered by the worker, now or
    at their time."""
    from matchdesk.outreach.newsletters import start_send
    from matchdesk.roster.models import utcnow
    from matchdesk.rounds.period import program_today

    md = _app()
    today = program_today(md.program.program.timezone)
    with md.transaction() as session:
        recipients = start_send(session, newsletter_id, today=today, now=utcnow(), actor="cli")
    _queue(md, newsletter_id, recipients)


def _queue(md: object, newsletter_id: int, total: int) -> None:
    from matchdesk.outreach.newsletters import run_send
    from matchdesk.rounds.period import program_today

    with _progress("Queueing") as bar:
        task = bar.add_task("Queueing", total=total)
        queued = run_send(
            md,
            newsletter_id,
            today=program_today(md.program.program.timezone),  # type: ignore[attr-defined]
            progress=lambda done, all_: bar.update(task, completed=done, total=all_),
        )
    out.print(f"{queued:,} messages queued for {total:,} recipients.", highlight=False)


@newsletters_app.command("show")
def newsletters_show(
    newsletter_id: Annotated[int, typer.Argument(help="The newsletter's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON document.")] = False,
) -> None:
    """The newsletter's status and figures."""
    from matchdesk.outreach.newsletters import figures

    md = _app()
    with md.transaction() as session:
        found = figures(session, newsletter_id)
    if as_json:
        print(json.dumps(found.as_json()))
        return
    for key, value in {
        **found.as_json(),
        "outcome unknown (never sent again)": found.uncertain,
        "bounces": found.bounces,
        "pending": found.pending,
        "in the outbox": found.queued,
    }.items():
        out.print(f"{key}: {value}", highlight=False)


@newsletters_app.command("pause")
def newsletters_pause(newsletter_id: Annotated[int, typer.Argument(help="The id.")]) -> None:
    """Pause: messages no worker has picked up are taken back until resume."""
    from matchdesk.outreach.newsletters import pause

    md = _app()
    with md.transaction() as session:
        taken = pause(session, newsletter_id, actor="cli")
    out.print(f"Paused; {taken:,} messages taken back.", highlight=False)


@newsletters_app.command("resume")
def newsletters_resume(newsletter_id: Annotated[int, typer.Argument(help="The id.")]) -> None:
    """Resume a paused newsletter: queue what is still pending (never twice)."""
    from matchdesk.outreach.newsletters import count_deliveries, resume

    md = _app()
    with md.transaction() as session:
        resume(session, newsletter_id, actor="cli")
        total = count_deliveries(session, newsletter_id, None)
    _queue(md, newsletter_id, total)


@newsletters_app.command("bounces")
def newsletters_bounces(
    folder: Annotated[Path, typer.Argument(help="The bounce mailbox, a Maildir folder.")],
) -> None:
    """Read the bounce mailbox: hard bounces and complaints are suppressed, soft
    bounces counted; read messages move to cur/."""
    from matchdesk.outreach.bounces import mark_read, read_maildir

    md = _app()
    with md.transaction() as session:
        report, keys = read_maildir(session, folder)
    mark_read(folder, keys)
    out.print(
        f"{report.messages:,} messages: {report.hard:,} hard bounces, {report.soft:,} soft, "
        f"{report.complaints:,} complaints, {report.not_reports:,} not reports; "
        f"{report.suppressed:,} addresses newly suppressed.",
        highlight=False,
    )

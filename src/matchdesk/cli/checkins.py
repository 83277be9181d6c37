"""`matchdesk checkins ...` (check-ins: see the README) and `matchdesk users hours`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from matchdesk import clock
from matchdesk.cli.support import _app, _progress, out

checkins_app = typer.Typer(
    help="Check-ins: due list, planning a week, bookings.", no_args_is_help=True
)

CLI_ACTOR = "cli"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def users_hours(
    email: Annotated[str, typer.Argument(help="The operator's e-mail.")],
    timezone: Annotated[str, typer.Option(help="IANA zone of the hours, e.g. Europe/Berlin.")],
    hours: Annotated[str, typer.Option(help='Weekly windows: "Mon 09:00-17:00; Tue 09:00-17:00".')],
) -> None:
    """Set an operator's working hours (when check-ins with them can be booked)."""
    from matchdesk.accounts.service import find_operator
    from matchdesk.checkins.hours import set_working_hours

    md = _app()
    with md.transaction() as session:
        operator = find_operator(session, email)
        set_working_hours(operator, timezone, hours)
        shown = f"{operator.email}: {operator.working_hours} ({operator.timezone})"
    out.print(f"Working hours of {shown}.", highlight=False)


def _week(md: Any, week: str | None) -> Any:
    from matchdesk.checkins.due import program_week, this_monday

    zone = md.program.program.timezone
    return program_week(week or this_monday(clock.now(), zone), zone)


@checkins_app.command("due")
def checkins_due(
    week: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD, a Monday (program time); default this week.")
    ] = None,
    manager: Annotated[str | None, typer.Option(help="Only this manager's creators.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The creators whose check-in falls due that week (overdue, due, booked)."""
    from matchdesk.checkins.due import due_list

    md = _app()
    with md.transaction() as session:
        the_week = _week(md, week)
        entries = due_list(session, md.program, the_week, manager=manager)
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "creator": e.handle,
                        "manager": e.manager or None,
                        "tier": e.tier,
                        "due_on": e.due_on.isoformat(),
                        "state": e.state,
                        "checkin_id": e.checkin_id,
                        "starts_at": _iso(e.starts_at),
                    }
                    for e in entries
                ]
            )
        )
        return
    counts = {s: sum(1 for e in entries if e.state == s) for s in ("overdue", "due", "booked")}
    out.print(
        f"Week of {the_week.monday}: {counts['overdue']} overdue, {counts['due']} due, "
        f"{counts['booked']} booked.",
        highlight=False,
    )
    for e in entries:
        when = f" at {_iso(e.starts_at)}" if e.starts_at else ""
        out.print(
            f"  {e.state:8} {e.handle:24} tier {e.tier:6} due {e.due_on} "
            f"manager {e.manager or '(none)'}{when}",
            highlight=False,
        )


@checkins_app.command("schedule")
def checkins_schedule(
    week: Annotated[str, typer.Option(help="YYYY-MM-DD, a Monday (program time).")],
    manager: Annotated[str | None, typer.Option(help="Only this manager's creators.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Book every due check-in of the week that the hard rules allow; list the rest."""
    from matchdesk.checkins.service import schedule_week

    md = _app()
    with _progress("Check-ins") as progress, md.transaction() as session:
        task = progress.add_task("Planning the week", total=None)

        def step(done: int, total: int, message: str) -> None:
            progress.update(task, completed=done, total=total, description=message)

        result = schedule_week(
            session,
            md.program,
            _week(md, week),
            now=clock.now(),
            actor=CLI_ACTOR,
            settings=md.settings,
            manager=manager,
            progress=step,
        )
    if as_json:
        print(
            json.dumps(
                {
                    "week": week,
                    "booked": [
                        {
                            "checkin_id": b.checkin_id,
                            "creator": b.handle,
                            "manager": b.manager,
                            "starts_at": _iso(b.starts_at),
                            "ends_at": _iso(b.ends_at),
                        }
                        for b in result.booked
                    ],
                    "unbooked": [
                        {"creator": h, "manager": m or None, "reason": r}
                        for h, m, r in result.unbooked
                    ],
                }
            )
        )
        return
    out.print(
        f"Week of {week}: {len(result.booked)} check-ins booked, "
        f"{len(result.unbooked)} could not be booked.",
        highlight=False,
    )
    for b in result.booked:
        out.print(f"  booked   {b.handle:24} {_iso(b.starts_at)} with {b.manager}", highlight=False)
    for handle, who, reason in result.unbooked:
        out.print(f"  unbooked {handle:24} ({who or 'no manager'}): {reason}", highlight=False)


@checkins_app.command("list")
def checkins_list(
    start: Annotated[
        str | None, typer.Option("--from", help="YYYY-MM-DD (UTC), inclusive.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD (UTC), inclusive.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The check-ins starting in the range."""
    from datetime import date, timedelta

    from matchdesk.checkins.service import list_checkins
    from matchdesk.errors import InvalidInput

    def day(text: str | None, name: str) -> datetime | None:
        if text is None:
            return None
        try:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        except ValueError:
            raise InvalidInput(
                "the range is not valid", [f"{name}: {text!r} is not a date (YYYY-MM-DD)"]
            ) from None

    first, last = day(start, "from"), day(end, "to")
    md = _app()
    with md.transaction() as session:
        rows = list_checkins(session, first, last + timedelta(days=1) if last else None)
    items = [
        {
            "checkin_id": r.checkin_id,
            "creator": r.creator,
            "manager": r.manager,
            "starts_at": _iso(r.starts_at),
            "ends_at": _iso(r.ends_at),
            "status": r.status,
        }
        for r in rows
    ]
    if as_json:
        print(json.dumps(items))
        return
    for item in items:
        out.print(
            f"{item['checkin_id']:>6} {item['starts_at']} {item['creator']:24} "
            f"{item['manager']} {item['status']}",
            highlight=False,
        )

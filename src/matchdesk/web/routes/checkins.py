"""The Check-ins pages: the week's due list per manager (filters), planning the week
(inline when small, else a job with its progress page), one check-in's agenda."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import groupby

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from matchdesk.checkins.due import STATES, Week, due_list, program_week, this_monday
from matchdesk.checkins.jobs import SCHEDULE
from matchdesk.checkins.service import ScheduleResult, list_checkins, schedule_week
from matchdesk.errors import InvalidInput
from matchdesk.jobs import service as jobs
from matchdesk.rounds.invitations import Sender
from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)

# Due check-ins planned inside the request; more go to the worker as a job.
INLINE_LIMIT = 400


def _week(request: Request, week: str) -> Week:
    zone = app_of(request).program.program.timezone
    return program_week(week or this_monday(datetime.now(UTC), zone), zone)


def _page(
    request: Request,
    week: Week,
    *,
    manager: str = "",
    state: str = "",
    tier: str = "",
    status: int = 200,
    result: ScheduleResult | None = None,
    message: str = "",
    problems: list[str] | None = None,
) -> Response:
    md = app_of(request)
    with md.transaction() as session:
        entries = due_list(
            session,
            md.program,
            week,
            manager=manager or None,
            state=state or None,
            tier=tier or None,
        )
        booked = list_checkins(session, week.start, week.end, manager=manager or None)
    by_manager = [
        (who, list(items))
        for who, items in groupby(sorted(entries, key=lambda e: e.manager), key=lambda e: e.manager)
    ]
    counts = {s: sum(1 for e in entries if e.state == s) for s in STATES}
    return render(
        request,
        "checkins.html",
        status,
        week=week,
        entries=entries,
        by_manager=by_manager,
        counts=counts,
        checkins=booked,
        managers=sorted({e.manager for e in entries if e.manager}),
        tiers=[t.name for t in md.program.tiers],
        states=STATES,
        filters={"manager": manager, "state": state, "tier": tier},
        result=result,
        message=message,
        problems=problems or [],
        zone=md.program.program.timezone,
        previous_week=(week.monday - timedelta(days=7)).isoformat(),
        next_week=(week.monday + timedelta(days=7)).isoformat(),
    )


@router.get("/checkins")
def checkins_page(
    request: Request,
    week: str = Query("", max_length=20),
    manager: str = Query("", max_length=254),
    state: str = Query("", max_length=10),
    tier: str = Query("", max_length=40),
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """The week's due list (overdue, due, booked) per manager, and its check-ins."""
    try:
        the_week = _week(request, week)
        if state and state not in STATES:
            raise InvalidInput("the filter is not valid", [f"state: {state!r} is not known"])
    except InvalidInput as exc:
        the_week = _week(request, "")
        return _page(request, the_week, status=422, message=exc.message, problems=exc.details)
    return _page(request, the_week, manager=manager, state=state, tier=tier)


@router.post("/checkins/schedule")
def checkins_schedule(
    request: Request,
    week: str = Form(..., max_length=20),
    manager: str = Form("", max_length=254),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Book every due check-in of the week the hard rules allow (a job when large)."""
    md = app_of(request)
    try:
        the_week = _week(request, week)
    except InvalidInput as exc:
        return _page(
            request, _week(request, ""), status=422, message=exc.message, problems=exc.details
        )
    domain = Sender.from_settings().domain
    with md.transaction() as session:
        due = [
            e
            for e in due_list(session, md.program, the_week, manager=manager or None)
            if e.state != "booked"
        ]
        if len(due) > INLINE_LIMIT:
            job = jobs.submit(
                session,
                SCHEDULE,
                {
                    "week": the_week.monday.isoformat(),
                    "manager": manager or None,
                    "actor": principal.actor,
                    "domain": domain,
                },
            )
            return RedirectResponse(f"/jobs/{job.id}", status_code=303)
        result = schedule_week(
            session,
            md.program,
            the_week,
            now=datetime.now(UTC),
            actor=principal.actor,
            domain=domain,
            manager=manager or None,
        )
    return _page(request, the_week, manager=manager, result=result)

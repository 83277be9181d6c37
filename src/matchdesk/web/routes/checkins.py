"""The Check-ins pages: the week's due list per manager (filters), planning the week
(inline when small, else a job with its progress page), one check-in's agenda."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import groupby
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from matchdesk import clock
from matchdesk.accounts.models import Operator
from matchdesk.checkins.agenda import (
    add_action_item,
    agenda,
    close,
    get_checkin,
    save_notes,
    set_item_done,
)
from matchdesk.checkins.booking import (
    SlotTaken,
    book,
    cancel,
    creator_checkin,
    free_slots,
    next_free,
)
from matchdesk.checkins.due import STATES, Week, aware, due_list, program_week, this_monday
from matchdesk.checkins.feed import calendar_feed, feed_url, operator_for_feed, renew_feed
from matchdesk.checkins.hours import set_checkin_hours, set_working_hours
from matchdesk.checkins.jobs import SCHEDULE
from matchdesk.checkins.service import ScheduleResult, list_checkins, schedule_week
from matchdesk.checkins.slots import Slot
from matchdesk.errors import Conflict, InvalidInput, NotFound
from matchdesk.i18n import messages_for
from matchdesk.jobs import service as jobs
from matchdesk.portal.links import check_portal_csrf, creator_for_token, portal_csrf
from matchdesk.portal.problems import translate_problem, translate_problems
from matchdesk.roster.models import Creator
from matchdesk.roster.service import get_creator
from matchdesk.rounds.period import program_today
from matchdesk.web.addresses import served_settings
from matchdesk.web.rendering import render
from matchdesk.web.routes.portal import _PRIVATE_HEADERS as PRIVATE_HEADERS
from matchdesk.web.security import CSRF_FIELD, CsrfRefused, Principal, app_of, require

router = APIRouter(include_in_schema=False)


def get_operator(session: Session, principal: Principal) -> Operator:
    """The signed-in operator's row (API tokens have no working hours)."""
    operator = session.get(Operator, principal.id) if principal.kind == "operator" else None
    if operator is None:
        raise NotFound("working hours belong to a signed-in operator")
    return operator


# Due check-ins planned inside the request; more go to the worker as a job.
INLINE_LIMIT = 400


def _week(request: Request, week: str) -> Week:
    zone = app_of(request).program.program.timezone
    return program_week(week or this_monday(clock.now(), zone), zone)


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
    settings = served_settings(request)
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
                    "base_url": settings.public_url(),
                },
            )
            return RedirectResponse(f"/jobs/{job.id}", status_code=303)
        result = schedule_week(
            session,
            md.program,
            the_week,
            now=clock.now(),
            actor=principal.actor,
            settings=settings,
            manager=manager or None,
        )
    return _page(request, the_week, manager=manager, result=result)


# ---- The creator's side: their check-in in the portal (signed link, no sign-in) ----


def _portal_page(
    request: Request,
    token: str,
    *,
    status: int = 200,
    done: str = "",
    problem: str = "",
    next_slots: tuple[Slot, ...] | None = None,
    typed_hours: str | None = None,
) -> Response:
    md = app_of(request)
    now = clock.now()
    with md.transaction() as session:
        creator, _ = creator_for_token(session, md.settings, token)
        mine = creator_checkin(session, md.program, creator, now)
        try:
            slots = free_slots(session, md.program, creator, now)
            unavailable = ""
        except InvalidInput as exc:
            slots, unavailable = (), "; ".join(exc.details) or exc.message
        history = list_checkins(session, creator_id=creator.id)
        zone, handle = creator.timezone, creator.handle
        own_hours = creator.checkin_hours
        i18n = messages_for(creator.languages)
    days: list[tuple[str, list[Slot]]] = []
    for slot in slots:
        label = local_day(slot.start, zone)
        if not days or days[-1][0] != label:
            days.append((label, []))
        days[-1][1].append(slot)
    response = render(
        request,
        "checkin_portal.html",
        status,
        token=token,
        i18n=i18n,
        handle=handle,
        zone=zone,
        mine=mine,
        days=days,
        unavailable=translate_problems(unavailable, i18n) if unavailable else "",
        history=[h for h in history if h.status != "booked"][::-1],
        done=done,
        problem=translate_problems(problem, i18n) if problem else "",
        next_slots=next_slots,
        own_hours=own_hours if typed_hours is None else typed_hours,
        default_hours=md.program.checkins.default_creator_hours,
        csrf_token=portal_csrf(md.settings, token),
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


def local_day(moment: datetime, timezone: str) -> str:
    """`Tue 3 Mar` on `timezone`'s calendar."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b}"


def _portal_csrf(request: Request, token: str, presented: str) -> None:
    if not check_portal_csrf(app_of(request).settings, token, presented):
        raise CsrfRefused(
            "This form did not come from your matchdesk page. Reload the page and try again."
        )


@router.get("/portal/{token}/checkin")
def portal_checkin(
    request: Request, token: str, done: Literal["", "booked", "cancelled", "hours"] = ""
) -> Response:
    """The creator's check-in: the one booked, or the free times to pick, in their time."""
    return _portal_page(request, token, done=done)


@router.post("/portal/{token}/checkin/book")
def portal_checkin_book(
    request: Request,
    token: str,
    starts_at: str = Form(..., max_length=40),
    csrf_token: str = Form("", alias=CSRF_FIELD),
) -> Response:
    """Book or move the creator's check-in to a free time; a time someone else took
    first gets the page again with the next free times."""
    md = app_of(request)
    _portal_csrf(request, token, csrf_token)
    try:
        moment = datetime.fromisoformat(starts_at)
        if moment.tzinfo is None:
            raise ValueError
    except ValueError:
        return _portal_page(request, token, status=422, problem="That is not a time to book.")
    try:
        with md.transaction() as session:
            creator, _ = creator_for_token(session, md.settings, token)
            book(
                session,
                md.program,
                creator,
                moment,
                now=clock.now(),
                actor=f"creator:{creator.handle}",
                settings=served_settings(request),
            )
    except SlotTaken as exc:
        # Rolled back (the refused write with it); the next free times from a fresh read.
        with md.transaction() as session:
            creator, _ = creator_for_token(session, md.settings, token)
            offered = next_free(session, md.program, creator, clock.now())
        return _portal_page(request, token, status=409, problem=exc.message, next_slots=offered)
    except (Conflict, InvalidInput) as exc:
        text = "; ".join(exc.details) if exc.details else exc.message
        return _portal_page(request, token, status=exc.status, problem=text)
    return RedirectResponse(f"/portal/{token}/checkin?done=booked", status_code=303)


@router.post("/portal/{token}/checkin/hours")
def portal_checkin_hours(
    request: Request,
    token: str,
    hours: str = Form("", max_length=2000),
    csrf_token: str = Form("", alias=CSRF_FIELD),
) -> Response:
    """The creator's own check-in hours (empty: the program's default)."""
    md = app_of(request)
    _portal_csrf(request, token, csrf_token)
    try:
        with md.transaction() as session:
            creator, _ = creator_for_token(session, md.settings, token)
            set_checkin_hours(session, creator, hours, actor=f"creator:{creator.handle}")
    except InvalidInput as exc:
        with md.transaction() as session:
            t = messages_for(creator_for_token(session, md.settings, token)[0].languages)
        text = (
            "; ".join(translate_problem(d.removeprefix("hours: "), t) for d in exc.details)
            or exc.message
        )
        return _portal_page(request, token, status=422, problem=text, typed_hours=hours)
    return RedirectResponse(f"/portal/{token}/checkin?done=hours", status_code=303)


@router.post("/portal/{token}/checkin/cancel")
def portal_checkin_cancel(
    request: Request, token: str, csrf_token: str = Form("", alias=CSRF_FIELD)
) -> Response:
    """Cancel the creator's check-in (up to the notice)."""
    md = app_of(request)
    _portal_csrf(request, token, csrf_token)
    try:
        with md.transaction() as session:
            creator, _ = creator_for_token(session, md.settings, token)
            cancel(
                session,
                md.program,
                creator,
                now=clock.now(),
                actor=f"creator:{creator.handle}",
                settings=served_settings(request),
            )
    except (Conflict, NotFound) as exc:
        return _portal_page(request, token, status=exc.status, problem=exc.message)
    return RedirectResponse(f"/portal/{token}/checkin?done=cancelled", status_code=303)


# ---- One check-in: its agenda, notes, action items, held / no-show ----


def _agenda_page(
    request: Request,
    checkin_id: int,
    *,
    status: int = 200,
    message: str = "",
    problems: list[str] | None = None,
) -> Response:
    md = app_of(request)
    today = program_today(md.program.program.timezone)
    with md.transaction() as session:
        seen = agenda(session, md.program, checkin_id, today)
    return render(
        request,
        "checkin.html",
        status,
        seen=seen,
        zone=md.program.program.timezone,
        message=message,
        problems=problems or [],
        started=aware(seen.checkin.starts_at) <= clock.now(),
    )


CheckinId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/checkins/{checkin_id}")
def checkin_page(
    request: Request, checkin_id: CheckinId, principal: Principal = Depends(require("viewer"))
) -> Response:
    """The check-in's agenda: figures since the last one, open action items, notes."""
    return _agenda_page(request, checkin_id)


def _after(request: Request, checkin_id: int, action: Callable[[Session], object]) -> Response:
    md = app_of(request)
    try:
        with md.transaction() as session:
            action(session)
    except (InvalidInput, Conflict) as exc:
        return _agenda_page(
            request, checkin_id, status=exc.status, message=exc.message, problems=exc.details
        )
    return RedirectResponse(f"/checkins/{checkin_id}", status_code=303)


@router.post("/checkins/{checkin_id}/notes")
def checkin_notes(
    request: Request,
    checkin_id: CheckinId,
    notes: str = Form("", max_length=20_000),
    version: int = Form(..., ge=0, le=2**31 - 1),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Save the notes (a stale version is refused: someone else changed them)."""
    return _after(
        request,
        checkin_id,
        lambda s: save_notes(s, checkin_id, notes, version=version, actor=principal.actor),
    )


@router.post("/checkins/{checkin_id}/items")
def checkin_add_item(
    request: Request,
    checkin_id: CheckinId,
    text: str = Form("", max_length=500),
    owner: str = Form("", max_length=100),
    due_on: str = Form("", max_length=20),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Add an action item (what, who, by when)."""
    return _after(
        request,
        checkin_id,
        lambda s: add_action_item(
            s, checkin_id, text=text, owner=owner, due_on=due_on, actor=principal.actor
        ),
    )


@router.post("/checkins/{checkin_id}/items/{item_id}/done")
def checkin_item_done(
    request: Request,
    checkin_id: CheckinId,
    item_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    done: bool = Form(True),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Tick an action item off (or back on)."""
    return _after(
        request, checkin_id, lambda s: set_item_done(s, item_id, done, actor=principal.actor)
    )


@router.post("/checkins/{checkin_id}/close")
def checkin_close(
    request: Request,
    checkin_id: CheckinId,
    outcome: Literal["held", "no_show"] = Form(...),
    version: int = Form(..., ge=0, le=2**31 - 1),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Mark it held or no-show; the creator gets the summary."""
    settings = served_settings(request)
    md = app_of(request)
    return _after(
        request,
        checkin_id,
        lambda s: close(
            s,
            settings,
            md.program,
            checkin_id,
            outcome,
            version=version,
            actor=principal.actor,
            now=clock.now(),
        ),
    )


@router.post("/checkins/{checkin_id}/cancel")
def checkin_cancel(
    request: Request,
    checkin_id: CheckinId,
    version: int = Form(..., ge=0, le=2**31 - 1),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """A manager cancels a booked check-in (also inside the notice); both people get the
    calendar cancellation."""
    settings = served_settings(request)
    md = app_of(request)

    def cancel_it(session: Session) -> None:
        checkin = get_checkin(session, checkin_id)
        if checkin.version != version:
            raise Conflict("this check-in was changed by someone else since you opened it")
        if checkin.status != "booked":
            raise Conflict(f"this check-in is {checkin.status.replace('_', '-')} already")
        creator = session.get(Creator, checkin.creator_id)
        assert creator is not None
        cancel(
            session,
            md.program,
            creator,
            now=clock.now(),
            actor=principal.actor,
            settings=settings,
            respect_notice=False,
        )

    return _after(request, checkin_id, cancel_it)


# ---- An operator's working hours and calendar feed; a creator's check-in history ----


@router.get("/checkins/me/hours")
def my_hours_page(request: Request, principal: Principal = Depends(require("viewer"))) -> Response:
    """The signed-in operator's working hours and private calendar address."""
    return _hours_page(request, principal)


def _hours_page(
    request: Request, principal: Principal, *, status: int = 200, typed: str | None = None,
    zone: str | None = None, problems: list[str] | None = None, saved: bool = False,
) -> Response:  # fmt: skip
    md = app_of(request)
    with md.transaction() as session:
        operator = get_operator(session, principal)
        url = feed_url(served_settings(request), operator)
        hours, timezone = operator.working_hours, operator.timezone
    return render(
        request,
        "checkin_hours.html",
        status,
        hours=hours if typed is None else typed,
        timezone=timezone if zone is None else zone,
        feed=url,
        webcal="webcal://" + url.split("://", 1)[1],
        problems=problems or [],
        saved=saved,
    )


@router.post("/checkins/me/hours")
def my_hours_save(
    request: Request,
    hours: str = Form("", max_length=2000),
    timezone: str = Form("", max_length=64),
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """Save the operator's own working hours."""
    md = app_of(request)
    try:
        with md.transaction() as session:
            set_working_hours(get_operator(session, principal), timezone, hours)
    except InvalidInput as exc:
        return _hours_page(
            request, principal, status=422, typed=hours, zone=timezone, problems=exc.details
        )
    return _hours_page(request, principal, saved=True)


@router.post("/checkins/me/feed/renew")
def my_feed_renew(request: Request, principal: Principal = Depends(require("viewer"))) -> Response:
    """A new calendar address; the old one stops working."""
    md = app_of(request)
    with md.transaction() as session:
        renew_feed(get_operator(session, principal))
    return RedirectResponse("/checkins/me/hours", status_code=303)


@router.get("/calendar/{token}.ics")
def calendar_feed_file(request: Request, token: str) -> Response:
    """A manager's private calendar feed (the signed address is the credential)."""
    md = app_of(request)
    with md.transaction() as session:
        operator = operator_for_feed(session, md.settings, token)
        body = calendar_feed(session, operator, clock.now())
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={**PRIVATE_HEADERS, "Content-Disposition": 'inline; filename="checkins.ics"'},
    )


@router.get("/creators/{handle}/checkins")
def creator_checkins(
    request: Request, handle: str, principal: Principal = Depends(require("viewer"))
) -> Response:
    """The creator's check-in history (a fragment the creator page loads)."""
    md = app_of(request)
    with md.transaction() as session:
        creator = get_creator(session, handle)
        if creator is None:
            raise NotFound(f"no creator {handle[:40]!r}")
        rows = list_checkins(session, creator_id=creator.id)
    return render(
        request,
        "checkin_history.html",
        checkins=rows[::-1],
        zone=md.program.program.timezone,
    )

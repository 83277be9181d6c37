"""The creator portal (signed, expiring links scoped to one creator).

Every address is under `/portal/{token}`: the token is the only thing that says who the
creator is. Forms carry an HMAC of the token as their CSRF field."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from matchdesk.errors import Conflict, InvalidInput, MatchdeskError
from matchdesk.i18n import N_, Messages, messages_for
from matchdesk.portal.links import (
    PortalView,
    check_portal_csrf,
    creator_for_token,
    creator_id_of_token,
    open_portal,
    portal_csrf,
    save_portal_availability,
)
from matchdesk.portal.problems import translate_problem
from matchdesk.roster.models import Creator
from matchdesk.rounds.lifecycle import respond
from matchdesk.web.addresses import served_settings
from matchdesk.web.rendering import render
from matchdesk.web.security import CSRF_FIELD, CsrfRefused, app_of

router = APIRouter(include_in_schema=False)

# The token is a credential in the address: keep it out of Referer headers, caches and
# search engines.
_PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}


def _page(
    request: Request,
    token: str,
    view: PortalView | None = None,
    status: int = 200,
    **context: object,
) -> Response:
    md = app_of(request)
    if view is None:
        with md.transaction() as session:
            view = open_portal(session, md.settings, token)
    values: dict[str, object] = {
        "typed": view.availability,
        "problems": [],
        "conflict": "",
        "saved": False,
        "answered": "",
        "answered_match": 0,
        **context,
    }
    response = render(
        request,
        "portal.html",
        status,
        creator=view,
        token=token,
        i18n=messages_for(view.languages),
        # Overrides the session's CSRF token in the layout: portal forms carry the link's.
        csrf_token=portal_csrf(md.settings, token),
        **values,
    )
    response.headers.update(_PRIVATE_HEADERS)
    return response


@router.get("/portal/{token}")
def portal_home(
    request: Request,
    token: str,
    saved: bool = False,
    answered: Literal["", "confirm", "decline"] = "",
    match: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    """The creator's own page: figures, upcoming matches, weekly availability."""
    return _page(request, token, saved=saved, answered=answered, answered_match=match)


# The error page's words a creator may meet (web/errors.py, error.html), translated there.
ERROR_WORDS = (
    N_("This link is not valid."),
    N_("This link has expired. Ask your program manager for a new one."),
    N_("Not allowed"),
    N_("Not found"),
    N_("Something is not right"),
    N_("Sorry"),
)


def error_messages(request: Request) -> Messages | None:
    """The language of the creator whose portal link is in the address of a failed
    request (signature checked, age not: an expired link still says who it was for),
    or None outside the portal."""
    path = request.url.path
    if not path.startswith("/portal/"):
        return None
    token = path.split("/")[2]
    md = app_of(request)
    creator_id = creator_id_of_token(md.settings, token)
    if creator_id is None:
        return None
    with md.transaction() as session:
        creator = session.get(Creator, creator_id)
        return messages_for(creator.languages) if creator else None


def _messages(request: Request, token: str) -> Messages:
    """The language of the creator behind `token` (for a message outside the page);
    English when the link no longer speaks for anyone."""
    md = app_of(request)
    try:
        with md.transaction() as session:
            creator, _ = creator_for_token(session, md.settings, token)
            return messages_for(creator.languages)
    except MatchdeskError:
        return messages_for("")


def _check_csrf(request: Request, token: str, presented: str) -> None:
    if not check_portal_csrf(app_of(request).settings, token, presented):
        _ = _messages(request, token).gettext
        raise CsrfRefused(
            _("This form did not come from your matchdesk page. Reload the page and try again.")
        )


@router.get("/portal/{token}/report")
def portal_report(request: Request, token: str) -> Response:
    """The creator's own report: figures over time, matches, reliability, tier."""
    from matchdesk.web.routes.reports import portal_report as page

    return page(request, token, _PRIVATE_HEADERS)


@router.post("/portal/{token}/matches/{match_id}/{answer}")
def portal_answer(
    request: Request,
    token: str,
    match_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    answer: Literal["confirm", "decline"],
    csrf_token: str = Form("", alias=CSRF_FIELD),
) -> Response:
    """The creator confirms or declines one of their own matches (404 for anyone else's)."""
    md = app_of(request)
    _check_csrf(request, token, csrf_token)
    with md.transaction() as session:
        creator, _ = creator_for_token(session, md.settings, token)
        respond(session, served_settings(request), md.program, creator, match_id, answer)
    return RedirectResponse(
        f"/portal/{token}?answered={answer}&match={match_id}#matches", status_code=303
    )


@router.post("/portal/{token}/availability")
def portal_availability(
    request: Request,
    token: str,
    availability: str = Form("", max_length=20_000),
    version: int = Form(...),
    csrf_token: str = Form("", alias=CSRF_FIELD),
) -> Response:
    """Save the creator's weekly availability; on a mistake, show it and keep the text."""
    md = app_of(request)
    _check_csrf(request, token, csrf_token)
    try:
        with md.transaction() as session:
            save_portal_availability(session, md.program, md.settings, token, availability, version)
    except InvalidInput as exc:
        t = _messages(request, token)
        problems = [
            translate_problem(d.removeprefix("availability: "), t) for d in exc.details
        ] or [exc.message]
        return _page(request, token, status=exc.status, typed=availability, problems=problems)
    except Conflict as exc:
        t = _messages(request, token)
        conflict = exc.message
        if t.language != "en":  # the roster's own words are English (and name versions)
            conflict = t.gettext(
                "Your availability was changed elsewhere since you loaded this page; "
                "reload it and try again."
            )
        return _page(request, token, status=exc.status, typed=availability, conflict=conflict)
    return RedirectResponse(f"/portal/{token}?saved=1#availability", status_code=303)

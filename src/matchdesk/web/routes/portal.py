"""The creator portal (signed, expiring links scoped to one creator).

Every address is under `/portal/{token}`: the token is the only thing that says who the
creator is. Forms carry an HMAC of the token as their CSRF field."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from matchdesk.errors import Conflict, InvalidInput
from matchdesk.portal.links import (
    PortalView,
    check_portal_csrf,
    open_portal,
    portal_csrf,
    save_portal_availability,
)
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
        **context,
    }
    response = render(
        request,
        "portal.html",
        status,
        creator=view,
        token=token,
        # Overrides the session's CSRF token in the layout: portal forms carry the link's.
        csrf_token=portal_csrf(md.settings, token),
        **values,
    )
    response.headers.update(_PRIVATE_HEADERS)
    return response


@router.get("/portal/{token}")
def portal_home(request: Request, token: str, saved: bool = False) -> Response:
    """The creator's own page: figures, upcoming matches, weekly availability."""
    return _page(request, token, saved=saved)


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
    if not check_portal_csrf(md.settings, token, csrf_token):
        raise CsrfRefused(
            "This form did not come from your matchdesk page. Reload the page and try again."
        )
    try:
        with md.transaction() as session:
            save_portal_availability(session, md.program, md.settings, token, availability, version)
    except InvalidInput as exc:
        problems = [d.removeprefix("availability: ") for d in exc.details] or [exc.message]
        return _page(request, token, status=exc.status, typed=availability, problems=problems)
    except Conflict as exc:
        return _page(request, token, status=exc.status, typed=availability, conflict=exc.message)
    return RedirectResponse(f"/portal/{token}?saved=1#availability", status_code=303)

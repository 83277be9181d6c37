"""Rendering a page: the template, plus what every layout needs."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from matchdesk.accounts.preferences import display_zone_of
from matchdesk.web.security import app_of, template_context

DISPLAY_ZONE = "display_zone"  # the session's copy of the operator's display zone


def display_zone(request: Request) -> str:
    """The zone this page shows times in: the signed-in operator's choice (Settings), read
    once per session and kept in it, else the program's zone."""
    md = app_of(request)
    principal = getattr(request.state, "principal", None)
    if principal is None or principal.kind != "operator":
        return md.program.program.timezone
    cached = request.session.get(DISPLAY_ZONE)
    if not isinstance(cached, str):
        with md.transaction() as session:
            cached = display_zone_of(session, principal.id)
        request.session[DISPLAY_ZONE] = cached
    return cached or md.program.program.timezone


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    layout = {**template_context(request), "display_zone": display_zone(request)}
    return templates.TemplateResponse(request, name, {**layout, **context}, status_code=status)

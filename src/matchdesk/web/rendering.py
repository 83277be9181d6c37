"""Rendering a page: the template, plus what every layout needs."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from matchdesk.web.security import template_context


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, name, {**template_context(request), **context}, status_code=status
    )

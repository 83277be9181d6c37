"""/api/docs: Swagger UI over /openapi.json, served from the vendored copy (no CDN), with
its start-up in a static file (static/api_docs.js) rather than the inline script of
FastAPI's own docs page, so the page keeps the app's Content-Security-Policy."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)


@router.get("/api/docs")
async def api_docs(request: Request) -> Response:  # async: a template and nothing else
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "api_docs.html", {"openapi_url": request.app.openapi_url}
    )
    return response

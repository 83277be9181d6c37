"""The one error path: every error becomes a friendly HTML page, or for the API (and any
client asking for JSON) the one shape `{"error": {"code", "message", "details"}}`.
No stack trace ever reaches a user; unexpected errors are logged with one."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from matchdesk.errors import MatchdeskError
from matchdesk.web.security import NotSignedIn, template_context

log = logging.getLogger("matchdesk.web")

_HTTP_CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}
_TITLES = {401: "Please sign in", 403: "Not allowed", 404: "Not found", 409: "Changed meanwhile"}


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: list[Any] | None = None,
    links: list[tuple[str, str]] | None = None,
) -> Response:
    if wants_json(request):
        body = {"error": {"code": code, "message": message, "details": details or []}}
        return JSONResponse(body, status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            **template_context(request),
            "i18n": _creator_language(request),
            "status": status,
            "title": _TITLES.get(status, "Something is not right" if status < 500 else "Sorry"),
            "message": message,
            "details": details or [],
            "links": links or [],
        },
        status_code=status,
    )


def _creator_language(request: Request) -> Any:
    """On a portal page, the creator's language (the page's words are translated)."""
    from matchdesk.web.routes.portal import error_messages

    try:
        return error_messages(request)
    except Exception:  # an error page must render whatever else has failed
        log.exception("the creator's language for an error page")
        return None


def _validation_details(exc: RequestValidationError) -> list[str]:
    details = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        details.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", ""))
    return details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MatchdeskError)
    async def domain_error(request: Request, exc: MatchdeskError) -> Response:
        if isinstance(exc, NotSignedIn) and not wants_json(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return error_response(
            request, exc.status, exc.code, exc.message, exc.details, getattr(exc, "links", [])
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(
            request, 422, "invalid_input", "The request is not valid.", _validation_details(exc)
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else "The request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = "There is nothing at this address."
        return error_response(request, exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            request,
            500,
            "internal_error",
            "Something went wrong on our side. It has been logged; please try again.",
        )

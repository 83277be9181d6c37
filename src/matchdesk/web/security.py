"""Who is asking, and may they: sessions for operators, bearer tokens for integrations,
CSRF protection for everything a cookie authenticates, and role checks."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Depends, Request

from matchdesk import clock
from matchdesk.accounts.roles import Role, allows
from matchdesk.accounts.service import (
    end_session,
    session_identity,
    start_session,
    verify_token,
)
from matchdesk.context import Matchdesk
from matchdesk.errors import MatchdeskError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class NotSignedIn(MatchdeskError):
    code = "not_signed_in"
    status = 401


class Forbidden(MatchdeskError):
    code = "forbidden"
    status = 403


class CsrfRefused(MatchdeskError):
    code = "csrf_failed"
    status = 403


@dataclass(frozen=True)
class Principal:
    """The signed-in operator or the API token making a request."""

    kind: str  # "operator" or "token"
    id: int
    name: str  # e-mail of the operator, name of the token
    role: Role
    via_cookie: bool

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"{self.kind}:{self.name}"


def app_of(request: Request) -> Matchdesk:
    md: Matchdesk = request.app.state.md
    return md


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use); forms carry it in `csrf_token`,
    scripts in the `X-CSRF-Token` header."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


class BadRequest(MatchdeskError):
    code = "bad_request"
    status = 400


def refuse_nul(fields: Iterable[tuple[str, object]]) -> None:
    """PostgreSQL refuses NUL in text: a form field holding one is refused here, with its
    name, before it can reach the database (a 500 otherwise)."""
    for name, value in fields:
        text = value if isinstance(value, str) else getattr(value, "filename", None) or ""
        if "\x00" in text:
            raise BadRequest(f"The field {name[:40]!r} contains a NUL character.")


async def _presented_csrf(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        refuse_nul(form.multi_items())
        header = request.headers.get(CSRF_HEADER)
        value = header or form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return request.headers.get(CSRF_HEADER) or ""


def verify_csrf(request: Request, presented: str) -> None:
    """`check_csrf` for a sync handler that took the token as a form field (a script may
    send it in the header instead)."""
    presented = request.headers.get(CSRF_HEADER) or presented
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, presented):
        raise CsrfRefused(
            "This form has expired or did not come from matchdesk. Reload the page and try again."
        )


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing request made with the session cookie unless it carries the
    session's CSRF token. Bearer-token requests carry no ambient credentials: exempt."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    expected = request.session.get("csrf")
    presented = await _presented_csrf(request)
    if not isinstance(expected, str) or not hmac.compare_digest(expected, presented):
        raise CsrfRefused(
            "This form has expired or did not come from matchdesk. Reload the page and try again."
        )


def _principal(request: Request) -> Principal | None:
    md = app_of(request)
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        with md.transaction() as session:
            token = verify_token(session, authorization[7:].strip())
            if token is None:
                raise NotSignedIn("The API token is unknown or revoked.")
            return Principal("token", token.id, token.name, token.role, via_cookie=False)  # type: ignore[arg-type]
    sid = request.session.get("sid")
    if not isinstance(sid, str):
        return None
    with md.transaction() as session:
        operator = session_identity(session, sid)
    if operator is None:  # signed out, expired, removed or deactivated since signing in
        request.session.clear()
        return None
    operator_id, email, role = operator
    return Principal("operator", operator_id, email, role, via_cookie=True)  # type: ignore[arg-type]


async def optional_principal(request: Request) -> Principal | None:
    # Async on purpose: the lookup is one indexed read, cheaper than a hop to the thread
    # pool and back on every request.
    principal = _principal(request)
    request.state.principal = principal
    return principal


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the request's principal, who must hold at least `role`. Refuses
    anonymous requests (401) and weaker roles (403); checks CSRF for cookie sessions."""

    async def dependency(
        request: Request, principal: Principal | None = Depends(optional_principal)
    ) -> Principal:
        if principal is None:
            raise NotSignedIn("Please sign in.")
        if not allows(principal.role, role):
            raise Forbidden(f"This needs the {role} role; you are signed in as a {principal.role}.")
        if principal.via_cookie:
            await check_csrf(request)
        return principal

    return dependency


def sign_in(request: Request, operator_id: int) -> None:
    """Start a fresh session (a new CSRF token too, so none can be planted beforehand)."""
    md = app_of(request)
    with md.transaction() as session:
        sid = start_session(session, operator_id, md.settings.session_hours)
    request.session.clear()
    request.session["sid"] = sid
    csrf_token(request)


def sign_out(request: Request) -> None:
    """End the session on the server (a copy of the cookie no longer works) and here."""
    sid = request.session.get("sid")
    if isinstance(sid, str):
        with app_of(request).transaction() as session:
            end_session(session, sid)
    request.session.clear()


def template_context(request: Request) -> dict[str, Any]:
    """What every page's layout needs: the principal, the CSRF token, the program."""
    return {
        "principal": getattr(request.state, "principal", None),
        "csrf_token": csrf_token(request),
        "program": app_of(request).program,
    }


# --- Known devices --------------------------------------------------------------------------

DEVICE_COOKIE = "matchdesk_device"
DEVICE_DAYS = 180


def _device_signer(request: Request) -> Any:
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(app_of(request).settings.signing_key(), salt="known-device")


def device_cookie(request: Request, operator_id: int, mark: str) -> str:
    """A signed note that this browser signed in as the operator (with this password)."""
    token: str = _device_signer(request).dumps({"op": operator_id, "mark": mark})
    return token


def known_device(request: Request, operator_id: int, mark: str) -> bool:
    """Whether the request comes from a browser that signed in as the operator before."""
    from itsdangerous import BadSignature

    raw = request.cookies.get(DEVICE_COOKIE, "")
    if not raw or len(raw) > 500:
        return False
    try:
        note = _device_signer(request).loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return False
    return isinstance(note, dict) and note.get("op") == operator_id and note.get("mark") == mark


# --- The access log -------------------------------------------------------------------------

_PORTAL_TOKEN = re.compile(r"/portal/[^/?\s]+")


class RedactPortalTokens(logging.Filter):
    """Keeps portal tokens (they open a creator's portal) out of uvicorn's access log:
    `/portal/<token>/...` is logged as `/portal/[token]/...`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _PORTAL_TOKEN.sub("/portal/[token]", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


def redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactPortalTokens) for f in access.filters):
        access.addFilter(RedactPortalTokens())


# --- Every request --------------------------------------------------------------------------

# Scripts and styles come from this origin's files only: no inline <script>, on* handler,
# javascript: URL, eval or inline style (templates declare behaviour with data- attributes
# read by static/*.js; vega draws with its interpreter, htmx runs with allowEval off).
# Styles set through the DOM (element.style, as vega, htmx and Swagger UI's React do) are not
# inline styles to the policy; vega-tooltip's and htmx's injected <style> are turned off.
# Images may be data: URLs (Swagger UI's icons).
_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
CONTENT_SECURITY_POLICY = "; ".join(f"{k} {v}" for k, v in _POLICY.items())
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
]
_CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]|%[01][0-9a-fA-F]|%7[fF]")


class HardeningMiddleware:
    """Pure ASGI: refuses a path or query string holding a control character (NUL
    reaching PostgreSQL is a 500) with a 400, and adds the browser-hardening headers to
    every answer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        # The API validates its own path and query parameters (a 422 in its error shape
        # naming each one, as its schema documents); every other route gets the 400 here.
        checked = not scope["path"].startswith("/api/")
        if checked and (
            _CONTROL_BYTES.search(raw_path) or _CONTROL_BYTES.search(scope["query_string"])
        ):
            body = b"The address contains a control character (such as NUL)."
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        *SECURITY_HEADERS,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_hardened(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_hardened)


class LoginGate:
    """Pure ASGI, in front of everything: a sign-in (`POST /login`) from a client address
    that is locked out (`locks`: address -> until when, noted by the sign-in route) is
    answered 429 at once, before the form, the session, the database or argon2, so that a
    storm of wrong passwords costs the server next to nothing once its address is locked.
    A browser with a known-device cookie goes on to the full check (it may pass a lock)."""

    def __init__(self, app: Any, locks: dict[str, datetime]) -> None:
        self.app, self.locks = app, locks

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/login":
            client = (scope.get("client") or ("",))[0]
            until = self.locks.get(client)
            if until is not None and not _has_device_cookie(scope):
                now = clock.now()
                if until > now:
                    await _refuse_sign_in(send, until, now)
                    return
                self.locks.pop(client, None)
        await self.app(scope, receive, send)


MAX_NOTED_LOCKS = 10_000


def note_client_lock(locks: dict[str, datetime], client: str, until: datetime) -> None:
    """Note that `client` is locked out until `until` (for `LoginGate`); past
    `MAX_NOTED_LOCKS` addresses the expired notes are dropped first, and if every one is
    still running, the note is not kept (the database still refuses that address)."""
    if len(locks) >= MAX_NOTED_LOCKS:
        now = clock.now()
        for address in [a for a, t in locks.items() if t <= now]:
            del locks[address]
        if len(locks) >= MAX_NOTED_LOCKS:
            return
    locks[client] = until


def _has_device_cookie(scope: Any) -> bool:
    cookies = b"".join(v for k, v in scope.get("headers", []) if k == b"cookie")
    return DEVICE_COOKIE.encode() + b"=" in cookies


async def _refuse_sign_in(send: Any, until: datetime, now: datetime) -> None:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    text = (
        "Too many failed sign-ins from your address; try again in "
        f"{minutes} minute{'s' if minutes > 1 else ''}."
    )
    body = (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Sign in</title>'
        f'<link rel="stylesheet" href="/static/matchdesk.css"><p role="alert">{text}</p>'
        '<p><a href="/login">Sign in</a></p></html>'
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(int((until - now).total_seconds()) + 1).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

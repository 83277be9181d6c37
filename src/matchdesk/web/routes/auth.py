"""Sign in and sign out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from matchdesk.accounts.service import (
    SignInRefused,
    begin_sign_in,
    check_password,
    client_locked_until,
    device_mark,
    finish_sign_in,
)
from matchdesk.web.rendering import render
from matchdesk.web.security import (
    DEVICE_COOKIE,
    DEVICE_DAYS,
    Principal,
    app_of,
    device_cookie,
    known_device,
    note_client_lock,
    optional_principal,
    refuse_nul,
    sign_in,
    sign_out,
    verify_csrf,
)

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    # Only paths on this site: "//evil.example" or "https://..." would be an open redirect.
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _form(
    request: Request, email: str = "", error: str = "", next_: str = "/", status: int = 200
) -> Response:
    return render(request, "login.html", status, email=email, error=error, next=next_)


@router.get("/login")
def login_page(
    request: Request,
    next: str = "/",
    principal: Principal | None = Depends(optional_principal),
) -> Response:
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _form(request, next_=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    csrf_token: str = Form(""),
) -> Response:
    # Sync on purpose: argon2 and the database run in the thread pool, not on the event
    # loop, so a storm of wrong passwords does not stall every other request. The password
    # is checked between two transactions: no database connection waits on argon2.
    verify_csrf(request, csrf_token)
    refuse_nul([("email", email), ("next", next)])
    md = app_of(request)
    refused: SignInRefused | None = None
    locked_until = None
    client = request.client.host if request.client else ""
    operator_id, mark = 0, ""
    try:
        with md.transaction() as session:
            attempt = begin_sign_in(
                session,
                email,
                password,
                client,
                lambda op: known_device(request, op.id, device_mark(op)),
            )
        verified = check_password(attempt, password)
        with md.transaction() as session:
            try:
                operator = finish_sign_in(session, attempt, password, verified)
                operator_id, mark = operator.id, device_mark(operator)
            except SignInRefused as exc:
                refused = exc  # caught inside, so the failure count is committed
                locked_until = client_locked_until(session, client)
    except SignInRefused as exc:  # locked: refused before any password was checked
        refused = exc
        with md.transaction() as session:
            locked_until = client_locked_until(session, client)
    if refused is not None:
        if locked_until is not None:  # later attempts from there: refused at the door
            note_client_lock(request.app.state.login_locks, client, locked_until)
        return _form(
            request,
            email=email,
            error=refused.message,
            next_=_safe_next(next),
            status=refused.status,
        )
    sign_in(request, operator_id)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        DEVICE_COOKIE,
        device_cookie(request, operator_id, mark),
        max_age=DEVICE_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=md.settings.environment == "production",
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    verify_csrf(request, csrf_token)
    sign_out(request)
    return RedirectResponse("/login", status_code=303)

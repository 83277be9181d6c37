"""Sign in and sign out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from matchdesk.accounts.service import SignInRefused, authenticate
from matchdesk.web.rendering import render
from matchdesk.web.security import (
    Principal,
    app_of,
    check_csrf,
    optional_principal,
    sign_in,
    sign_out,
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
async def login(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    await check_csrf(request)
    md = app_of(request)
    refused: SignInRefused | None = None
    with md.transaction() as session:
        try:
            operator_id = authenticate(session, email, password).id
        except SignInRefused as exc:
            refused = exc  # caught inside, so the failure count is committed
    if refused is not None:
        return _form(
            request,
            email=email,
            error=refused.message,
            next_=_safe_next(next),
            status=refused.status,
        )
    sign_in(request, operator_id)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await check_csrf(request)
    sign_out(request)
    return RedirectResponse("/login", status_code=303)

"""Settings: the program's rules (read-only here; they live in the program file),
operators and API tokens (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from matchdesk.accounts.roles import ROLES
from matchdesk.accounts.service import (
    create_operator,
    create_token,
    list_operators,
    list_tokens,
    revoke_token,
)
from matchdesk.audit import record
from matchdesk.errors import MatchdeskError
from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)


def _page(request: Request, principal: Principal, status: int = 200, **extra: object) -> Response:
    md = app_of(request)
    context: dict[str, object] = {
        "settings": md.settings,
        "roles": ROLES,
        "operators": [],
        "tokens": [],
        "error": "",
        "new_token": "",
    }
    if principal.role == "admin":
        with md.transaction() as session:
            context["operators"] = list_operators(session)
            context["tokens"] = list_tokens(session)
    context.update(extra)
    return render(request, "settings.html", status, **context)


@router.get("/settings")
def settings_page(request: Request, principal: Principal = Depends(require("viewer"))) -> Response:
    return _page(request, principal)


@router.post("/settings/operators")
def add_operator(
    request: Request,
    email: str = Form(..., max_length=254),
    name: str = Form("", max_length=100),
    role: str = Form(..., max_length=10),
    password: str = Form(..., max_length=200),
    principal: Principal = Depends(require("admin")),
) -> Response:
    md = app_of(request)
    try:
        with md.transaction() as session:
            operator = create_operator(session, email, password, role, name)
            record(
                session,
                principal.actor,
                "operator_created",
                "operator",
                operator.email,
                after={"role": role},
            )
    except MatchdeskError as exc:
        return _page(request, principal, status=exc.status, error=exc.message)
    return RedirectResponse("/settings#operators", status_code=303)


@router.post("/settings/tokens")
def add_token(
    request: Request,
    name: str = Form(..., max_length=100),
    role: str = Form(..., max_length=10),
    principal: Principal = Depends(require("admin")),
) -> Response:
    md = app_of(request)
    try:
        with md.transaction() as session:
            issued = create_token(session, name, role, created_by=principal.id)
            record(
                session,
                principal.actor,
                "token_created",
                "api_token",
                issued.record.prefix,
                after={"role": role, "name": name},
            )
    except MatchdeskError as exc:
        return _page(request, principal, status=exc.status, error=exc.message)
    return _page(request, principal, new_token=issued.token)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke(
    request: Request, token_id: int, principal: Principal = Depends(require("admin"))
) -> Response:
    md = app_of(request)
    with md.transaction() as session:
        token = revoke_token(session, token_id)
        record(session, principal.actor, "token_revoked", "api_token", token.prefix)
    return RedirectResponse("/settings#tokens", status_code=303)

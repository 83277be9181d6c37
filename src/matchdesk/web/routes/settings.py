"""Settings: each operator's display time zone; the program's tiers and matching rules
(admins edit them, validated as the program file is, audited, in effect at once);
operators and API tokens (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from matchdesk.accounts.preferences import set_display_zone, zone_names
from matchdesk.accounts.roles import ROLES
from matchdesk.accounts.service import (
    create_operator,
    create_token,
    list_operators,
    list_tokens,
    revoke_token,
)
from matchdesk.audit import record
from matchdesk.errors import InvalidInput, MatchdeskError
from matchdesk.program_store import (
    MATCHING_KEYS,
    TIER_KEYS,
    save_program,
    saved_program,
    with_rules,
)
from matchdesk.roster.tiers import ensure_tiers_current
from matchdesk.web.rendering import DISPLAY_ZONE, render
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
        "flash": request.session.pop("flash", None),
        "program_version": 0,
        "program_form": None,
        "program_problems": [],
        "zone_problems": [],
        "zones": zone_names(),
        "program_tiers": [t.model_dump() for t in md.program.tiers],
        "program_rules": md.program.matching.model_dump(),
    }
    with md.transaction() as session:
        saved = saved_program(session)
        context["program_version"] = saved[1] if saved else 0
        if principal.role == "admin":
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


@router.post("/settings/display-zone")
def display_zone_save(
    request: Request,
    timezone: str = Form("", max_length=64),
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """The zone this operator reads times in ("" the program's); any operator, for themself."""
    md = app_of(request)
    if principal.kind != "operator":
        raise InvalidInput("only a signed-in operator has a display time zone")
    try:
        with md.transaction() as session:
            before, after = set_display_zone(session, principal.id, timezone)
            record(
                session,
                principal.actor,
                "display_zone_set",
                "operator",
                principal.name,
                before={"display_timezone": before},
                after={"display_timezone": after},
            )
    except InvalidInput as exc:
        return _page(request, principal, status=exc.status, zone_problems=exc.details)
    request.session[DISPLAY_ZONE] = after
    shown = after or f"the program's ({md.program.program.timezone})"
    request.session["flash"] = f"Times are shown in {shown}."
    return RedirectResponse("/settings#display-zone", status_code=303)


@router.post("/settings/program")
def program_save(
    request: Request,
    version: int = Form(..., ge=0, le=2**31 - 1),
    tier_name: list[str] = Form(default=[]),
    tier_min_revenue_30d: list[str] = Form(default=[]),
    tier_min_followers: list[str] = Form(default=[]),
    tier_cadence: list[str] = Form(default=[]),
    tier_checkin_every_weeks: list[str] = Form(default=[]),
    duration_minutes: str = Form("", max_length=20),
    max_tier_distance: str = Form("", max_length=20),
    require_shared_language: str = Form("", max_length=10),
    rematch_cooldown_rounds: str = Form("", max_length=20),
    slot_step_minutes: str = Form("", max_length=20),
    principal: Principal = Depends(require("admin")),
) -> Response:
    """Save the tiers and matching rules: validated as the program file is, audited, in
    effect at once (every creator's tier is recomputed when the tiers change)."""
    md = app_of(request)
    columns = (
        tier_name,
        tier_min_revenue_30d,
        tier_min_followers,
        tier_cadence,
        tier_checkin_every_weeks,
    )
    rows = [
        dict(zip(TIER_KEYS, (c[i][:40] if i < len(c) else "" for c in columns), strict=True))
        for i in range(min(len(tier_name), 50))
    ]
    matching = dict(
        zip(
            MATCHING_KEYS,
            (
                duration_minutes,
                max_tier_distance,
                require_shared_language,
                rematch_cooldown_rounds,
                slot_step_minutes,
            ),
            strict=True,
        )
    )
    try:
        with md.transaction() as session:
            data = with_rules(md.program, rows, matching)
            program, saved_version = save_program(
                session, md.program, data, actor=principal.actor, expected_version=version
            )
            retiered = ensure_tiers_current(session, program)
    except MatchdeskError as exc:
        form = {"tiers": rows, "matching": matching, "version": version}
        return _page(
            request,
            principal,
            status=exc.status,
            program_form=form,
            program_problems=[exc.message, *exc.details],
        )
    md.program = program  # in effect for the next request of this app
    request.session["flash"] = (
        f"Program settings saved (version {saved_version}); "
        f"{retiered} creator{'' if retiered == 1 else 's'} changed tier."
    )
    return RedirectResponse("/settings#program", status_code=303)

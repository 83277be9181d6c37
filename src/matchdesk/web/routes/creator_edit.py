"""Creator editing in the app: add a creator, edit one (every field of the roster file,
with the version read, so a stale edit is refused), pause and resume, and the roster
page's bulk changes (pause, resume, tier, manager). The rules live in roster/editing.py
and roster/bulk.py, the same as the API's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from matchdesk.accounts.preferences import zone_names
from matchdesk.accounts.service import list_operators
from matchdesk.errors import Conflict, InvalidInput, MatchdeskError, NotFound
from matchdesk.roster.bulk import bulk_change, parse_selection
from matchdesk.roster.editing import create_creator, update_creator
from matchdesk.roster.forms import FIELDS, changed_fields, form_values
from matchdesk.roster.service import get_creator
from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=2000)]
Version = Annotated[int, Form(ge=1, le=2**31 - 1)]


def _form(
    request: Request,
    *,
    values: dict[str, str],
    handle: str = "",
    version: int | None = None,
    status: int = 200,
    message: str = "",
    problems: list[str] | None = None,
) -> Response:
    with app_of(request).transaction() as session:
        operators = [o.email for o in list_operators(session)]
    return render(
        request,
        "creator_edit.html",
        status,
        fields=FIELDS,
        values=values,
        handle=handle,
        version=version,
        message=message,
        problems=problems or [],
        operators=operators,
        zones=zone_names(),
    )


def _submitted(
    display_name: Text = "",
    email: Text = "",
    timezone: Text = "",
    languages: Text = "",
    region: Text = "",
    category: Text = "",
    followers: Text = "",
    revenue_30d: Text = "",
    availability: Text = "",
    blocked: Text = "",
    status: Text = "active",
    manager: Text = "",
) -> dict[str, str]:
    """The creator form's fields as submitted (a dependency of both the add and the edit)."""
    return {
        "display_name": display_name,
        "email": email,
        "timezone": timezone,
        "languages": languages,
        "region": region,
        "category": category,
        "followers": followers,
        "revenue_30d": revenue_30d,
        "availability": availability,
        "blocked": blocked,
        "status": status,
        "manager": manager,
    }


Submitted = Annotated[dict[str, str], Depends(_submitted)]


@router.get("/creators/new")
def creator_new(request: Request, principal: Principal = Depends(require("manager"))) -> Response:
    return _form(request, values={"status": "active", "timezone": "UTC"})


@router.post("/creators/new")
def creator_add(
    request: Request,
    values: Submitted,
    handle: Annotated[str, Form(max_length=30)] = "",
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Add a creator, every field checked as the roster file's cell is; audited."""
    md = app_of(request)
    fields = {"handle": handle, **{k: v for k, v in values.items() if v.strip()}}
    try:
        with md.transaction() as session:
            creator = create_creator(session, md.program, fields, principal.actor)
            added = creator.handle
    except MatchdeskError as exc:
        return _form(
            request,
            values={**values, "handle": handle},
            status=exc.status,
            message=exc.message,
            problems=exc.details,
        )
    request.session["flash"] = f"@{added} added to the roster."
    return RedirectResponse(f"/creators/{added}", status_code=303)


@router.get("/creators/{handle}/edit")
def creator_edit(
    request: Request, handle: str, principal: Principal = Depends(require("manager"))
) -> Response:
    with app_of(request).transaction() as session:
        creator = get_creator(session, handle)
        if creator is None:
            raise NotFound(f"No creator with handle @{handle.lstrip('@')}.")
        values, version, found = form_values(session, creator), creator.version, creator.handle
    return _form(request, values=values, handle=found, version=version)


@router.post("/creators/{handle}/edit")
def creator_save(
    request: Request,
    handle: str,
    version: Version,
    submitted: Submitted,
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Save the fields that changed, if nobody changed the creator since the form was read."""
    md = app_of(request)
    try:
        with md.transaction() as session:
            creator = get_creator(session, handle)
            if creator is None:
                raise NotFound(f"No creator with handle @{handle.lstrip('@')}.")
            found = creator.handle
            changes = changed_fields(form_values(session, creator), submitted)
            if changes:
                update_creator(session, md.program, found, changes, principal.actor, version)
    except (InvalidInput, Conflict) as exc:
        return _form(
            request,
            values=submitted,
            handle=handle,
            version=version,
            status=exc.status,
            message=exc.message,
            problems=exc.details,
        )
    request.session["flash"] = (
        f"Saved @{found}: {', '.join(k.replace('_', ' ') for k in changes)}."
        if changes
        else "Nothing to save: no field changed."
    )
    return RedirectResponse(f"/creators/{found}", status_code=303)


@router.post("/creators/{handle}/status")
def creator_pause_resume(
    request: Request,
    handle: str,
    version: Version,
    status: Annotated[str, Form(max_length=10)],
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Pause (left out of new rounds) or resume a creator, with the version read."""
    md = app_of(request)
    with md.transaction() as session:
        creator = update_creator(
            session, md.program, handle, {"status": status}, principal.actor, version
        )
        found, now = creator.handle, creator.status
    request.session["flash"] = f"@{found} is {now}."
    return RedirectResponse(f"/creators/{found}", status_code=303)


@router.post("/creators/bulk")
def creators_bulk(
    request: Request,
    action: Annotated[str, Form(max_length=10)],
    creator: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    bulk_tier: Annotated[str, Form(max_length=40)] = "",
    bulk_manager: Annotated[str, Form(max_length=254)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Pause, resume, set a tier or a manager for the checked creators: all or none."""
    md = app_of(request)
    try:
        selection = parse_selection(creator)
        with md.transaction() as session:
            value = bulk_tier if action == "tier" else bulk_manager
            done = bulk_change(session, md.program, selection, action, value, principal.actor)
        verb = {
            "pause": "paused",
            "resume": "resumed",
            "tier": f"moved to tier {done.value}",
            "manager": f"given to {done.value}" if done.value else "left without a manager",
        }[done.action]
        note = f"{len(done.changed)} creator{'' if len(done.changed) == 1 else 's'} {verb}"
        if done.unchanged:
            note += f"; {len(done.unchanged)} already so"
        request.session["flash"] = note + "."
    except MatchdeskError as exc:
        request.session["flash_error"] = " ".join([exc.message, *exc.details])
    # Back to the same roster view (only a roster query, never another site).
    query = back if back.startswith("?") else ""
    return RedirectResponse(f"/creators{query}", status_code=303)

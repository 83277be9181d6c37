"""Help for editing a round's board: who a creator with a bye could be paired with (and
why not each of the others), from where a manager pairs them; undo of the last edit;
handle suggestions for the board's and the creator form's handle boxes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from matchdesk.errors import Conflict, InvalidInput
from matchdesk.roster.queries import CreatorFilter, search_creators
from matchdesk.rounds.board import Edit
from matchdesk.rounds.bye_options import bye_options
from matchdesk.rounds.service import get_round
from matchdesk.rounds.undo import undo_last
from matchdesk.web.addresses import served_settings
from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)

RoundId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SUGGESTIONS = 12


@router.get("/rounds/{round_id}/byes/{handle}")
def round_bye_options(
    request: Request,
    round_id: RoundId,
    handle: Annotated[str, Path(max_length=30)],
    principal: Principal = Depends(require("viewer")),
) -> Response:
    md = app_of(request)
    with md.transaction() as session:
        round_ = get_round(session, round_id)
        found = bye_options(session, md.program, round_id, handle)
        return render(request, "bye_options.html", round=round_, found=found)


@router.get("/creators/suggest")
async def creators_suggest(  # async: the in-memory roster index, as the roster list
    request: Request,
    q: str = Query("", max_length=30),
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """Up to 12 creators whose handle or name holds `q`: `[{"handle", "name"}]`."""
    needle = q.strip().lstrip("@")
    if len(needle) < 2:
        return JSONResponse([])
    md = app_of(request)
    with md.transaction() as session:
        result = search_creators(
            session,
            CreatorFilter(q=needle),
            per_page=SUGGESTIONS,
            index=request.app.state.roster_index,
        )
    found = [{"handle": c.handle, "name": c.display_name} for c in result.creators[:SUGGESTIONS]]
    return JSONResponse(found)


@router.post("/rounds/{round_id}/undo")
def round_undo(
    request: Request,
    round_id: RoundId,
    version: Annotated[int, Form(ge=1, le=2**31 - 1)],
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Undo the round's last board edit (with the version the board showed)."""
    md = app_of(request)
    try:
        with md.transaction() as session:
            done = undo_last(
                session,
                served_settings(request),
                md.program,
                round_id,
                Edit(principal.actor, version),
            )
        request.session["flash"] = done.note
    except (Conflict, InvalidInput) as exc:
        request.session["flash"] = " ".join([exc.message, *exc.details])
    return RedirectResponse(f"/rounds/{round_id}", status_code=303)

"""The tier review page: the proposed tier moves with their figures; a manager applies
all, some or none of them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from matchdesk.errors import InvalidInput
from matchdesk.results.tier_review import Proposal, apply_moves, review
from matchdesk.rounds.period import program_today
from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)


def _page(
    request: Request, status: int = 200, applied: list[Proposal] | None = None, **context: object
) -> Response:
    md = app_of(request)
    today = program_today(md.program.program.timezone)
    with md.transaction() as session:
        proposals = review(session, md.program, today)
    return render(
        request,
        "tiers_review.html",
        status,
        **{
            "proposals": proposals,
            "today": today,
            "weeks": md.program.program.tier_review_weeks,
            "applied": applied or [],
            "message": "",
            "problems": [],
            **context,
        },
    )


@router.get("/tiers/review")
def tiers_review_page(
    request: Request, principal: Principal = Depends(require("viewer"))
) -> Response:
    return _page(request)


@router.post("/tiers/review")
def tiers_review_apply(
    request: Request,
    handle: list[str] = Form(default=[]),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Apply the checked moves (all or none of them: a move no longer proposed refuses)."""
    md = app_of(request)
    if not handle:
        return _page(request, status=422, message="Check at least one tier move to apply.")
    today = program_today(md.program.program.timezone)
    try:
        with md.transaction() as session:
            applied = apply_moves(session, md.program, today, actor=principal.actor, handles=handle)
    except InvalidInput as exc:
        return _page(request, status=422, message=exc.message, problems=exc.details)
    return _page(request, applied=applied)

"""The Results page: the latest imported sessions, and a results file's import in two
steps (check, then confirm), like the roster's."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from matchdesk.audit import record
from matchdesk.errors import InvalidInput
from matchdesk.results.service import (
    MAX_UPLOAD_BYTES,
    confirm_upload,
    count_sessions,
    latest_sessions,
    stage_upload,
)
from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)
LATEST = 20


def _page(request: Request, status: int = 200, **context: object) -> Response:
    md = app_of(request)
    with md.transaction() as session:
        latest = latest_sessions(session, LATEST)
        total = count_sessions(session)
    return render(
        request,
        "results.html",
        status,
        **{"problems": [], "report": None, "latest": latest, "total": total, **context},
    )


@router.get("/results")
def results_page(request: Request, principal: Principal = Depends(require("viewer"))) -> Response:
    return _page(request)


# Both steps are sync: checking and writing a file is CPU and database work, which runs in
# the thread pool rather than stalling the event loop (issue 15, finding 2).
@router.post("/results")
def results_check(
    request: Request,
    file: UploadFile = File(...),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Step 1: check the file and show every problem, or a preview of the import."""
    md = app_of(request)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    name = file.filename or "results.csv"
    try:
        with md.transaction() as session:
            upload_id, report = stage_upload(session, md.program, data, name, principal.actor)
    except InvalidInput as exc:
        return _page(request, status=422, filename=name, message=exc.message, problems=exc.details)
    return _page(request, filename=name, report=report, upload_id=upload_id)


@router.post("/results/confirm")
def results_confirm(
    request: Request,
    upload_id: str = Form(..., max_length=64),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Step 2: import the checked file; every row or none."""
    md = app_of(request)
    try:
        with md.transaction() as session:
            name, report = confirm_upload(session, md.program, upload_id, actor=principal.actor)
            record(
                session,
                principal.actor,
                "results_imported",
                "results",
                name,
                after={
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "matches_completed": report.matches_completed,
                },
            )
    except InvalidInput as exc:
        return _page(request, status=422, message=exc.message, problems=exc.details)
    return _page(request, filename=name, report=report, imported=True)

"""The Results page: the latest imported sessions, and a results file's import in two
steps (check, then confirm), like the roster's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from matchdesk.audit import record
from matchdesk.errors import InvalidInput
from matchdesk.jobs import service as jobs
from matchdesk.results import jobs as import_jobs
from matchdesk.results.service import (
    MAX_UPLOAD_BYTES,
    confirm_upload,
    count_sessions,
    latest_sessions,
    stage_upload,
)
from matchdesk.web.job_links import finished_import
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
            if len(data) > md.settings.import_inline_bytes:  # checked by a job, with progress
                upload_id = import_jobs.keep_upload(session, data, name, principal.actor)
                payload = {"upload_id": upload_id, "actor": principal.actor}
                job = jobs.submit(session, import_jobs.CHECK, payload)
                return RedirectResponse(f"/jobs/{job.id}", status_code=303)
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
            size = import_jobs.upload_size(session, upload_id)
            if size is not None and size > md.settings.import_inline_bytes:
                payload = {"upload_id": upload_id, "actor": principal.actor}
                job = jobs.submit(session, import_jobs.WRITE, payload)
                return RedirectResponse(f"/jobs/{job.id}", status_code=303)
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


@router.get("/results/jobs/{job_id}")
def results_job_outcome(
    request: Request,
    job_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    principal: Principal = Depends(require("manager")),
) -> Response:
    """What a big file's check or import job found: the problems, the preview with the
    confirm button, or the import done (the job's progress page leads here)."""
    kinds = (import_jobs.CHECK, import_jobs.WRITE)
    found = finished_import(request, job_id, kinds, "a results import")
    if isinstance(found, RedirectResponse):
        return found
    job, outcome = found
    if "problems" in outcome:
        return _page(request, status=422, **outcome)
    report = import_jobs.report_of(outcome.pop("report"))
    return _page(request, report=report, imported=job.kind == import_jobs.WRITE, **outcome)

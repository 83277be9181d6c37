"""The roster pages: the list (search, filters, sort, pages) and a creator's page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from matchdesk.accounts.service import list_operators
from matchdesk.audit import record
from matchdesk.errors import InvalidInput, MatchdeskError, NotFound
from matchdesk.jobs import service as jobs
from matchdesk.portal.links import PortalLink, issue_portal_link, revoke_portal_links
from matchdesk.roster import jobs as import_jobs
from matchdesk.roster.exporting import stream_csv, stream_xlsx
from matchdesk.roster.queries import CreatorFilter, search_creators
from matchdesk.roster.service import (
    MAX_UPLOAD_BYTES,
    ImportReport,
    confirm_upload,
    get_creator,
    stage_upload,
)
from matchdesk.roster.timeline import creator_blocks, creator_timeline
from matchdesk.rounds.lifecycle import reliability
from matchdesk.rounds.queries import match_history
from matchdesk.web.addresses import served_settings
from matchdesk.web.job_links import finished_import
from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)

EXPORTS = 2  # roster exports running at once, per app


class TooManyExports(MatchdeskError):
    code = "too_many_exports"
    status = 429


def exports_slots(request: Request) -> threading.BoundedSemaphore:
    """The app's export slots (made once, by `create_app`, so two first requests cannot
    each make their own)."""
    slots: threading.BoundedSemaphore = request.app.state.roster_exports
    return slots


@router.get("/creators")
async def creators_list(  # async: a short in-memory search, no thread-pool hop
    request: Request,
    q: str = Query("", max_length=100),
    tier: str = Query("", max_length=40),
    region: str = Query("", max_length=2),
    language: str = Query("", max_length=2),
    status: str = Query("", max_length=10),
    sort: str = Query("handle", max_length=20),
    page: int = Query(1, ge=1, le=100_000),
    principal: Principal = Depends(require("viewer")),
) -> Response:
    md = app_of(request)
    filters = CreatorFilter(q=q, tier=tier, region=region, language=language, status=status)
    with md.transaction() as session:
        index = request.app.state.roster_index
        result = search_creators(session, filters, sort=sort, page=page, index=index)
        choices = {**index.choices(session), "tier": [t.name for t in md.program.tiers]}
        if principal.role in ("manager", "admin"):  # the bulk change's manager choice
            choices["manager"] = [o.email for o in list_operators(session)]
    template = "creators_rows.html" if request.headers.get("hx-request") else "creators.html"
    flashes = {
        "flash": request.session.pop("flash", None),
        "flash_error": request.session.pop("flash_error", None),
    }
    return render(request, template, result=result, choices=choices, **flashes)


@router.get("/creators/export.{extension}")
def creators_export(
    request: Request, extension: str, principal: Principal = Depends(require("viewer"))
) -> Response:
    if extension not in ("csv", "xlsx"):
        raise NotFound("Exports are .csv or .xlsx.")
    md = app_of(request)
    # Streamed (one page of creators in memory) and bounded: at most EXPORTS at once.
    slots = exports_slots(request)
    if not slots.acquire(blocking=False):
        raise TooManyExports(f"{EXPORTS} exports are running; try again in a minute.")

    def body() -> Iterator[bytes]:
        try:
            with md.transaction() as session:
                yield from (stream_xlsx if extension == "xlsx" else stream_csv)(session)
        finally:
            slots.release()

    media = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }[extension]
    return StreamingResponse(
        body(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="roster.{extension}"'},
    )


def _import_page(request: Request, status: int = 200, **context: object) -> Response:
    return render(
        request, "creators_import.html", status, **{"problems": [], "report": None, **context}
    )


@router.get("/creators/import")
def import_page(request: Request, principal: Principal = Depends(require("manager"))) -> Response:
    return _import_page(request)


# The import steps are sync: checking and writing a file is CPU and database work, which
# runs in the thread pool rather than stalling the event loop (issue 15, finding 2).
@router.post("/creators/import")
def import_check(
    request: Request,
    file: UploadFile = File(...),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Step 1: check the file and show every problem, or what the import will do."""
    md = app_of(request)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    name = file.filename or "upload.csv"
    try:
        with md.transaction() as session:
            if len(data) > md.settings.import_inline_bytes:  # checked by a job, with progress
                upload_id = import_jobs.keep_upload(session, data, name, principal.name)
                job = jobs.submit(session, import_jobs.CHECK, {"upload_id": upload_id})
                return RedirectResponse(f"/jobs/{job.id}", status_code=303)
            upload_id, report = stage_upload(session, md.program, data, name, principal.name)
    except InvalidInput as exc:
        return _import_page(
            request, status=422, filename=name, message=exc.message, problems=exc.details
        )
    return _import_page(request, filename=name, report=report, upload_id=upload_id)


@router.post("/creators/import/confirm")
def import_confirm(
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
            name, report = confirm_upload(session, md.program, upload_id)
            record(
                session,
                principal.actor,
                "roster_imported",
                "roster",
                name,
                after={"created": report.created, "updated": report.updated},
            )
    except InvalidInput as exc:
        return _import_page(request, status=422, message=exc.message, problems=exc.details)
    return _import_page(request, filename=name, report=report, imported=True)


@router.get("/creators/import/jobs/{job_id}")
def import_job_outcome(
    request: Request,
    job_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    principal: Principal = Depends(require("manager")),
) -> Response:
    """What a big file's check or import job found: the problems, the preview with the
    confirm button, or the import done (the job's progress page leads here)."""
    kinds = (import_jobs.CHECK, import_jobs.WRITE)
    found = finished_import(request, job_id, kinds, "a roster import")
    if isinstance(found, RedirectResponse):
        return found
    job, outcome = found
    if "problems" in outcome:
        return _import_page(request, status=422, **outcome)
    report = ImportReport(**outcome.pop("report"))
    return _import_page(request, report=report, imported=job.kind == import_jobs.WRITE, **outcome)


@router.post("/creators/{handle}/portal-link")
def creator_portal_link(
    request: Request, handle: str, principal: Principal = Depends(require("manager"))
) -> Response:
    """A fresh signed link to the creator's portal, shown once on the creator's page."""
    md = app_of(request)
    with md.transaction() as session:
        link = issue_portal_link(session, served_settings(request), handle)
        record(session, principal.actor, "portal_link_issued", "creator", link.handle)
    return _creator_view(request, link.handle, portal_link=link)


@router.post("/creators/{handle}/portal-links/revoke")
def creator_portal_links_revoke(
    request: Request, handle: str, principal: Principal = Depends(require("manager"))
) -> Response:
    """Every portal link issued to the creator stops working at once."""
    md = app_of(request)
    with md.transaction() as session:
        creator = revoke_portal_links(session, handle)
        record(session, principal.actor, "portal_links_revoked", "creator", creator.handle)
        revoked = creator.handle
    return _creator_view(request, revoked)


@router.get("/creators/{handle}")
def creator_page(
    request: Request, handle: str, principal: Principal = Depends(require("viewer"))
) -> Response:
    return _creator_view(request, handle)


def _creator_view(request: Request, handle: str, portal_link: PortalLink | None = None) -> Response:
    md = app_of(request)
    with md.transaction() as session:
        creator = get_creator(session, handle)
        if creator is None:
            raise NotFound(f"No creator with handle @{handle.lstrip('@')}.")
        history = creator_timeline(session, creator)
        blocks = creator_blocks(session, creator.id)
        matches = match_history(session, creator.id)
        record = reliability(session, [creator.id])[creator.id]
    return render(
        request,
        "creator.html",
        creator=creator,
        history=history,
        blocks=blocks,
        portal_link=portal_link,
        matches=matches,
        reliability=record,
        flash=request.session.pop("flash", None),
    )

"""The results import as background jobs, for a file too big to check or write inside a
web request: `results.import.check` checks a kept upload (every problem, or what the
import will do with a preview of its first rows) and `results.import.write` imports it on
the manager's confirmation, both with progress. Their results are JSON documents the
Results page shows (`report_of` reads one back)."""

from __future__ import annotations

import secrets
from dataclasses import asdict, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matchdesk.audit import record
from matchdesk.errors import InvalidInput, NotFound
from matchdesk.jobs.registry import JobRegistry, JobResult, Progress
from matchdesk.jobs.steps import refusal, step_progress
from matchdesk.results.models import ResultsUpload
from matchdesk.results.service import (
    MAX_UPLOAD_BYTES,
    PREVIEW_ROWS,
    ResultsReport,
    confirm_upload,
    import_results,
)
from matchdesk.results.staging import PreviewRow

if TYPE_CHECKING:
    from matchdesk.context import Matchdesk

CHECK = "results.import.check"
WRITE = "results.import.write"


def keep_upload(session: Session, data: bytes, name: str, uploaded_by: str) -> str:
    """Keep an uploaded results file, not yet checked (the check job reads it); its id."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"{name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    upload_id = secrets.token_urlsafe(24)
    session.add(
        ResultsUpload(id=upload_id, filename=name[:200], data=data, uploaded_by=uploaded_by)
    )
    session.flush()
    return upload_id


def upload_size(session: Session, upload_id: str) -> int | None:
    """The kept upload's size in bytes, or None when there is none with that id."""
    size = session.scalar(
        select(func.length(ResultsUpload.data)).where(ResultsUpload.id == upload_id)
    )
    return None if size is None else int(size)


def report_document(report: ResultsReport) -> dict[str, Any]:
    """`report` as JSON (preview times in ISO 8601)."""
    document = asdict(replace(report, preview=()))
    document["preview"] = [
        {**asdict(p), "started_at": p.started_at.isoformat()} for p in report.preview
    ]
    return document


def report_of(document: dict[str, Any]) -> ResultsReport:
    """The report a job's result holds."""
    preview = tuple(
        PreviewRow(**{**p, "started_at": datetime.fromisoformat(p["started_at"])})
        for p in document.get("preview", [])
    )
    return ResultsReport(**{**document, "preview": preview})


def check_job(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> JobResult:
    """Check the kept upload `payload["upload_id"]`; a file with problems is dropped."""
    upload_id = str(payload["upload_id"])
    with md.transaction() as session:
        upload = session.get(ResultsUpload, upload_id)
        if upload is None:
            raise NotFound("This upload is no longer available; please upload the file again.")
        name = upload.filename
        try:
            report = import_results(
                session,
                md.program,
                upload.data,
                name,
                actor=str(payload.get("actor", "")),
                dry_run=True,
                preview=PREVIEW_ROWS,
                progress=step_progress(md, progress),
            )
        except InvalidInput as exc:
            session.delete(upload)
            return refusal(name, exc)
    return {"filename": name, "upload_id": upload_id, "report": report_document(report)}


def write_job(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> JobResult:
    """Import the checked upload `payload["upload_id"]` (all or nothing, checked again
    against today's data) and audit it as `payload["actor"]`."""
    actor = str(payload["actor"])
    try:
        with md.transaction() as session:
            name, report = confirm_upload(
                session,
                md.program,
                str(payload["upload_id"]),
                actor=actor,
                progress=step_progress(md, progress),
            )
            record(
                session,
                actor,
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
    except InvalidInput as exc:  # the data changed since the check: nothing written
        return refusal(str(payload.get("filename", "")), exc)
    return {"filename": name, "report": report_document(report)}


def register(registry: JobRegistry) -> JobRegistry:
    """Add the results import's jobs to `registry`."""
    registry.register(CHECK, check_job)
    registry.register(WRITE, write_job)
    return registry

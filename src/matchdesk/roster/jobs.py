"""The roster import as background jobs, for a file too big to check or write inside a
web request: `roster.import.check` checks a kept upload (every problem, or what the
import will do) and `roster.import.write` imports it on the manager's confirmation, both
with progress. Their results are JSON documents the import page shows."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matchdesk.audit import record
from matchdesk.errors import InvalidInput, NotFound
from matchdesk.jobs.registry import JobRegistry, JobResult, Progress
from matchdesk.jobs.steps import refusal, step_progress
from matchdesk.roster.models import RosterUpload
from matchdesk.roster.service import MAX_UPLOAD_BYTES, confirm_upload, import_roster

if TYPE_CHECKING:
    from matchdesk.context import Matchdesk

CHECK = "roster.import.check"
WRITE = "roster.import.write"


def keep_upload(session: Session, data: bytes, name: str, uploaded_by: str) -> str:
    """Keep an uploaded roster file, not yet checked (the check job reads it); its id."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"{name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    upload_id = secrets.token_urlsafe(24)
    session.add(RosterUpload(id=upload_id, filename=name[:200], data=data, uploaded_by=uploaded_by))
    session.flush()
    return upload_id


def upload_size(session: Session, upload_id: str) -> int | None:
    """The kept upload's size in bytes, or None when there is none with that id."""
    size = session.scalar(
        select(func.length(RosterUpload.data)).where(RosterUpload.id == upload_id)
    )
    return None if size is None else int(size)


def check_job(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> JobResult:
    """Check the kept upload `payload["upload_id"]`; a file with problems is dropped."""
    upload_id = str(payload["upload_id"])
    with md.transaction() as session:
        upload = session.get(RosterUpload, upload_id)
        if upload is None:
            raise NotFound("This upload is no longer available; please upload the file again.")
        name = upload.filename
        try:
            report = import_roster(
                session,
                md.program,
                upload.data,
                name,
                dry_run=True,
                progress=step_progress(md, progress),
            )
        except InvalidInput as exc:
            session.delete(upload)
            return refusal(name, exc)
    return {"filename": name, "upload_id": upload_id, "report": asdict(report)}


def write_job(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> JobResult:
    """Import the checked upload `payload["upload_id"]` (all or nothing, checked again
    against today's roster) and audit it as `payload["actor"]`."""
    upload_id = str(payload["upload_id"])
    try:
        with md.transaction() as session:
            name, report = confirm_upload(
                session, md.program, upload_id, progress=step_progress(md, progress)
            )
            record(
                session,
                str(payload["actor"]),
                "roster_imported",
                "roster",
                name,
                after={"created": report.created, "updated": report.updated},
            )
    except InvalidInput as exc:  # the roster changed since the check: nothing written
        return refusal(str(payload.get("filename", "")), exc)
    return {"filename": name, "report": asdict(report)}


def register(registry: JobRegistry) -> JobRegistry:
    """Add the roster's jobs to `registry`."""
    registry.register(CHECK, check_job)
    registry.register(WRITE, write_job)
    return registry

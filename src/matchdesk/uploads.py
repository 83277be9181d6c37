"""What becomes of a staged upload (a roster or results file checked, then confirmed):
its import is written to the audit log under the upload's id, so that confirming the
same upload again (a second click, the browser's back button, a resubmitted form) says
it was already imported, and when, instead of "no longer available"."""

from __future__ import annotations

from sqlalchemy.orm import Session

from matchdesk import audit
from matchdesk.errors import Conflict, MatchdeskError, NotFound

GONE = "This upload is no longer available; please upload the file again."


def mark_imported(
    session: Session, kind: str, upload_id: str, filename: str, uploaded_by: str
) -> None:
    """Record that the upload `upload_id` of `kind` ("roster_upload", "results_upload")
    was imported (in the import's own transaction)."""
    actor = uploaded_by if ":" in uploaded_by else f"operator:{uploaded_by or 'unknown'}"
    audit.record(session, actor, "upload_imported", kind, upload_id, after={"filename": filename})


def missing_upload(session: Session, kind: str, upload_id: str) -> MatchdeskError:
    """The error for an upload that is not kept (any more): Conflict "already imported"
    when it was imported, NotFound otherwise."""
    done = audit.entries_for(session, kind, upload_id)[:1]
    if not done:
        return NotFound(GONE)
    entry = done[0]
    name = (entry.after or {}).get("filename", "This file")
    who = entry.actor.removeprefix("operator:")
    return Conflict(
        f"{name} was already imported, on {entry.at:%Y-%m-%d at %H:%M} UTC by {who}; "
        "nothing was imported again."
    )

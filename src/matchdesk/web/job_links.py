"""Where the outcome of a finished background job is shown, for the job's progress page
(a round build opens its round; an import's check or write opens its import page)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from fastapi.responses import RedirectResponse

from matchdesk.errors import NotFound
from matchdesk.jobs import service as jobs
from matchdesk.jobs.models import Job
from matchdesk.web.security import app_of

IMPORT_PAGES = {
    "roster.import.check": ("/creators/import/jobs", "See what the file holds"),
    "roster.import.write": ("/creators/import/jobs", "See the import"),
    "results.import.check": ("/results/jobs", "See what the file holds"),
    "results.import.write": ("/results/jobs", "See the import"),
}


def import_outcome(job: Job) -> tuple[str, str] | None:
    """(address, link text) of a done import job's outcome page, else None."""
    if job.status == "done" and job.kind == "checkins.schedule" and job.result:
        return str(job.result["next"]), "See the week's check-ins"
    if job.status != "done" or job.kind not in IMPORT_PAGES:
        return None
    base, text = IMPORT_PAGES[job.kind]
    return f"{base}/{job.id}", text


def finished_import(
    request: Any, job_id: int, kinds: Collection[str], what: str
) -> tuple[Job, dict[str, Any]] | RedirectResponse:
    """A done import job of one of `kinds` and a copy of its result; its progress page
    while it runs; NotFound for a job of another kind."""
    with app_of(request).transaction() as session:
        job = jobs.get_job(session, job_id)
    if job.kind not in kinds:
        raise NotFound(f"Job {job_id} is not {what}.")
    if job.status != "done":
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)
    return job, dict(job.result or {})

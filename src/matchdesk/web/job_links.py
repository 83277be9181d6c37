"""Where the outcome of a finished background job is shown, for the job's progress page
(a round build opens its round; an import's check or write opens its import page)."""

from __future__ import annotations

from matchdesk.jobs.models import Job

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

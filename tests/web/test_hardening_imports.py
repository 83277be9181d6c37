"""Issue 15, finding 2: a big roster or results file is checked and imported by background
jobs with a progress page (above MATCHDESK_IMPORT_INLINE_BYTES); a small one stays inside
the request. The jobs run with `run_inline` here, at a known point, on both backends."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.audit import AuditEntry
from matchdesk.context import Matchdesk
from matchdesk.jobs import service as jobs
from matchdesk.jobs.catalog import default_registry
from matchdesk.results.models import LiveSession, ResultsUpload
from matchdesk.roster.models import Creator, RosterUpload
from tests.results.samples import add_creators, count, csv
from tests.web.conftest import csrf_of

Client = Callable[[str | None], TestClient]
ROSTER = (
    b"handle,timezone,languages,followers,revenue_30d,availability\n"
    b"anna,UTC,en,1000,20,Mon 18:00-22:00\n"
    b"ben,Europe/Paris,fr;en,2000,30,\n"
)
ROSTER_BAD = ROSTER + b"cleo,Mars/Base,en,-4,1,\n"
RESULTS = csv("luna,2026-03-02T19:00:00Z,60,1200,340,12,,", "sol,2026-03-02T20:00:00Z,30,50,,,,")
UPLOAD_ID = re.compile(r'name="upload_id" value="([^"]+)"')


def _submitted(response: Any, kind: str, md: Matchdesk) -> int:
    """The job a 303 to its progress page names, queued, of `kind`."""
    assert response.status_code == 303, response.text
    job_id = int(response.headers["location"].removeprefix("/jobs/"))
    with md.transaction() as session:
        job = jobs.get_job(session, job_id)
        assert (job.kind, job.status) == (kind, "queued")
    return job_id


def _run(md: Matchdesk, job_id: int) -> Any:
    job = jobs.run_inline(md, job_id, default_registry())
    assert job.status == "done", job.error
    return job


def _progress_page_leads_to(client: TestClient, job_id: int, outcome: str) -> None:
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200
    assert f'<a href="{outcome}" id="job-result">' in page.text
    fragment = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Redirect"] == outcome


def test_a_big_roster_file_is_checked_then_imported_by_jobs(
    md: Matchdesk, client_as: Client
) -> None:
    md.settings.import_inline_bytes = 50  # the file has 113 bytes
    manager = client_as("manager")
    form = {"csrf_token": csrf_of(manager.get("/creators/import").text)}
    checked = manager.post(
        "/creators/import",
        data=form,
        files={"file": ("roster.csv", ROSTER)},
        follow_redirects=False,
    )
    check_id = _submitted(checked, "roster.import.check", md)
    assert "Importing creators" in manager.get(f"/jobs/{check_id}").text
    # Before the job has run, its outcome page sends the browser back to the progress.
    early = manager.get(f"/creators/import/jobs/{check_id}", follow_redirects=False)
    assert (early.status_code, early.headers["location"]) == (303, f"/jobs/{check_id}")

    job = _run(md, check_id)
    assert (job.progress_done, job.progress_total, job.message) == (2, 2, "Checking rows: 2 of 2")
    _progress_page_leads_to(manager, check_id, f"/creators/import/jobs/{check_id}")
    preview = manager.get(f"/creators/import/jobs/{check_id}")
    assert preview.status_code == 200
    assert "Every row is valid: 2 new, 0 updated," in preview.text
    upload_id = UPLOAD_ID.search(preview.text).group(1)  # type: ignore[union-attr]
    assert upload_id == job.result["upload_id"]
    with md.transaction() as session:
        assert session.scalars(select(Creator.handle)).all() == []  # checked, not written

    confirmed = manager.post(
        "/creators/import/confirm",
        data={"csrf_token": csrf_of(preview.text), "upload_id": upload_id},
        follow_redirects=False,
    )
    write_id = _submitted(confirmed, "roster.import.write", md)
    job = _run(md, write_id)
    # SQLite: the import holds the one write lock, so only the check is reported on the way.
    saving = "Checking rows" if md.engine.dialect.name == "sqlite" else "Saving creators"
    assert (job.progress_done, job.progress_total, job.message) == (2, 2, f"{saving}: 2 of 2")
    done = manager.get(f"/creators/import/jobs/{write_id}")
    assert "Imported 2 creators from roster.csv" in done.text
    assert "2 new, 0 updated, 0 unchanged." in done.text
    with md.transaction() as session:
        assert sorted(session.scalars(select(Creator.handle))) == ["anna", "ben"]
        assert session.get(RosterUpload, upload_id) is None
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "roster_imported"))
        assert entry is not None
        assert (entry.actor, entry.subject_id, entry.after) == (
            "operator:manager@example.com",
            "roster.csv",
            {"created": 2, "updated": 0},
        )
    # Confirming the same upload again imports nothing twice.
    again = manager.post(
        "/creators/import/confirm",
        data={"csrf_token": csrf_of(preview.text), "upload_id": upload_id},
    )
    # Issue 13, defect 15: "already imported", not "no longer available".
    assert again.status_code == 409
    assert re.search(
        r"roster\.csv was already imported, on \d{4}-\d\d-\d\d at \d\d:\d\d UTC by "
        r"manager@example\.com; nothing was imported again\.",
        again.text,
    )


def test_a_big_roster_file_with_problems_lists_them_and_keeps_nothing(
    md: Matchdesk, client_as: Client
) -> None:
    md.settings.import_inline_bytes = 50
    manager = client_as("manager")
    form = {"csrf_token": csrf_of(manager.get("/creators/import").text)}
    checked = manager.post(
        "/creators/import",
        data=form,
        files={"file": ("roster.csv", ROSTER_BAD)},
        follow_redirects=False,
    )
    check_id = _submitted(checked, "roster.import.check", md)
    job = _run(md, check_id)
    assert job.result == {
        "filename": "roster.csv",
        "message": "roster.csv: 2 problems found; nothing was imported",
        "problems": [
            "row 4, column timezone: unknown time zone 'Mars/Base' "
            "(use an IANA name such as America/New_York)",
            "row 4, column followers: '-4' is negative; it must be 0 or more",
        ],
        "problem_count": 2,
    }
    page = manager.get(f"/creators/import/jobs/{check_id}")
    assert page.status_code == 422
    assert (
        "<td>4</td><td>followers</td><td>&#39;-4&#39; is negative; it must be 0 or more</td>"
        in (page.text)
    )
    with md.transaction() as session:
        assert session.scalars(select(RosterUpload.id)).all() == []
        assert session.scalars(select(Creator.handle)).all() == []


def test_a_small_roster_file_stays_inside_the_request(md: Matchdesk, client_as: Client) -> None:
    md.settings.import_inline_bytes = len(ROSTER)
    manager = client_as("manager")
    form = {"csrf_token": csrf_of(manager.get("/creators/import").text)}
    checked = manager.post("/creators/import", data=form, files={"file": ("roster.csv", ROSTER)})
    assert checked.status_code == 200
    assert "Every row is valid: 2 new, 0 updated," in checked.text
    with md.transaction() as session:
        assert session.scalars(select(jobs.Job.id)).all() == []


def test_a_big_results_file_is_checked_with_a_preview_then_imported_by_jobs(
    md: Matchdesk, client_as: Client
) -> None:
    add_creators(md, "luna", "sol")
    md.settings.import_inline_bytes = 100
    manager = client_as("manager")
    form = {"csrf_token": csrf_of(manager.get("/results").text)}
    checked = manager.post(
        "/results", data=form, files={"file": ("week.csv", RESULTS)}, follow_redirects=False
    )
    check_id = _submitted(checked, "results.import.check", md)
    job = _run(md, check_id)
    assert (job.progress_done, job.progress_total, job.message) == (2, 2, "Checking rows: 2 of 2")
    _progress_page_leads_to(manager, check_id, f"/results/jobs/{check_id}")
    preview = manager.get(f"/results/jobs/{check_id}")
    assert preview.status_code == 200
    assert "Every row is valid: 2 new, 0 updated, 0 unchanged; 0 linked to a match." in preview.text
    assert "<td>@luna</td>" in preview.text  # the preview's rows
    assert "<td>1,200</td>" in preview.text
    upload_id = UPLOAD_ID.search(preview.text).group(1)  # type: ignore[union-attr]
    assert count(md, LiveSession) == 0

    confirmed = manager.post(
        "/results/confirm",
        data={"csrf_token": csrf_of(preview.text), "upload_id": upload_id},
        follow_redirects=False,
    )
    write_id = _submitted(confirmed, "results.import.write", md)
    _run(md, write_id)
    done = manager.get(f"/results/jobs/{write_id}")
    assert "Imported 2 sessions from week.csv" in done.text
    assert count(md, LiveSession) == 2
    with md.transaction() as session:
        assert session.get(ResultsUpload, upload_id) is None
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "results_imported"))
        assert entry is not None
        assert entry.after == {"created": 2, "updated": 0, "unchanged": 0, "matches_completed": 0}
    # Another kind of job has no import page.
    assert manager.get(f"/creators/import/jobs/{write_id}").status_code == 404

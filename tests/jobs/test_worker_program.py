"""The worker takes up program settings saved in Settings by another process (the web
app) from its next job on, without a restart (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.jobs import service
from matchdesk.jobs.registry import JobRegistry, Progress
from matchdesk.mail.delivery import DeliverySettings
from matchdesk.program_store import save_program
from matchdesk.worker import run_worker


def _save(web: Matchdesk, name: str, minutes: int, version: int) -> None:
    data = web.program.model_dump(mode="json")
    data["program"]["name"] = name
    data["matching"]["duration_minutes"] = minutes
    with web.transaction() as session:
        web.program, _ = save_program(
            session, web.program, data, actor="operator:admin", expected_version=version
        )


def test_a_program_saved_while_the_worker_runs_holds_from_its_next_job(
    md: Matchdesk, tmp_path: Path
) -> None:
    # The web app is another process: another Matchdesk on the same database.
    web = Matchdesk.build(Settings(database_url=md.settings.database_url))
    seen: list[tuple[str, int]] = []

    def probe(job_md: Matchdesk, payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
        program = job_md.program
        seen.append((program.program.name, program.matching.duration_minutes))
        if payload["step"] == 1:  # an admin saves in Settings while the worker runs
            _save(web, "Renamed program", 45, version=0)
            with job_md.transaction() as session:
                service.submit(session, "probe", {"step": 2})
        if payload["step"] == 2:
            _save(web, "Renamed again", 30, version=1)
            with job_md.transaction() as session:
                service.submit(session, "probe", {"step": 3})
        return {}

    before = (md.program.program.name, md.program.matching.duration_minutes)
    with md.transaction() as session:
        service.submit(session, "probe", {"step": 1})
    settings = DeliverySettings(smtp_host="", outbox_dir=tmp_path / "outbox")
    report = run_worker(
        md, once=True, worker_id="w", registry=JobRegistry({"probe": probe}), delivery=settings
    )
    web.close()
    assert report.jobs_done == 3
    assert seen == [before, ("Renamed program", 45), ("Renamed again", 30)]
    assert md.program.program.name == "Renamed again"

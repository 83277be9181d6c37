"""The worker loop: delivers the outbox and runs jobs (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from matchdesk.context import Matchdesk
from matchdesk.jobs import service
from matchdesk.jobs.registry import JobRegistry, Progress
from matchdesk.mail.delivery import BatchReport, DeliverySettings
from matchdesk.mail.outbox import enqueue
from matchdesk.worker import run_worker


def test_once_delivers_everything_due_and_runs_every_job(md: Matchdesk, tmp_path: Path) -> None:
    with md.transaction() as session:
        for i in range(3):
            enqueue(
                session,
                kind="k",
                recipient=f"c{i}@x.org",
                subject="s",
                text="t",
                idempotency_key=f"k{i}",
            )
        ok = service.submit(session, "double", {"n": 21}).id
        bad = service.submit(session, "unknown").id

    def double(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
        return {"n": payload["n"] * 2}

    settings = DeliverySettings(smtp_host="", outbox_dir=tmp_path / "outbox", mail_rate=0)
    report = run_worker(
        md, once=True, worker_id="w", registry=JobRegistry({"double": double}), delivery=settings
    )
    assert report.messages == BatchReport(claimed=3, sent=3)
    assert (report.jobs_done, report.jobs_failed) == (1, 1)
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3
    with md.transaction() as session:
        assert service.get_job(session, ok).result == {"n": 42}
        assert service.get_job(session, bad).status == "failed"


def test_a_worker_stops_when_asked(md: Matchdesk, tmp_path: Path) -> None:
    stop = threading.Event()
    settings = DeliverySettings(smtp_host="", outbox_dir=tmp_path / "outbox")
    result: list[object] = []
    thread = threading.Thread(
        target=lambda: result.append(
            run_worker(md, delivery=settings, stop=stop, poll_seconds=0.05)
        )
    )
    thread.start()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(result) == 1

"""Jobs on a real database (SQLite and PostgreSQL): submit, claim, progress, outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from matchdesk.context import Matchdesk
from matchdesk.errors import Conflict
from matchdesk.jobs import service
from matchdesk.jobs.models import Job
from matchdesk.jobs.registry import JobRegistry, Progress

T0 = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)


def aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def submit(md: Matchdesk, kind: str = "report", payload: dict[str, Any] | None = None) -> int:
    with md.transaction() as session:
        return service.submit(session, kind, payload).id


def load(md: Matchdesk, job_id: int) -> Job:
    with md.transaction() as session:
        return service.get_job(session, job_id)


def test_submit_queues_a_job(md: Matchdesk) -> None:
    job = load(md, submit(md, "report", {"round": 3}))
    assert (job.kind, job.payload, job.status, job.progress_done, job.progress_total) == (
        "report",
        {"round": 3},
        "queued",
        0,
        None,
    )


def test_claim_next_takes_the_oldest_job_once(md: Matchdesk) -> None:
    first, second = submit(md), submit(md)
    claimed = []
    for worker in ("a", "b", "c"):
        with md.transaction() as session:
            job = service.claim_next(session, worker_id=worker, now=T0)
            claimed.append(None if job is None else (job.id, job.claimed_by))
    assert claimed == [(first, "a"), (second, "b"), None]
    job = load(md, first)
    assert (job.status, job.attempts, aware(job.started_at)) == ("running", 1, T0)
    assert aware(job.claimed_until) == T0 + service.LEASE


def test_a_running_job_whose_lease_ran_out_is_claimed_again(md: Matchdesk) -> None:
    job_id = submit(md)
    with md.transaction() as session:
        service.claim_next(session, worker_id="a", now=T0)
    with md.transaction() as session:
        assert service.claim_next(session, worker_id="b", now=T0 + timedelta(seconds=60)) is None
    with md.transaction() as session:
        job = service.claim_next(session, worker_id="b", now=T0 + timedelta(minutes=3))
        assert job is not None
        assert (job.id, job.claimed_by, job.attempts) == (job_id, "b", 2)


def test_progress_finish_and_fail(md: Matchdesk) -> None:
    done_id, failed_id = submit(md), submit(md)
    for worker in ("a", "b"):
        with md.transaction() as session:
            service.claim_next(session, worker_id=worker, now=T0)
    with md.transaction() as session:
        service.report_progress(
            session, done_id, done=40, total=100, message="pairing", worker_id="a"
        )
    job = load(md, done_id)
    assert (job.progress_done, job.progress_total, job.message) == (40, 100, "pairing")
    with pytest.raises(Conflict), md.transaction() as session:
        service.report_progress(session, done_id, done=50, worker_id="b")

    with md.transaction() as session:
        service.finish(session, done_id, {"matches": 12}, worker_id="a", now=T0)
        service.fail(session, failed_id, "the pool is empty", worker_id="b", now=T0)
    done, failed = load(md, done_id), load(md, failed_id)
    assert (done.status, done.result, done.progress_done, done.progress_total) == (
        "done",
        {"matches": 12},
        100,
        100,
    )
    assert aware(done.finished_at) == T0
    assert (failed.status, failed.error, aware(failed.finished_at)) == (
        "failed",
        "the pool is empty",
        T0,
    )


def test_run_inline_runs_the_job_and_records_its_progress(md: Matchdesk) -> None:
    seen: list[tuple[int, int | None]] = []

    def count(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
        progress(1, payload["n"], "started")
        with md.transaction() as session:  # visible to other sessions while running
            job = service.get_job(session, job_id)
            seen.append((job.progress_done, job.progress_total))
        progress(payload["n"], payload["n"])
        return {"counted": payload["n"]}

    job_id = submit(md, "count", {"n": 3})
    job = service.run_inline(md, job_id, JobRegistry({"count": count}))
    assert seen == [(1, 3)]
    assert (job.status, job.result, job.progress_done, job.progress_total, job.error) == (
        "done",
        {"counted": 3},
        3,
        3,
        None,
    )
    assert job.claimed_by is not None
    assert job.claimed_by.startswith("inline:")


def test_run_inline_records_a_failure(md: Matchdesk) -> None:
    def broken(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> None:
        raise ValueError("no creators in the pool")

    job = service.run_inline(md, submit(md, "broken"), JobRegistry({"broken": broken}))
    assert (job.status, job.error) == ("failed", "ValueError: no creators in the pool")
    unknown = service.run_inline(md, submit(md, "nope"), JobRegistry())
    assert (unknown.status, unknown.error) == ("failed", "unknown job kind 'nope'")


def test_run_inline_refuses_a_job_a_worker_has(md: Matchdesk) -> None:
    job_id = submit(md)
    with md.transaction() as session:
        service.claim_next(session, worker_id="a")
    with pytest.raises(Conflict) as caught:
        service.run_inline(md, job_id, JobRegistry())
    assert caught.value.message == f"job {job_id} is running, not queued"


def test_the_registry_refuses_a_kind_twice() -> None:
    registry = JobRegistry()
    registry.register("report", lambda md, payload, progress: None)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("report", lambda md, payload, progress: None)
    assert list(registry) == ["report"]

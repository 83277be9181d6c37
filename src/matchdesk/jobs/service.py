"""Jobs: submit, claim, report progress, finish or fail (the caller owns the transaction),
and run a claimed job (`run_claimed`, the worker; `run_inline`, the CLI with no worker).

A claim is a lease like the outbox's: a running job whose worker died is claimed again
when its lease runs out, and run from the start, so a job must be safe to run twice.
While a job runs, a heartbeat renews its lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Result, and_, or_, select, update
from sqlalchemy.orm import Session

from matchdesk.context import Matchdesk
from matchdesk.errors import Conflict, MatchdeskError, NotFound
from matchdesk.jobs.models import Job
from matchdesk.jobs.registry import JobRegistry, JobResult
from matchdesk.roster.models import utcnow

log = logging.getLogger("matchdesk.jobs")

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 3
MAX_ERROR_LENGTH = 4000


def submit(session: Session, kind: str, payload: dict[str, Any] | None = None) -> Job:
    """Queue a job of `kind` with its JSON `payload`; returns the row (its id once flushed)."""
    job = Job(kind=kind, payload=payload or {}, status="queued")
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> Job:
    """The job with `job_id`, or `NotFound`."""
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise NotFound(f"there is no job {job_id}")
    return job


def claim_next(
    session: Session,
    *,
    worker_id: str,
    kinds: list[str] | None = None,
    now: datetime | None = None,
    lease: timedelta = LEASE,
) -> Job | None:
    """Claim the oldest queued job (or a running one whose lease ran out) for
    `worker_id`, or None. Must be the first statement of the caller's transaction; commit
    right after so other workers see the claim."""
    now = now or utcnow()
    due = or_(
        Job.status == "queued",
        and_(Job.status == "running", Job.claimed_until < now),
    )
    chosen = select(Job.id).where(due).order_by(Job.created_at, Job.id).limit(1)
    if kinds is not None:
        chosen = chosen.where(Job.kind.in_(kinds))
    if session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    return _claim(session, Job.id.in_(chosen.scalar_subquery()), worker_id, now, lease)


def claim(
    session: Session,
    job_id: int,
    *,
    worker_id: str,
    now: datetime | None = None,
    lease: timedelta = LEASE,
) -> Job:
    """Claim the queued job `job_id`; `Conflict` when it is not queued (a worker has it,
    or it has finished), `NotFound` when there is no such job."""
    now = now or utcnow()
    job = _claim(session, and_(Job.id == job_id, Job.status == "queued"), worker_id, now, lease)
    if job is None:
        status = get_job(session, job_id).status
        raise Conflict(f"job {job_id} is {status}, not queued")
    return job


def _claim(
    session: Session, which: Any, worker_id: str, now: datetime, lease: timedelta
) -> Job | None:
    statement = (
        update(Job)
        .where(which)
        .values(
            status="running",
            claimed_by=worker_id,
            claimed_until=now + lease,
            started_at=now,
            attempts=Job.attempts + 1,
            error=None,
        )
        .returning(Job)
    )
    return session.scalars(statement, execution_options={"synchronize_session": False}).first()


def report_progress(
    session: Session,
    job_id: int,
    *,
    done: int,
    total: int | None = None,
    message: str | None = None,
    worker_id: str | None = None,
    lease: timedelta = LEASE,
    now: datetime | None = None,
) -> None:
    """Record that `done` of `total` steps are done (and renew the lease). With
    `worker_id`, `Conflict` when that worker no longer holds the job."""
    values: dict[str, Any] = {"progress_done": done, "claimed_until": (now or utcnow()) + lease}
    if total is not None:
        values["progress_total"] = total
    if message is not None:
        values["message"] = message[:300]
    _update_running(session, job_id, worker_id, values)


def finish(
    session: Session,
    job_id: int,
    result: dict[str, Any] | None = None,
    *,
    worker_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """Mark the running job done with its `result` (progress set to complete)."""
    job = get_job(session, job_id)
    total = job.progress_total if job.progress_total is not None else job.progress_done
    values = {
        "status": "done",
        "result": result,
        "finished_at": now or utcnow(),
        "claimed_until": None,
        "progress_total": total,
        "progress_done": total,
    }
    _update_running(session, job_id, worker_id, values)


def fail(
    session: Session,
    job_id: int,
    error: str,
    *,
    worker_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """Mark the job failed with `error` (a queued job can fail too, e.g. an unknown kind)."""
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.status.in_(("queued", "running")))
        .values(
            status="failed",
            error=error[:MAX_ERROR_LENGTH],
            finished_at=now or utcnow(),
            claimed_until=None,
        )
    )
    if worker_id is not None:
        statement = statement.where(Job.claimed_by == worker_id)
    if _rowcount(session.execute(statement)) == 0:
        raise Conflict(f"job {job_id} is not queued or running here")


def _update_running(
    session: Session, job_id: int, worker_id: str | None, values: dict[str, Any]
) -> None:
    statement = update(Job).where(Job.id == job_id, Job.status == "running").values(values)
    if worker_id is not None:
        statement = statement.where(Job.claimed_by == worker_id)
    if _rowcount(session.execute(statement)) == 0:
        raise Conflict(f"job {job_id} is not running here any more")


def _rowcount(result: Result[Any]) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def release_worker(connection: Connection, worker_id: str) -> int:
    """Put back the jobs `worker_id` was running (it restarted with the same id)."""
    result = connection.execute(
        update(Job)
        .where(Job.status == "running", Job.claimed_by == worker_id)
        .values(status="queued", claimed_by=None, claimed_until=None)
    )
    return result.rowcount


def default_worker_id() -> str:
    """`host:pid`, unique among the workers running at one time."""
    return f"{socket.gethostname()}:{os.getpid()}"


class _Reporter:
    """The `progress` a job function is given: writes at most every `interval` seconds
    (and always the last step), each in its own transaction so pages see it at once."""

    def __init__(self, md: Matchdesk, job_id: int, worker_id: str, interval: float) -> None:
        self.md, self.job_id, self.worker_id, self.interval = md, job_id, worker_id, interval
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        now = time.monotonic()
        if now - self._last < self.interval and (total is None or done < total):
            return
        self._last = now
        with self.md.transaction() as session:
            report_progress(
                session,
                self.job_id,
                done=done,
                total=total,
                message=message,
                worker_id=self.worker_id,
            )


class _Heartbeat(threading.Thread):
    """Renews the job's lease while its function runs (a job may be silent for long)."""

    def __init__(self, md: Matchdesk, job_id: int, worker_id: str) -> None:
        super().__init__(daemon=True, name=f"job-{job_id}-heartbeat")
        self.md, self.job_id, self.worker_id = md, job_id, worker_id
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(LEASE.total_seconds() / 4):
            try:
                with self.md.transaction() as session:
                    session.execute(
                        update(Job)
                        .where(Job.id == self.job_id, Job.claimed_by == self.worker_id)
                        .where(Job.status == "running")
                        .values(claimed_until=utcnow() + LEASE)
                    )
            except Exception:  # the next beat tries again; the lease is long enough
                log.exception("job %s: cannot renew the lease", self.job_id)


def run_claimed(
    md: Matchdesk,
    job: Job,
    registry: JobRegistry,
    *,
    worker_id: str,
    progress_interval: float = 0.5,
) -> Job:
    """Run a job this worker has claimed and record the outcome: done with the
    function's result, or failed with the error. Returns the job as it ends."""
    function = registry.get(job.kind)
    error: str | None = None
    result: JobResult = None
    if function is None:
        error = f"unknown job kind {job.kind!r}"
    elif job.attempts > MAX_ATTEMPTS:
        error = f"gave up after {MAX_ATTEMPTS} attempts: the worker stopped during each"
    else:
        heartbeat = _Heartbeat(md, job.id, worker_id)
        heartbeat.start()
        try:
            progress = _Reporter(md, job.id, worker_id, progress_interval)
            result = function(md, dict(job.payload or {}), progress)
        except MatchdeskError as exc:
            error = str(exc)
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            error = f"{type(exc).__name__}: {exc}"
        finally:
            heartbeat.stopped.set()
            heartbeat.join()
    try:
        with md.transaction() as session:
            if error is None:
                finish(session, job.id, result, worker_id=worker_id)
            else:
                fail(session, job.id, error, worker_id=worker_id)
    except Conflict:
        # Another worker took the job over (this one's lease ran out): its outcome counts.
        log.warning("job %s was taken over; this run's outcome is dropped", job.id)
    with md.transaction() as session:
        return get_job(session, job.id)


def run_inline(md: Matchdesk, job_id: int, registry: JobRegistry) -> Job:
    """Run the queued job `job_id` in this process (the CLI, when no worker is running)
    and return it finished; `Conflict` if a worker has already claimed it."""
    worker_id = f"inline:{default_worker_id()}"
    with md.transaction() as session:
        job = claim(session, job_id, worker_id=worker_id)
    return run_claimed(md, job, registry, worker_id=worker_id)

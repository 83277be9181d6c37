"""`matchdesk worker`: delivers the outbox and runs jobs until asked to stop.

The loop alternates one outbox batch and one job, so a long queue of one never starves
the other; it sleeps only when neither has work. SIGTERM or SIGINT lets the message or
job in hand finish, hands back the rest of the batch, and returns (a second signal acts
as usual). Several workers can run side by side, on one machine or many: claims keep
them apart. Before each job and each round of reminders the worker reads the version of
the program saved in Settings, and takes up a newer one (no restart needed).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from matchdesk.context import Matchdesk
from matchdesk.jobs import service as jobs
from matchdesk.jobs.registry import JobRegistry
from matchdesk.mail import claims
from matchdesk.mail.delivery import BatchReport, Courier, DeliverySettings
from matchdesk.outreach.consent import BULK_KINDS, withhold_suppressed
from matchdesk.program import load_program
from matchdesk.program_store import ProgramWatch
from matchdesk.results.daily import REFRESH, submit_if_due
from matchdesk.roster.models import utcnow

log = logging.getLogger("matchdesk.worker")

ERROR_PAUSE_SECONDS = 5.0
DAILY_CHECK_SECONDS = 60.0  # how often a worker looks whether a new program day began
REMINDER_CHECK_SECONDS = 30.0  # how often it queues the check-in reminders fallen due


@dataclass
class WorkerReport:
    """What a worker did before it returned."""

    messages: BatchReport = field(default_factory=BatchReport)
    jobs_done: int = 0
    jobs_failed: int = 0


def run_worker(
    md: Matchdesk,
    *,
    once: bool = False,
    worker_id: str | None = None,
    registry: JobRegistry | None = None,
    delivery: DeliverySettings | None = None,
    poll_seconds: float = 1.0,
    stop: threading.Event | None = None,
) -> WorkerReport:
    """Deliver messages and run jobs until stopped (SIGTERM, SIGINT or `stop`), or with
    `once` until nothing is due. `worker_id` must be unique among running workers (the
    default, `host:pid`, is); a worker restarted under the same id takes its unfinished
    claims back at once instead of waiting for their leases to run out."""
    worker_id = worker_id or jobs.default_worker_id()
    settings = delivery or DeliverySettings()
    registry = registry or JobRegistry()
    stop = stop or threading.Event()
    # Bulk mail to an address suppressed since it was queued is withheld, unsent; and
    # it goes out at most once (a message whose outcome a crash left unknown is not sent
    # again). Transactional mail is sent again then: better twice than never.
    courier = Courier(
        md,
        settings,
        worker_id,
        stop=stop,
        withhold=withhold_suppressed,
        at_most_once=BULK_KINDS,
    )
    report = WorkerReport()
    watch = ProgramWatch(load_program(md.settings.program))
    next_daily_check = next_reminder_check = 0.0
    with _stop_on_signals(stop):
        _take_back_claims(md, worker_id)
        log.info("worker %s started", worker_id)
        while not stop.is_set():
            try:
                if watch.refresh(md):
                    log.info("worker %s: the program saved in Settings changed", worker_id)
                if REFRESH in registry and time.monotonic() >= next_daily_check:
                    _submit_daily(md)
                    next_daily_check = time.monotonic() + DAILY_CHECK_SECONDS
                if time.monotonic() >= next_reminder_check:
                    _queue_reminders(md)
                    next_reminder_check = time.monotonic() + REMINDER_CHECK_SECONDS
                batch = courier.deliver_batch()
                report.messages.add(batch)
                ran = _run_next_job(md, registry, worker_id, report, watch)
            except Exception:
                if once:
                    raise
                log.exception("worker %s: error; pausing", worker_id)
                stop.wait(ERROR_PAUSE_SECONDS)
                continue
            if batch.claimed == 0 and not ran:
                if once:
                    break
                stop.wait(poll_seconds)
    log.info("worker %s stopped: %s", worker_id, report)
    return report


def _submit_daily(md: Matchdesk) -> None:
    """Queue the results' daily refresh once per program day (one cheap conditional
    UPDATE a loop; several workers submit it once)."""
    with md.transaction() as session:
        submit_if_due(session, md.program)


def _queue_reminders(md: Matchdesk) -> None:
    """Queue the check-in reminders that fell due (late ones with a note; see
    checkins.messages), in the same loop that then delivers them."""
    from matchdesk.checkins.messages import queue_due_reminders

    with md.transaction() as session:
        queue_due_reminders(session, md.settings, md.program, utcnow())


def _take_back_claims(md: Matchdesk, worker_id: str) -> None:
    with md.engine.begin() as connection:
        messages = claims.release_worker(
            connection, worker_id, now=utcnow(), at_most_once=BULK_KINDS
        )
        running = jobs.release_worker(connection, worker_id)
    if messages or running:
        log.info("took back %d messages and %d jobs from a previous run", messages, running)


def _run_next_job(
    md: Matchdesk,
    registry: JobRegistry,
    worker_id: str,
    report: WorkerReport,
    watch: ProgramWatch,
) -> bool:
    with md.transaction() as session:
        job = jobs.claim_next(session, worker_id=worker_id)
    if job is None:
        return False
    watch.refresh(md)  # the job runs under the program as saved now
    finished = jobs.run_claimed(md, job, registry, worker_id=worker_id)
    if finished.status == "done":
        report.jobs_done += 1
    else:
        report.jobs_failed += 1
    return True


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on the first SIGTERM/SIGINT (then restore the usual handlers, so a
    second signal ends the process at once). Signals can only be caught on the main
    thread; elsewhere only `stop` stops the worker."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.getsignal(number) for number in signals}

    def handle(number: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the current message or job", number)
        stop.set()
        for each, handler in previous.items():
            signal.signal(each, handler)

    for number in signals:
        signal.signal(number, handle)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)

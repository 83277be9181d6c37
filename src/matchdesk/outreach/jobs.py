"""Outreach's background jobs: queueing a newsletter (rendering one message per
recipient), with its progress on the job page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matchdesk.jobs.registry import JobRegistry, JobResult, Progress

if TYPE_CHECKING:
    from matchdesk.context import Matchdesk

SEND = "newsletter.send"


def send_job(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> JobResult:
    """Queue every pending delivery of newsletter `payload["newsletter_id"]` (a rerun
    after a crash queues only what is still pending)."""
    from matchdesk.outreach.newsletters import run_send
    from matchdesk.rounds.period import program_today

    newsletter_id = int(payload["newsletter_id"])
    progress(0, None, f"Queueing newsletter {newsletter_id}")
    queued = run_send(
        md,
        newsletter_id,
        today=program_today(md.program.program.timezone),
        progress=lambda done, total: progress(done, total, f"{done:,} of {total:,} queued"),
    )
    return {"newsletter_id": newsletter_id, "queued": queued}


def register(registry: JobRegistry) -> JobRegistry:
    """Add outreach's jobs to `registry`."""
    registry.register(SEND, send_job)
    return registry

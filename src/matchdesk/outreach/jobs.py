"""Outreach's background jobs: queueing a newsletter (rendering one message per
recipient), and computing a campaign's kept points from its sessions (a large campaign's
backfill, e.g. after its rules changed), with their progress on the job page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matchdesk.jobs.registry import JobRegistry, JobResult, Progress

if TYPE_CHECKING:
    from matchdesk.context import Matchdesk

SEND = "newsletter.send"
POINTS = "campaign.points"


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


def points_job(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> JobResult:
    """Compute campaign `payload["campaign_id"]`'s kept points from its sessions (its
    creators enrolled first if it has started): `outreach.standings.backfill`."""
    from matchdesk.outreach.campaigns import ensure_enrolled, get_campaign
    from matchdesk.outreach.standings import backfill
    from matchdesk.rounds.period import program_today

    campaign_id = int(payload["campaign_id"])
    progress(0, None, f"Scoring campaign {campaign_id}")
    with md.transaction() as session:
        campaign = get_campaign(session, campaign_id)
        today = program_today(md.program.program.timezone)
        # Steps reported while the transaction runs on PostgreSQL (another connection
        # writes them); SQLite's single writer is this transaction: only at the end.
        steps = None
        if session.get_bind().dialect.name == "postgresql":
            steps = lambda done, total: progress(done, total, f"step {done} of {total}")  # noqa: E731
        if ensure_enrolled(session, campaign, today):  # enrolling backfills
            scored = _ranked(session, campaign_id)
        elif campaign.enrolled_at is None:  # not started: scored when it enrols
            scored = 0
        else:
            scored = backfill(session, campaign, progress=steps)
    progress(scored, scored, f"{scored:,} creators scored")
    return {"campaign_id": campaign_id, "scored": scored}


def _ranked(session: Any, campaign_id: int) -> int:
    from sqlalchemy import func, select

    from matchdesk.outreach.models import Enrolment

    return int(
        session.scalar(
            select(func.count())
            .select_from(Enrolment)
            .where(Enrolment.campaign_id == campaign_id, Enrolment.league.is_not(None))
        )
        or 0
    )


def register(registry: JobRegistry) -> JobRegistry:
    """Add outreach's jobs to `registry`."""
    registry.register(SEND, send_job)
    registry.register(POINTS, points_job)
    return registry

"""Every domain's jobs in one registry: what `matchdesk worker` and `serve`'s built-in
worker run."""

from __future__ import annotations

from matchdesk.jobs.registry import JobRegistry


def default_registry() -> JobRegistry:
    """A registry with every job kind matchdesk has."""
    from matchdesk.checkins import jobs as checkin_jobs
    from matchdesk.outreach import jobs as outreach_jobs
    from matchdesk.results import daily as results_daily
    from matchdesk.results import jobs as results_jobs
    from matchdesk.roster import jobs as roster_jobs
    from matchdesk.rounds import jobs as round_jobs

    registry = JobRegistry()
    round_jobs.register(registry)
    checkin_jobs.register(registry)
    results_daily.register(registry)
    outreach_jobs.register(registry)
    roster_jobs.register(registry)
    results_jobs.register(registry)
    return registry

"""Check-ins' background job: planning a week too big to plan inside a web request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matchdesk import clock
from matchdesk.checkins.due import program_week
from matchdesk.checkins.service import schedule_week
from matchdesk.jobs.registry import JobRegistry, JobResult, Progress

if TYPE_CHECKING:
    from matchdesk.context import Matchdesk

SCHEDULE = "checkins.schedule"


def schedule_job(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> JobResult:
    """Plan the week `payload["week"]` (a Monday), optionally of one `manager`."""
    week = program_week(str(payload["week"]), md.program.program.timezone)
    # Links follow the address the manager planned from (the worker serves no page).
    settings = md.settings
    if payload.get("base_url") and not settings.base_url:
        settings = settings.model_copy(update={"base_url": str(payload["base_url"])})
    with md.transaction() as session:
        result = schedule_week(
            session,
            md.program,
            week,
            now=clock.now(),
            actor=str(payload.get("actor", "")),
            settings=settings,
            manager=payload.get("manager") or None,
            progress=lambda done, total, message: progress(done, total, message),
        )
    progress(1, 1, "Done")
    return {
        "week": week.monday.isoformat(),
        "booked": len(result.booked),
        "unbooked": len(result.unbooked),
        "next": f"/checkins?week={week.monday.isoformat()}",
    }


def register(registry: JobRegistry) -> JobRegistry:
    """Add the check-ins' jobs to `registry`."""
    registry.register(SCHEDULE, schedule_job)
    return registry

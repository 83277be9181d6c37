"""Rounds' background jobs: building a round whose pool is too big to build inside a web
request (the page shows the job's progress bar, then opens the round)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from matchdesk.jobs.registry import JobRegistry, JobResult, Progress
from matchdesk.rounds.service import BUILD_STEPS, build_round

if TYPE_CHECKING:
    from matchdesk.context import Matchdesk

BUILD = "round.build"


def build_job(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> JobResult:
    """Build the round described by `payload` (cadence, start, tier, actor, seed)."""
    with md.transaction() as session:
        round_ = build_round(
            session,
            md.program,
            cadence=str(payload["cadence"]),
            start=date.fromisoformat(str(payload["start"])),
            tier=payload.get("tier") or None,
            actor=str(payload.get("actor", "")),
            seed=int(payload.get("seed", 0)),
            step=lambda done, message: progress(done - 1, BUILD_STEPS, message),
        )
        session.flush()
        round_id = round_.id
    progress(BUILD_STEPS, BUILD_STEPS, "Done")
    return {"round_id": round_id}


def register(registry: JobRegistry) -> JobRegistry:
    """Add the rounds' jobs to `registry`."""
    registry.register(BUILD, build_job)
    return registry

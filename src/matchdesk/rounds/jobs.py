"""Rounds' background jobs: building a round whose pool is too big to build inside a web
request (the page shows the job's progress bar, then opens the round)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from matchdesk.jobs.registry import JobRegistry, JobResult, Progress
from matchdesk.rounds.board import Edit
from matchdesk.rounds.lifecycle import publish
from matchdesk.rounds.service import BUILD_STEPS, build_round

if TYPE_CHECKING:
    from matchdesk.context import Matchdesk

BUILD = "round.build"
PUBLISH = "round.publish"


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
            not_before=(
                datetime.fromisoformat(str(payload["not_before"]))
                if payload.get("not_before")
                else None
            ),
            step=lambda done, message: progress(done - 1, BUILD_STEPS, message),
        )
        session.flush()
        round_id = round_.id
    progress(BUILD_STEPS, BUILD_STEPS, "Done")
    return {"round_id": round_id}


def publish_job(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> JobResult:
    """Publish the round `payload["round_id"]` (a big one: tens of thousands of
    invitations, each with its calendar file). One transaction, so the progress can only
    say when it starts and ends: a SQLite writer cannot report progress mid-transaction."""
    round_id = int(payload["round_id"])
    progress(0, 1, f"Publishing round {round_id}")
    expected = payload.get("expected_version")
    # Links follow the address the manager published from (the worker serves no page).
    settings = md.settings
    if payload.get("base_url") and not settings.base_url:
        settings = settings.model_copy(update={"base_url": str(payload["base_url"])})
    with md.transaction() as session:
        queued = publish(
            session,
            settings,
            md.program,
            round_id,
            Edit(str(payload.get("actor", "")), None if expected is None else int(expected)),
        )
    progress(1, 1, f"{queued:,} invitations queued")
    return {"round_id": round_id, "messages": queued}


def register(registry: JobRegistry) -> JobRegistry:
    """Add the rounds' jobs to `registry`."""
    registry.register(BUILD, build_job)
    registry.register(PUBLISH, publish_job)
    return registry

"""The results' daily refresh: as program days pass, a creator's `revenue_30d` (the
ledger's diamonds of the last 30 program days) must drop for the days that leave the
window even when no new session arrives, and the rollups settle the creators whose tier
changed since they were counted.

Chosen over computing `revenue_30d` on read: the figure is stored on the creator and read
by everything (tiers, matching pools, filters, exports, the API), so it is refreshed once
a program day, in one set-based UPDATE. The refresh is a job (`results.refresh`, with
progress) that `matchdesk worker` submits once per program day (the first worker to see
a new day wins a compare-and-set on `program_state`, so several workers submit it once);
`matchdesk results refresh` runs it in-process (for cron, or with no worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchdesk.jobs.registry import JobRegistry, JobResult, Progress
from matchdesk.jobs.service import submit
from matchdesk.program import Program
from matchdesk.results.cache import results_changed
from matchdesk.results.creator_stats import ensure_current
from matchdesk.results.ledger import refresh_revenue
from matchdesk.results.rollups import settle_tiers
from matchdesk.results.staging import today_in
from matchdesk.roster.models import ProgramState

if TYPE_CHECKING:
    from matchdesk.context import Matchdesk

REFRESH = "results.refresh"
_SUBMITTED = "results_refresh_day"  # the program day the last refresh job was submitted for
_DONE = "results_refreshed_day"  # the program day the last refresh ran for


@dataclass(frozen=True)
class Refreshed:
    """What a refresh changed: creators whose revenue_30d moved, creators whose rollup
    figures moved to their tier now."""

    day: date
    revenue_changed: int
    tiers_settled: int


def refresh(session: Session, program: Program, today: date | None = None) -> Refreshed:
    """Set every results-sourced `revenue_30d` to the ledger's last 30 program days up to
    `today` (default: today, program time) and settle the rollups' tiers."""
    day = today or today_in(program.program.timezone)
    changed = refresh_revenue(session, day)
    ensure_current(session, day)  # segments' 30-day figures for the new day, at once
    settled = settle_tiers(session)
    results_changed(session)  # the days moved on: cached report figures are stale
    _set(session, _DONE, day.isoformat())
    return Refreshed(day, changed, settled)


def last_refreshed(session: Session) -> date | None:
    """The program day the last refresh ran for (None: never)."""
    state = session.get(ProgramState, _DONE)
    return date.fromisoformat(state.value) if state is not None and state.value else None


def submit_if_due(session: Session, program: Program, today: date | None = None) -> int | None:
    """Submit the day's refresh job unless it was submitted for this program day already;
    returns the job's id, or None. Safe with several workers: one compare-and-set on
    `program_state` decides which submits."""
    day = (today or today_in(program.program.timezone)).isoformat()
    state = session.get(ProgramState, _SUBMITTED)
    if state is not None and state.value >= day:
        return None  # the usual case: a read, no write lock taken
    claimed = session.execute(
        update(ProgramState)
        .where(ProgramState.key == _SUBMITTED, ProgramState.value < day)
        .values(value=day)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        if state is not None:
            return None  # another worker moved it to this day first
        try:
            with session.begin_nested():
                session.execute(insert(ProgramState).values(key=_SUBMITTED, value=day))
        except IntegrityError:  # another worker inserted it first
            return None
    return submit(session, REFRESH, {"today": day}).id


def refresh_job(md: Matchdesk, payload: dict[str, Any], progress: Progress) -> JobResult:
    """The daily refresh as a job (payload: `today`, the program day)."""
    today = date.fromisoformat(str(payload["today"])) if payload.get("today") else None
    progress(0, 1, "Refreshing revenue_30d from the ledger")
    with md.transaction() as session:
        done = refresh(session, md.program, today)
    progress(1, 1, f"{done.revenue_changed:,} creators' revenue_30d changed")
    return {
        "today": done.day.isoformat(),
        "revenue_changed": done.revenue_changed,
        "tiers_settled": done.tiers_settled,
    }


def register(registry: JobRegistry) -> None:
    registry.register(REFRESH, refresh_job)


def _set(session: Session, key: str, value: str) -> None:
    state = session.get(ProgramState, key)
    if state is None:
        session.add(ProgramState(key=key, value=value))
    else:
        state.value = value
    session.flush()


__all__ = ["REFRESH", "Refreshed", "last_refreshed", "refresh", "register", "submit_if_due"]

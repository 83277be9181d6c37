"""Each creator's results figures for segments and personal fields, kept as results
arrive instead of grouping the ledger at every use: `creator_results` holds per creator
the diamonds and LIVE days over the 30 program days ending one program day, and their
last LIVE day up to it. The day the table is for is kept in `program_state`.

- An import (`record_import`) recomputes the rows of the creators it touched, from their
  ledger days, when the table is for the import's program day; otherwise it leaves the
  table as it is (stale: the next use recomputes it whole).
- `ensure_current(session, today)` makes the table hold `today`'s figures: nothing when
  it does already (one primary-key read), else every row recomputed in one grouped
  statement over the ledger. The worker's daily refresh calls it, and so does every
  evaluation of a segment with a results field (lazily, the first use of a new day), so
  a segment is never evaluated on another day's figures.

`diamonds_30d` is the sum `ledger.refresh_revenue` writes into `creators.revenue_30d`
for results-sourced creators, but that column holds the roster's own figure for the
others and is refreshed as of the import's or the refresh's day: not the same field.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchdesk.results.ledger import revenue_window
from matchdesk.results.models import CreatorResults, LedgerDay
from matchdesk.roster.models import ProgramState

if TYPE_CHECKING:
    from matchdesk.results.staging import Stage

STATE_KEY = "creator_results_day"  # the program day creator_results holds


def figures_recorded(stage: Stage, today: date) -> None:
    """After an import wrote its sessions and ledger days: the creators' figures and the
    kept campaign points (outreach.standings) brought up to date for what it touched."""
    from matchdesk.outreach.standings import record_import as record_campaign_points

    record_import(stage.session, stage.touched_creators(), today)
    record_campaign_points(stage, today)


def stored_day(session: Session) -> date | None:
    """The program day `creator_results` is for (None: never computed, or invalidated)."""
    value = session.scalar(select(ProgramState.value).where(ProgramState.key == STATE_KEY))
    return date.fromisoformat(value) if value else None


def is_current(session: Session, today: date) -> bool:
    return stored_day(session) == today


def ensure_current(session: Session, today: date) -> bool:
    """Make `creator_results` hold `today`'s figures; returns whether it recomputed them.
    The day is claimed first by a compare-and-set on `program_state` (its row lock held
    to commit), so two sessions never recompute at once: the second waits, then finds
    the day current."""
    if is_current(session, today):
        return False
    day = today.isoformat()
    claimed = session.execute(
        update(ProgramState)
        .where(ProgramState.key == STATE_KEY, ProgramState.value != day)
        .values(value=day)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        if stored_day(session) == today:
            return False  # another session computed it meanwhile
        try:
            with session.begin_nested():
                session.execute(insert(ProgramState).values(key=STATE_KEY, value=day))
        except IntegrityError:  # another session inserted it first
            return False
    recompute(session, today)
    return True


def invalidate(session: Session) -> None:
    """Mark the figures stale (after writing ledger days other than by an import, e.g. a
    bulk load or a repair): the next use recomputes them."""
    session.execute(
        update(ProgramState)
        .where(ProgramState.key == STATE_KEY)
        .values(value="")
        .execution_options(synchronize_session=False)
    )


def _figures(today: date, *where: Any) -> Any:
    """Per creator with ledger days up to `today`: the 30-day diamonds and LIVE days,
    and the last LIVE day, in one grouped read."""
    first, _last = revenue_window(today)
    recent = LedgerDay.day >= first
    return (
        select(
            LedgerDay.creator_id,
            func.coalesce(func.sum(case((recent, LedgerDay.diamonds), else_=0)), 0),
            func.coalesce(func.sum(case((recent & (LedgerDay.sessions > 0), 1), else_=0)), 0),
            func.max(case((LedgerDay.sessions > 0, LedgerDay.day))),
        )
        .where(LedgerDay.day <= today, literal(True), *where)
        .group_by(LedgerDay.creator_id)
    )


_NAMES = ["creator_id", "diamonds_30d", "live_days_30d", "last_live_day"]


def recompute(session: Session, today: date) -> None:
    """Every creator's row, as of `today` (the caller records the day)."""
    session.execute(delete(CreatorResults))
    session.execute(insert(CreatorResults).from_select(_NAMES, _figures(today)))


def record_import(session: Session, touched: Any, today: date) -> None:
    """After an import wrote its ledger days: the rows of the creators in `touched` (a
    subquery of ids) recomputed, if the table holds `today`'s figures (else it is stale
    anyway and the next use recomputes it whole)."""
    if not is_current(session, today):
        return
    session.execute(delete(CreatorResults).where(CreatorResults.creator_id.in_(touched)))
    session.execute(
        insert(CreatorResults).from_select(
            _NAMES, _figures(today, LedgerDay.creator_id.in_(touched))
        )
    )


__all__ = [
    "ensure_current",
    "figures_recorded",
    "invalidate",
    "is_current",
    "recompute",
    "record_import",
]

"""The revenue ledger: per creator and program day, the sums of the sessions starting that
day, kept up to date as sessions are written (an updated session's old figures are taken
off, its new ones added) by one set-based upsert, never recomputed from the sessions.

A creator's `revenue_30d` follows the ledger once the creator has results: the diamonds
of the last 30 program days up to today (`revenue_source` = "results"). It never re-tiers
the creator by itself: tier changes of such creators come from the tier review.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, Table, case, func, insert, literal, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from matchdesk.results.models import LedgerDay
from matchdesk.results.staging import CREATED, STAGING, UNCHANGED, UPDATED, L, S, Stage
from matchdesk.roster.models import Creator
from matchdesk.roster.version import roster_changed

LEDGER_FIGURES = ("sessions", "live_minutes", "diamonds", "new_followers", "match_sessions")
REVENUE_DAYS = 30


def _upsert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(LedgerDay)


def staged_deltas(stage: Stage) -> Any:
    """A subquery of what the import changes per creator and day: creator_id, day and
    the figures' deltas (the staged sessions it writes added, the figures the updated
    ones had taken off)."""
    added: Select[Any] = select(
        S.creator_id,
        S.day,
        literal(1).label("sessions"),
        S.duration_minutes.label("live_minutes"),
        S.diamonds.label("diamonds"),
        func.coalesce(S.new_followers, 0).label("new_followers"),
        case((S.match_id.is_not(None), 1), else_=0).label("match_sessions"),
    ).where(S.state.in_((CREATED, UPDATED)))
    removed: Select[Any] = (
        select(
            L.creator_id,
            L.day,
            literal(-1),
            -L.duration_minutes,
            -L.diamonds,
            -func.coalesce(L.new_followers, 0),
            case((L.match_id.is_not(None), -1), else_=0),
        )
        .join(STAGING, S.existing_id == L.id)
        .where(S.state == UPDATED)
    )
    updates: int | None
    if stage.counts is not None:  # classified: no need to count again
        updates = stage.counts[UPDATED]
    else:
        updates = stage.session.scalar(select(func.count()).where(S.state == UPDATED))
    deltas = (union_all(added, removed) if updates else added).subquery()
    return (
        select(
            deltas.c.creator_id,
            deltas.c.day,
            *(func.sum(deltas.c[name]).label(name) for name in LEDGER_FIGURES),
        )
        # SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT (its parser).
        .where(literal(True))
        .group_by(deltas.c.creator_id, deltas.c.day)
    ).subquery("deltas")


def apply_deltas(stage: Stage) -> None:
    """Add the staged sessions the import writes to their days, and take the figures the
    updated ones had off theirs; call before the sessions themselves are written (the
    import calls `rollups.record_import`, which keeps the rollups too)."""
    summed = staged_deltas(stage)
    statement = _upsert(stage.session).from_select(
        ["creator_id", "day", *LEDGER_FIGURES],
        select(summed).where(literal(True)),
    )
    statement = statement.on_conflict_do_update(
        index_elements=["creator_id", "day"],
        set_={name: getattr(LedgerDay, name) + statement.excluded[name] for name in LEDGER_FIGURES},
    )
    stage.session.execute(statement)


def add_deltas(session: Session, deltas: Table, *, ordered: bool = True) -> None:
    """Apply a table of per creator and day deltas (creator_id, day, the figures, `new`:
    1 where the ledger has no row for the day yet): the new days inserted (a concurrent
    writer of the same day makes this fail, never count twice), the others added to.
    The new days go in in the ledger key's order (its index pages written once), sorted
    here unless `ordered` is False (the table was written in that order already)."""
    d = deltas.c
    days = select(d.creator_id, d.day, *(d[name] for name in LEDGER_FIGURES)).where(d.new == 1)
    if ordered:
        days = days.order_by(d.creator_id, d.day)
    session.execute(insert(LedgerDay).from_select(["creator_id", "day", *LEDGER_FIGURES], days))
    # Only when some day is not new: on a 1M-row first import (its ~900,000 days just
    # inserted, not yet in the ledger's statistics) PostgreSQL once spent minutes on this
    # update with nothing to update (seen under load; the plan was not captured).
    if not session.scalar(select(func.count()).select_from(deltas).where(d.new == 0)):
        return
    old = {name: getattr(LedgerDay, name) for name in LEDGER_FIGURES}
    session.execute(
        update(LedgerDay)
        .where(LedgerDay.creator_id == d.creator_id, LedgerDay.day == d.day, d.new == 0)
        .values({name: old[name] + d[name] for name in LEDGER_FIGURES})
        .execution_options(synchronize_session=False)
    )


def revenue_window(today: date) -> tuple[date, date]:
    """The 30 program days ending `today`, both included."""
    return today - timedelta(days=REVENUE_DAYS - 1), today


def refresh_revenue(session: Session, today: date, touched: Any = None) -> int:
    """Set `revenue_30d` from the ledger for every creator with results, and for the
    creators in `touched` (a subquery of ids: those an import just gave results); returns
    how many creators changed. Their tiers are left as they are."""
    first, last = revenue_window(today)
    # The window's sums in one grouped read of the ledger, joined to the creators in
    # scope (not a sum per creator, twice: once to compare, once to set).
    sums = (
        select(LedgerDay.creator_id, func.sum(LedgerDay.diamonds).label("total"))
        .where(LedgerDay.day.between(first, last))
        .group_by(LedgerDay.creator_id)
        .subquery("sums")
    )
    them = aliased(Creator, name="them")
    scope = them.revenue_source == "results"
    if touched is not None:
        scope = or_(scope, them.id.in_(touched))
    wanted = (
        select(them.id.label("id"), func.coalesce(sums.c.total, 0).label("total"))
        .outerjoin(sums, sums.c.creator_id == them.id)
        .where(scope)
        .subquery("wanted")
    )
    result = session.execute(
        update(Creator)
        .where(Creator.id == wanted.c.id)
        .where(or_(Creator.revenue_30d != wanted.c.total, Creator.revenue_source != "results"))
        .values(
            revenue_30d=wanted.c.total,
            revenue_source="results",
            version=Creator.version + 1,
            # counted in the report rollups from their first results (rollups.counted_tier)
            counted_tier=func.coalesce(Creator.counted_tier, func.coalesce(Creator.tier, "")),
        )
        .execution_options(synchronize_session=False)
    )
    changed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if changed:
        roster_changed(session)
    return changed


def ledger_days(
    session: Session, creator_id: int, first: date | None = None, last: date | None = None
) -> list[LedgerDay]:
    """A creator's ledger days from `first` to `last` (both included), oldest first."""
    query = select(LedgerDay).where(LedgerDay.creator_id == creator_id)
    if first is not None:
        query = query.where(LedgerDay.day >= first)
    if last is not None:
        query = query.where(LedgerDay.day <= last)
    return list(session.scalars(query.order_by(LedgerDay.day)))


def diamonds_between(
    session: Session, creator_ids: list[int], first: date, last: date
) -> dict[int, int]:
    """Each creator's diamonds from `first` to `last` (both included; creators without
    results in that range get 0)."""
    totals = dict.fromkeys(creator_ids, 0)
    for start in range(0, len(creator_ids), 1000):
        chunk = creator_ids[start : start + 1000]
        for creator_id, diamonds in session.execute(
            select(LedgerDay.creator_id, func.sum(LedgerDay.diamonds))
            .where(LedgerDay.creator_id.in_(chunk), LedgerDay.day.between(first, last))
            .group_by(LedgerDay.creator_id)
        ):
            totals[creator_id] = int(diamonds or 0)
    return totals


__all__ = [
    "UNCHANGED",
    "add_deltas",
    "apply_deltas",
    "diamonds_between",
    "ledger_days",
    "refresh_revenue",
]

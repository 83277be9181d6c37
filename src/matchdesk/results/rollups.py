"""The program-level rollups of the ledger, kept as results arrive, so that the program
report reads a few thousand rows whatever the size of the program:

- `ledger_tier_days`: per program day and tier, the sums of the ledger days (sessions,
  LIVE minutes, diamonds, new followers, match sessions);
- `ledger_week_masks`: per program week, tier and set of weekdays live (a 7-bit mask,
  Monday = bit 0), how many creators were live on exactly those days. Creators live over
  any days of a week is the sum over the masks that meet those days: the distinct count
  becomes additive.

Tiers: SPEC section 5 counts a tier by the creators in it now. Each creator's ledger is
counted under one tier (`creators.counted_tier`, the tier the rollups last saw). When a tier
changes (the roster, an edit, the tier review), the rollups are corrected on read for
the creators whose tier differs from the counted one (`mismatched`: normally a handful,
read from their own ledger days), and settled (their figures moved between tiers) by the
next import that touches them, an applied tier review or the daily refresh. So every
report is exact, and no roster write path has to know about the rollups.

Everything is set-based SQL; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    extract,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from matchdesk.results.ledger import LEDGER_FIGURES, add_deltas, staged_deltas
from matchdesk.results.models import LedgerDay, TierDay, WeekMask
from matchdesk.results.staging import Stage
from matchdesk.roster.models import TIER_MOVED, Creator

DAY_FIGURES = ("sessions", "live_minutes", "diamonds", "new_followers", "match_sessions")
ALL_DAYS = 127

Executor = Session | Connection

_MOVES = Table(
    "rollup_moves",
    MetaData(),  # temporary: never part of a migration
    Column("creator_id", Integer, primary_key=True),
    Column("old_tier", String(40), nullable=False),
    Column("new_tier", String(40), nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
DELTAS = Table(
    "results_deltas",
    MetaData(),
    Column("creator_id", Integer, nullable=False),
    Column("day", Date, nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in LEDGER_FIGURES),
    Column("new", Integer, nullable=False),  # 1: no ledger row for the day yet
    Column("tier", String(40), nullable=False),  # the creator's counted tier (counted_tier)
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
ROLLUP_LOCK = 0x6D64_726F_6C6C  # "mdroll": the advisory lock of the rollups' writers


def _dialect(executor: Executor) -> str:
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return bind.dialect.name


def week_start(executor: Executor, day: Any) -> Any:
    """SQL for the Monday of a day column's program week."""
    if _dialect(executor) == "postgresql":
        return cast(func.date_trunc("week", day), Date)
    return func.date(day, "weekday 0", "-6 days")


def weekday_bit(executor: Executor, day: Any) -> Any:
    """SQL for a day's bit in a week mask (Monday 1, Tuesday 2, ... Sunday 64)."""
    if _dialect(executor) == "postgresql":
        shift = (cast(extract("isodow", day), Integer) - 1).self_group()
    else:
        shift = ((cast(func.strftime("%w", day), Integer) + 6) % 7).self_group()
    return literal_column("1").op("<<")(shift)


def _insert(executor: Executor, table: Any) -> Any:
    return (postgresql.insert if _dialect(executor) == "postgresql" else sqlite.insert)(table)


def add_to_days(executor: Executor, rows: Any) -> None:
    """Add a select of (day, tier, *DAY_FIGURES) deltas to `ledger_tier_days`."""
    grouped = (
        select(
            rows.c.day,
            rows.c.tier,
            *(func.sum(rows.c[name]).label(name) for name in DAY_FIGURES),
        )
        .where(literal(True))  # SQLite's parser: a WHERE before ON CONFLICT
        .group_by(rows.c.day, rows.c.tier)
    )
    statement = _insert(executor, TierDay).from_select(["day", "tier", *DAY_FIGURES], grouped)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "tier"],
        set_={name: getattr(TierDay, name) + statement.excluded[name] for name in DAY_FIGURES},
    )
    executor.execute(statement)
    executor.execute(delete(TierDay).where(TierDay.sessions == 0))


def add_to_masks(executor: Executor, rows: Any) -> None:
    """Add a select of (week, tier, days, creators) deltas to `ledger_week_masks`."""
    grouped = (
        select(rows.c.week, rows.c.tier, rows.c.days, func.sum(rows.c.creators).label("creators"))
        .where(rows.c.days != 0)
        .group_by(rows.c.week, rows.c.tier, rows.c.days)
    )
    statement = _insert(executor, WeekMask).from_select(
        ["week", "tier", "days", "creators"], grouped
    )
    statement = statement.on_conflict_do_update(
        index_elements=["week", "tier", "days"],
        set_={"creators": WeekMask.creators + statement.excluded.creators},
    )
    executor.execute(statement)
    executor.execute(delete(WeekMask).where(WeekMask.creators == 0))


def _day_contributions(creators: Any, tier: Any, sign: int) -> Select[Any]:
    """The ledger days of `creators` (a subquery with creator_id) as day rollup deltas
    under `tier` (a column of that subquery), times `sign`."""
    return (
        select(
            LedgerDay.day.label("day"),
            tier.label("tier"),
            *((getattr(LedgerDay, name) * sign).label(name) for name in DAY_FIGURES),
        )
        .join(creators, creators.c.creator_id == LedgerDay.creator_id)
        .where(LedgerDay.sessions > 0)
    )


def _mask_contributions(executor: Executor, creators: Any, tier: Any, sign: int) -> Select[Any]:
    """The week masks of `creators` as mask rollup deltas under `tier`, times `sign`."""
    week = week_start(executor, LedgerDay.day).label("week")
    masks = (
        select(
            LedgerDay.creator_id,
            tier.label("tier"),
            week,
            func.sum(weekday_bit(executor, LedgerDay.day)).label("days"),
        )
        .join(creators, creators.c.creator_id == LedgerDay.creator_id)
        .where(LedgerDay.sessions > 0)
        .group_by(LedgerDay.creator_id, tier, week)
        .subquery()
    )
    return select(masks.c.week, masks.c.tier, masks.c.days, literal(sign).label("creators"))


def tier_now() -> Any:
    """SQL for a creator's tier now as the rollups name it ('' for none)."""
    return func.coalesce(Creator.tier, literal_column("''"))


def counted_tier() -> Any:
    """SQL for the tier a creator's ledger is counted under, their tier now for one the
    rollups have not seen yet (an import counts them so; `ledger.refresh_revenue`, in the
    same import, records it on the creator with the revenue, one row write for both)."""
    return func.coalesce(Creator.counted_tier, tier_now())


def mismatched() -> Any:
    """A subquery of the creators whose ledger is counted under a tier other than their
    tier now: creator_id, old_tier (counted), new_tier (now; '' for none). Read through
    the partial index `ix_creators_tier_moved` (its predicate, `TIER_MOVED`, word for
    word), so it costs the few such creators, not the roster."""
    return (
        select(
            Creator.id.label("creator_id"),
            Creator.counted_tier.label("old_tier"),
            tier_now().label("new_tier"),
        )
        .where(text(TIER_MOVED))
        .subquery("mismatched")
    )


def settle_tiers(session: Session, scope: Any = None) -> int:
    """Move the figures of the creators whose tier changed (all of them, or those in
    `scope`, a subquery of creator ids) to their tier now; returns how many moved."""
    lock(session)
    session.execute(text("DROP TABLE IF EXISTS rollup_moves"))
    _MOVES.create(session.connection())
    try:
        found = mismatched()
        query = select(found.c.creator_id, found.c.old_tier, found.c.new_tier)
        if scope is not None:
            query = query.where(found.c.creator_id.in_(scope))
        session.execute(insert(_MOVES).from_select(["creator_id", "old_tier", "new_tier"], query))
        moved = int(session.scalar(select(func.count()).select_from(_MOVES)) or 0)
        if moved:
            moves = _MOVES.alias("moves")
            days = union_all(
                _day_contributions(moves, moves.c.old_tier, -1),
                _day_contributions(moves, moves.c.new_tier, 1),
            ).subquery()
            add_to_days(session, days)
            masks = union_all(
                _mask_contributions(session, moves, moves.c.old_tier, -1),
                _mask_contributions(session, moves, moves.c.new_tier, 1),
            ).subquery()
            add_to_masks(session, masks)
            session.execute(
                update(Creator)
                .values(counted_tier=_MOVES.c.new_tier)
                .where(Creator.id == _MOVES.c.creator_id)
                .execution_options(synchronize_session=False)
            )
    finally:
        session.execute(text("DROP TABLE IF EXISTS rollup_moves"))
    return moved


def lock(executor: Executor) -> None:
    """Serialise the rollups' writers (imports, tier settlement, a creator's removal) for
    the rest of the transaction: each reads the ledger to decide what to add (a creator's
    week mask before a new day) and would otherwise count twice with another. PostgreSQL:
    a transaction-level advisory lock; SQLite has one writer at a time already."""
    if _dialect(executor) == "postgresql":
        executor.execute(select(func.pg_advisory_xact_lock(ROLLUP_LOCK)))


def record_import(stage: Stage) -> None:
    """Keep the ledger and the rollups in step with an import, before the sessions
    themselves are written. What the import changes per creator and day is computed once
    into a temporary table: a day that has no ledger row yet is new (a plain insert, and
    the only kind that changes a creator's week mask), the others are added to."""
    session = stage.session
    lock(session)
    stage.lock_creators()
    settle_tiers(session, stage.touched_creators())
    session.execute(text("DROP TABLE IF EXISTS results_deltas"))
    DELTAS.create(session.connection())
    summed = staged_deltas(stage)
    absent = LedgerDay.creator_id.is_(None)
    postgresql = _dialect(session) == "postgresql"
    with _sorted_grouping(session):
        session.execute(
            insert(DELTAS).from_select(
                ["creator_id", "day", *LEDGER_FIGURES, "new", "tier"],
                select(
                    summed.c.creator_id,
                    summed.c.day,
                    *(summed.c[name] for name in LEDGER_FIGURES),
                    case((absent, 1), else_=0),
                    counted_tier(),  # once per creator-day here, not in each use below
                )
                .select_from(summed)
                .join(Creator, Creator.id == summed.c.creator_id)
                .outerjoin(
                    LedgerDay,
                    and_(
                        LedgerDay.creator_id == summed.c.creator_id, LedgerDay.day == summed.c.day
                    ),
                ),
            )
        )
    if postgresql:
        session.execute(text("ANALYZE results_deltas"))
    _record_masks(session)
    d = DELTAS.c
    add_to_days(session, select(d.day, d.tier, *(d[name] for name in DAY_FIGURES)).subquery())
    # The deltas come in (creator_id, day) order from the sorted grouping: the ledger's
    # new days are inserted in its key's order without sorting them again.
    add_deltas(session, DELTAS, ordered=not postgresql)
    session.execute(text("DROP TABLE IF EXISTS results_deltas"))


@contextmanager
def _sorted_grouping(session: Session) -> Iterator[None]:
    """On PostgreSQL, group by sorting rather than hashing for one statement: the import's
    creator-days (about one a session) come out in (creator_id, day) order, the ledger
    key's, and the sort is no slower than a hash table of a million groups."""
    if _dialect(session) != "postgresql":
        yield
        return
    before = session.scalar(text("SELECT current_setting('enable_hashagg')"))
    session.execute(text("SET LOCAL enable_hashagg = off"))
    yield  # (a failure aborts the transaction, and the SET LOCAL with it)
    session.execute(text("SELECT set_config('enable_hashagg', :value, true)"), {"value": before})


def _record_masks(session: Session) -> None:
    """Move each creator-week that gains a day from its old mask to the new one."""
    d = DELTAS.c
    week = week_start(session, d.day).label("week")
    added = (
        select(
            d.creator_id,
            week,
            d.tier,
            func.sum(weekday_bit(session, d.day)).label("added"),
        )
        .where(d.new == 1)
        .group_by(d.creator_id, week, d.tier)
        .subquery("added")
    )
    if _dialect(session) == "postgresql":
        week_end: Any = added.c.week + 6
    else:
        week_end = func.date(added.c.week, "+6 days")
    # Each creator-week's tier from the deltas (their creator's counted tier), and the old
    # masks computed once for both of their uses below (a CTE: PostgreSQL materialises one
    # referenced twice, where a subquery would be planned, joined and grouped twice).
    before = (
        select(
            added.c.creator_id,
            added.c.week,
            added.c.added,
            added.c.tier,
            func.coalesce(func.sum(weekday_bit(session, LedgerDay.day)), 0).label("old"),
        )
        .select_from(added)
        .outerjoin(
            LedgerDay,
            and_(
                LedgerDay.creator_id == added.c.creator_id,
                LedgerDay.day >= added.c.week,
                LedgerDay.day <= week_end,
                LedgerDay.sessions > 0,
            ),
        )
        .group_by(added.c.creator_id, added.c.week, added.c.added, added.c.tier)
        .cte("before")
    )
    changes = union_all(
        select(
            before.c.week,
            before.c.tier,
            before.c.old.label("days"),
            literal(-1).label("creators"),
        ),
        select(
            before.c.week,
            before.c.tier,
            (before.c.old + before.c.added).label("days"),
            literal(1).label("creators"),
        ),
    ).subquery()
    add_to_masks(session, changes)


def forget_creator(connection: Connection, creator_id: int) -> None:
    """Take a creator's ledger out of the rollups, before the creator is deleted."""
    counted = connection.scalar(select(Creator.counted_tier).where(Creator.id == creator_id))
    if counted is None:
        return  # never counted: no results
    lock(connection)
    one = select(literal(creator_id).label("creator_id"), literal(counted).label("tier")).subquery(
        "gone"
    )
    add_to_days(connection, _day_contributions(one, one.c.tier, -1).subquery())
    add_to_masks(connection, _mask_contributions(connection, one, one.c.tier, -1).subquery())


def rebuild(session: Session) -> None:
    """Recompute every rollup from the ledger, counting each creator under their tier now
    (after a bulk load straight into `ledger_days`, or as a repair)."""
    for table in (TierDay, WeekMask):
        session.execute(delete(table))
    has_results = exists().where(LedgerDay.creator_id == Creator.id)
    session.execute(
        update(Creator)
        .values(counted_tier=case((has_results, tier_now()), else_=None))
        .execution_options(synchronize_session=False)
    )
    counted = (
        select(Creator.id.label("creator_id"), Creator.counted_tier.label("tier"))
        .where(Creator.counted_tier.is_not(None))
        .subquery("counted")
    )
    add_to_days(session, _day_contributions(counted, counted.c.tier, 1).subquery())
    add_to_masks(session, _mask_contributions(session, counted, counted.c.tier, 1).subquery())

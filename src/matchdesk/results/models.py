"""The results' tables: LIVE sessions and the per-creator, per-program-day ledger.

A session belongs to the program day (the program's time zone) on which it starts. The
ledger is kept up to date as sessions are imported (never recomputed from scratch on a
page), so reports read days, not sessions.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    delete,
    event,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from matchdesk.db import Base
from matchdesk.roster.models import Creator, utcnow

OUTCOMES = ("win", "loss", "draw")


class LiveSession(Base):
    """One LIVE session of a creator (SPEC section 4), keyed by (creator, started_at).

    `day` is the program day the session starts on, kept with the row so that the ledger
    can be adjusted when a session's figures change; `match_id` links a match session."""

    __tablename__ = "live_sessions"
    __table_args__ = (
        UniqueConstraint("creator_id", "started_at"),
        CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name="duration_range"),
        CheckConstraint("diamonds >= 0", name="diamonds_non_negative"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('win', 'loss', 'draw')", name="outcome_known"
        ),
        # Only match sessions are looked up by match; most sessions have none, and a
        # million-row import should not index a million NULLs. Days are read from the
        # ledger, not from here (a creator's sessions come by the unique index).
        Index(
            "ix_live_sessions_match_id",
            "match_id",
            postgresql_where=text("match_id IS NOT NULL"),
            sqlite_where=text("match_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # No declared foreign key (nor on the ledger's creator_id): a million-row import would
    # pay a key check per row. An import locks its creators once instead (FOR KEY SHARE,
    # what each check takes), and removing a creator removes their sessions and ledger
    # days first (`_forget_creator` below).
    creator_id: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    day: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    diamonds: Mapped[int] = mapped_column(BigInteger)
    viewers_peak: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    new_followers: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    match_id: Mapped[int | None] = mapped_column(
        ForeignKey("matches.id", ondelete="SET NULL"), nullable=True
    )
    outcome: Mapped[str | None] = mapped_column(String(4), nullable=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerDay(Base):
    """A creator's figures on one program day, summed over the sessions starting that day."""

    __tablename__ = "ledger_days"
    __table_args__ = (Index("ix_ledger_days_day", "day"),)

    creator_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # see LiveSession
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    live_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    diamonds: Mapped[int] = mapped_column(BigInteger, default=0)
    new_followers: Mapped[int] = mapped_column(BigInteger, default=0)
    match_sessions: Mapped[int] = mapped_column(Integer, default=0)


class TierDay(Base):
    """The program's figures on one program day for one tier (`tier` '' for creators
    without one): the ledger days of the creators counted in that tier, summed. Kept up
    to date as results arrive (`results.rollups`); the program report reads these, never
    the ledger."""

    __tablename__ = "ledger_tier_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    tier: Mapped[str] = mapped_column(String(40), primary_key=True)
    sessions: Mapped[int] = mapped_column(BigInteger, default=0)
    live_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    diamonds: Mapped[int] = mapped_column(BigInteger, default=0)
    new_followers: Mapped[int] = mapped_column(BigInteger, default=0)
    match_sessions: Mapped[int] = mapped_column(BigInteger, default=0)


class WeekMask(Base):
    """How many creators of a tier were live on exactly the weekdays `days` (a 7-bit
    mask, Monday = 1) of one program week. Creators live over any days of a week is the
    sum over the masks that meet those days, so a distinct count becomes a sum."""

    __tablename__ = "ledger_week_masks"

    week: Mapped[date] = mapped_column(Date, primary_key=True)
    tier: Mapped[str] = mapped_column(String(40), primary_key=True)
    days: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    creators: Mapped[int] = mapped_column(BigInteger, default=0)


class CreatorResults(Base):
    """A creator's results figures for segments and personal fields, kept by
    `results.creator_stats`: diamonds and LIVE days over the 30 program days ending the
    program day they are for (one day for the whole table, in `program_state`), and the
    last program day with a session (up to that day). Creators without ledger days up to
    that day have no row (0, 0, never LIVE)."""

    __tablename__ = "creator_results"

    creator_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # see LiveSession
    diamonds_30d: Mapped[int] = mapped_column(BigInteger)
    live_days_30d: Mapped[int] = mapped_column(Integer)
    last_live_day: Mapped[date | None] = mapped_column(Date, nullable=True)


class ResultsUpload(Base):
    """A results file uploaded in the web app, kept between its check and the manager's
    confirmation (the confirmed import is exactly the file that was checked)."""

    __tablename__ = "results_uploads"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TierMove(Base):
    """A tier change the manager applied from the tier review, with the figures behind it
    (the review's hysteresis reads the latest move of each creator)."""

    __tablename__ = "tier_moves"
    __table_args__ = (Index("ix_tier_moves_creator_id_applied_at", "creator_id", "applied_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    from_tier: Mapped[str | None] = mapped_column(String(40), nullable=True)
    to_tier: Mapped[str] = mapped_column(String(40))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    applied_by: Mapped[str] = mapped_column(String(300), default="")
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@event.listens_for(Creator, "before_delete")
def _forget_creator(mapper: Mapper[Any], connection: Connection, target: Creator) -> None:
    """A creator removed from the roster takes their ledger out of the rollups, and their
    sessions and ledger days with them."""
    from matchdesk.results.rollups import forget_creator

    forget_creator(connection, target.id)
    connection.execute(delete(LiveSession).where(LiveSession.creator_id == target.id))
    connection.execute(delete(LedgerDay).where(LedgerDay.creator_id == target.id))
    connection.execute(delete(CreatorResults).where(CreatorResults.creator_id == target.id))

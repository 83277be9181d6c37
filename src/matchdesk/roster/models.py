"""The roster's tables: creators, their languages, weekly availability and block lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchdesk import clock
from matchdesk.db import Base


def utcnow() -> datetime:
    return clock.now()


TIER_MOVED = "counted_tier <> coalesce(tier, '')"


class Creator(Base):
    __tablename__ = "creators"
    __table_args__ = (
        CheckConstraint("followers >= 0", name="followers_non_negative"),
        CheckConstraint("revenue_30d >= 0", name="revenue_non_negative"),
        CheckConstraint("status IN ('active', 'paused')", name="status_known"),
        Index("ix_creators_tier_status", "tier", "status"),
        Index("ix_creators_followers", "followers"),
        Index("ix_creators_revenue_30d", "revenue_30d"),
        # The few creators whose tier changed since the report rollups counted them.
        Index(
            "ix_creators_tier_moved",
            "id",
            postgresql_where=text(TIER_MOVED),
            sqlite_where=text(TIER_MOVED),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(24), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    # Languages in file order (the first is the creator's main one), `;`-separated; the
    # `creator_languages` table holds one row each for filtering.
    languages: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(2), default="", index=True)
    category: Mapped[str] = mapped_column(String(60), default="")
    followers: Mapped[int] = mapped_column(BigInteger)
    revenue_30d: Mapped[int] = mapped_column(BigInteger)
    # Where `revenue_30d` comes from: the roster file ("roster") until the creator has
    # session results, then the ledger's last 30 program days ("results").
    revenue_source: Mapped[str] = mapped_column(String(10), default="roster")
    tier: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # The tier the results' report rollups count this creator's ledger under ('' none;
    # NULL: no results yet); kept by matchdesk.results.rollups, never by the roster.
    counted_tier: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    # The manager: an operator's e-mail ("" none). Check-in hours: weekly windows on the
    # creator's clock in availability syntax ("" the program's default).
    manager: Mapped[str] = mapped_column(String(254), default="", index=True)
    checkin_hours: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    # Raised on every change; edits carry the version they read (optimistic locking).
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Signed into every portal link; raising it revokes the creator's issued links.
    portal_link_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    windows: Mapped[list[AvailabilityWindow]] = relationship(
        back_populates="creator",
        cascade="all, delete-orphan",
        order_by="(AvailabilityWindow.weekday, AvailabilityWindow.start_minute)",
    )


class CreatorLanguage(Base):
    __tablename__ = "creator_languages"

    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)


class AvailabilityWindow(Base):
    """A weekly window in the creator's own time zone (`end_minute <= start_minute` crosses
    midnight)."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute BETWEEN 0 AND 1439", name="start_range"),
        CheckConstraint("end_minute BETWEEN 1 AND 1440", name="end_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)

    creator: Mapped[Creator] = relationship(back_populates="windows")


class CreatorBlock(Base):
    """`creator` is never matched with `blocked` (the rule applies in both directions)."""

    __tablename__ = "creator_blocks"
    __table_args__ = (CheckConstraint("creator_id <> blocked_id", name="not_self"),)

    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ProgramState(Base):
    """Key/value facts about the program as last applied (e.g. the tier rules' fingerprint)."""

    __tablename__ = "program_state"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class RosterUpload(Base):
    """A roster file uploaded in the web app, kept between its check and the manager's
    confirmation (so the confirmed import is exactly the file that was checked)."""

    __tablename__ = "roster_uploads"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

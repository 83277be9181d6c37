"""The check-in tables: check-ins and their action items (SPEC section 6).

Two bookings of one manager slot are impossible by construction: a partial unique index
on (manager, start) over the booked check-ins, on both backends, decides between two
simultaneous bookings (the loser's INSERT or UPDATE fails), not a read-then-write.
A second partial unique index keeps one open (booked) check-in per creator.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from matchdesk.db import Base
from matchdesk.roster.models import utcnow

STATUSES = ("booked", "held", "no_show", "cancelled")
_BOOKED = text("status = 'booked'")


class Checkin(Base):
    """A meeting of a creator with their manager. `version` is raised on every change
    (optimistic locking); `sequence` is the ICS SEQUENCE of its one calendar event
    (`uid`), raised on every change of time and on cancellation."""

    __tablename__ = "checkins"
    __table_args__ = (
        CheckConstraint(
            "status IN ('booked', 'held', 'no_show', 'cancelled')", name="status_known"
        ),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index(
            "uq_checkins_manager_slot",
            "manager_id",
            "starts_at",
            unique=True,
            postgresql_where=_BOOKED,
            sqlite_where=_BOOKED,
        ),
        Index(
            "uq_checkins_creator_open",
            "creator_id",
            unique=True,
            postgresql_where=_BOOKED,
            sqlite_where=_BOOKED,
        ),
        Index("ix_checkins_starts_at", "starts_at"),
        Index("ix_checkins_creator_id_starts_at", "creator_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), default="booked")
    version: Mapped[int] = mapped_column(Integer, default=1)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    booked_by: Mapped[str] = mapped_column(String(300), default="")
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Reminders of the current time (`sequence`): "" not yet, else "sent" or "skipped".
    reminder_24h: Mapped[str] = mapped_column(String(10), default="")
    reminder_1h: Mapped[str] = mapped_column(String(10), default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ActionItem(Base):
    """Something agreed at a check-in: what, who does it, by when; open until done."""

    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        ForeignKey("checkins.id", ondelete="CASCADE"), index=True
    )
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    owner: Mapped[str] = mapped_column(String(100), default="")
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

"""The tables of a round: the round, its matches, its byes and the creators' invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from matchdesk.db import Base
from matchdesk.roster.models import utcnow

ROUND_STATUSES = ("draft", "published", "closed", "discarded")
MATCH_STATUSES = (
    "proposed",  # in a draft round
    "published",  # invitations sent, waiting for both answers
    "confirmed",  # both creators confirmed
    "declined",  # one creator declined; both were freed
    "cancelled",  # the manager took the pair apart after publishing
    "completed",  # a session result arrived
    "no_show",  # the manager marked that one or both did not turn up
)
RESPONSES = ("pending", "confirmed", "declined")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Round(Base):
    """One matching run for one period and one pool (a cadence, optionally one tier).

    `version` rises on every change to the round or its matches; an edit carries the
    version it was made against, so a second manager's stale edit is refused."""

    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint(_one_of("status", ROUND_STATUSES), name="status_known"),
        CheckConstraint("cadence IN ('weekly', 'monthly')", name="cadence_known"),
        Index("ix_rounds_cadence_period_start", "cadence", "period_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cadence: Mapped[str] = mapped_column(String(10))
    tier: Mapped[str | None] = mapped_column(String(40), nullable=True)  # None: every tier
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    # The engine's figures: pool size, matched, weight, bound, seconds by phase.
    statistics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Match(Base):
    """Two creators (a before b by handle) and their slot, with the engine's score parts.

    Each side answers the invitation (`a_response`, `b_response`) and may be marked a
    no-show; the match's `status` follows from those and from the manager's actions."""

    __tablename__ = "matches"
    __table_args__ = (
        CheckConstraint(_one_of("status", MATCH_STATUSES), name="status_known"),
        CheckConstraint(_one_of("a_response", RESPONSES), name="a_response_known"),
        CheckConstraint(_one_of("b_response", RESPONSES), name="b_response_known"),
        CheckConstraint("creator_a_id <> creator_b_id", name="distinct_creators"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_matches_round_id_starts_at", "round_id", "starts_at"),
        # The board's tiles (a count per status) from the index alone (migration 0009).
        Index("ix_matches_round_id_status", "round_id", "status"),
        Index("ix_matches_creator_a_id", "creator_a_id"),
        Index("ix_matches_creator_b_id", "creator_b_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    creator_a_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    creator_b_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    score: Mapped[float] = mapped_column(Float)
    revenue: Mapped[float] = mapped_column(Float, default=0.0)
    audience: Mapped[float] = mapped_column(Float, default=0.0)
    slot: Mapped[float] = mapped_column(Float, default=0.0)
    novelty: Mapped[float] = mapped_column(Float, default=0.0)
    fairness: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)  # paired by hand
    a_response: Mapped[str] = mapped_column(String(10), default="pending")
    b_response: Mapped[str] = mapped_column(String(10), default="pending")
    a_no_show: Mapped[bool] = mapped_column(Boolean, default=False)
    b_no_show: Mapped[bool] = mapped_column(Boolean, default=False)


class Bye(Base):
    """A creator of the round's pool left without a match, and why."""

    __tablename__ = "byes"
    __table_args__ = (
        UniqueConstraint("round_id", "creator_id"),
        Index("ix_byes_round_id_reason", "round_id", "reason"),  # the count per reason
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(60))


class Invitation(Base):
    """A creator's calendar event for a round: one per creator and round, so a rematch
    updates the event the creator already has (same UID, higher SEQUENCE) instead of
    leaving a stale one beside a new one. `state` is what the creator was last sent."""

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("round_id", "creator_id"),
        CheckConstraint("state IN ('request', 'cancel')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    match_id: Mapped[int | None] = mapped_column(
        ForeignKey("matches.id", ondelete="SET NULL"), nullable=True
    )
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(10), default="request")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

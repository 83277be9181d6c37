"""Outreach's tables: saved segments, newsletters with one delivery row per recipient,
the suppression list, creators' subscriptions and the bounces read back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from matchdesk.db import Base
from matchdesk.roster.models import utcnow

NEWSLETTER_STATUSES = ("draft", "sending", "paused", "sent")
DELIVERY_STATUSES = ("pending", "queued", "suppressed")
SUPPRESSION_REASONS = ("unsubscribe", "hard_bounce", "complaint")
BOUNCE_KINDS = ("soft", "hard", "complaint")
TOPICS = ("newsletters", "campaigns")


class Segment(Base):
    """A saved segment: a name and its rule tree (SPEC section 7), evaluated when used."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Newsletter(Base):
    """A message to a segment. `segment` is the rule tree, evaluated when the send starts;
    the time is now (`send_at` None), an instant (`send_at`), or a wall-clock time on a
    date in each recipient's own zone (`local_date` + `local_time`)."""

    __tablename__ = "newsletters"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'sending', 'paused', 'sent')", name="newsletter_status_known"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    segment: Mapped[dict[str, Any]] = mapped_column(JSON)
    segment_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # Markdown with {{ personal fields }}
    # The subject and body per language, {"es": {"subject": ..., "body": ...}}: a creator
    # gets the first of their languages held here, else `subject` and `body`.
    translations: Mapped[dict[str, dict[str, str]] | None] = mapped_column(JSON, nullable=True)
    send_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    local_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    local_time: Mapped[str | None] = mapped_column(String(5), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Delivery(Base):
    """One recipient of a newsletter, written when its send starts (unique per newsletter
    and creator, so nobody can be queued twice). `pending`: not in the outbox yet (or
    taken back by a pause); `queued`: its message is in the outbox under the key
    `newsletter:{newsletter_id}:{creator_id}` (sent or failed is the outbox row's
    status); `suppressed`: not sent, the address was suppressed or unsubscribed."""

    __tablename__ = "newsletter_deliveries"
    __table_args__ = (
        UniqueConstraint("newsletter_id", "creator_id"),
        CheckConstraint(
            "status IN ('pending', 'queued', 'suppressed')", name="delivery_status_known"
        ),
        # The queueing's keyset scan: a newsletter's pending deliveries in id order.
        Index("ix_newsletter_deliveries_newsletter_id_status", "newsletter_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    newsletter_id: Mapped[int] = mapped_column(ForeignKey("newsletters.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), default="pending")


class Suppression(Base):
    """An address no newsletter reaches (transactional mail still does)."""

    __tablename__ = "suppressions"
    __table_args__ = (
        CheckConstraint(
            "reason IN ('unsubscribe', 'hard_bounce', 'complaint')", name="reason_known"
        ),
    )

    email: Mapped[str] = mapped_column(String(254), primary_key=True)  # lower case
    reason: Mapped[str] = mapped_column(String(12))
    detail: Mapped[str] = mapped_column(String(500), default="")
    # The newsletter whose link or bounce caused it, when known.
    newsletter_id: Mapped[int | None] = mapped_column(
        ForeignKey("newsletters.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Subscription(Base):
    """A creator's choice for one topic (no row: subscribed)."""

    __tablename__ = "subscriptions"

    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(30), primary_key=True)
    subscribed: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Bounce(Base):
    """A bounce or complaint read from the bounce mailbox or a webhook; reading the same
    report twice records it once (unique on its source and address)."""

    __tablename__ = "bounces"
    __table_args__ = (
        UniqueConstraint("source", "email"),
        CheckConstraint("kind IN ('soft', 'hard', 'complaint')", name="bounce_kind_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(300))  # the Maildir file or webhook event id
    email: Mapped[str] = mapped_column(String(254), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    newsletter_id: Mapped[int | None] = mapped_column(
        ForeignKey("newsletters.id", ondelete="SET NULL"), nullable=True, index=True
    )
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Campaign(Base):
    """A time-boxed push (SPEC section 8): dates in program time (both included), the
    eligibility segment, the scoring rules and the leagues, as read from its file."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date] = mapped_column(Date)
    segment: Mapped[dict[str, Any]] = mapped_column(JSON)
    scoring: Mapped[dict[str, Any]] = mapped_column(JSON)
    leagues: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the segment was evaluated into enrolments (on or after `starts`).
    enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # What the maintained points (`outreach.standings`) were computed for: the scoring,
    # starts and ends (None: not computed yet). Different from the campaign's own: stale.
    points_rules: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Enrolment(Base):
    """A creator taking part in a campaign, with the league their diamonds over the 7
    program days before its start put them in (None: not ranked)."""

    __tablename__ = "campaign_enrolments"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    league: Mapped[str | None] = mapped_column(String(100), nullable=True)
    diamonds_7d: Mapped[int] = mapped_column(BigInteger, default=0)
    # The creator's points, kept by `outreach.standings` as results are imported (None:
    # not computed yet), and the time zone their local days were taken in.
    points: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    points_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # What `points` is the floor of, summed over the creator's campaign days: diamonds,
    # those in the bonus hours, wins, the uncapped days' LIVE points and the capped days
    # (an import adds its touched days' difference to them).
    kept_diamonds: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    kept_bonus_diamonds: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    kept_wins: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    kept_live_points: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    kept_capped_days: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class CampaignDay(Base):
    """One enrolled creator's campaign sessions on one day of their own clock, summed:
    what the daily LIVE cap is taken over. Kept by `outreach.standings` (an import
    recomputes only the days it touches); an enrolment's `points` are the sum over these.
    No foreign keys (millions of rows written at once): a campaign's rows go with it in
    `standings`."""

    __tablename__ = "campaign_days"

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    creator_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the creator's local day
    diamonds: Mapped[int] = mapped_column(BigInteger)
    bonus_diamonds: Mapped[int] = mapped_column(BigInteger)  # those in the bonus hours
    minutes: Mapped[int] = mapped_column(BigInteger)
    wins: Mapped[int] = mapped_column(Integer)
    # floor(minutes x points_per_live_hour / 60), and whether the daily cap replaces it
    live_points: Mapped[int] = mapped_column(BigInteger)
    capped: Mapped[bool] = mapped_column(Boolean)

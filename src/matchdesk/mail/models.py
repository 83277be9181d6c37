"""The outbox: one row per outgoing message, from enqueue to sent or failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from matchdesk.db import Base
from matchdesk.roster.models import utcnow


class OutboxMessage(Base):
    """An outgoing e-mail. `queued` rows are due at `next_attempt_at`; a worker claims a
    row (`sending`, `claimed_by` until `claimed_until`) and marks it `sent` or, after a
    permanent refusal or too many attempts, `failed`. A claim that outlives its lease is
    taken over by another worker, so a crashed worker loses nothing."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status_known"),
        # The claim query: due queued rows and expired claims, oldest first.
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))  # "match_published", "newsletter", ...
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    # [{"filename", "content_type", "content" (base64)}]; small parts such as invitations.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Extra headers, e.g. a newsletter's List-Unsubscribe and List-Unsubscribe-Post.
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    # What makes the message unique in the program ("match:42:published:luna"); a second
    # enqueue with the same key is a no-op, and the Message-ID is derived from it.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

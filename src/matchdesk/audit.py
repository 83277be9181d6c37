"""The audit log: who changed what, when, with the values before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from matchdesk.db import Base
from matchdesk.roster.models import utcnow

# Subjects are ids, handles, e-mail addresses (254) and file names (200).
SUBJECT_ID_LENGTH = 300


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(300))  # "operator:anna@x.com", "creator:luna"
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(SUBJECT_ID_LENGTH))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


def record(
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry in the caller's transaction."""
    entry = AuditEntry(
        action=action,
        subject_type=subject_type,
        # Clipped rather than refused: the audit entry must never be what fails a change.
        subject_id=str(subject_id)[:SUBJECT_ID_LENGTH],
        actor=actor[:300],
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def entries_for(session: Session, subject_type: str, subject_id: str | int) -> list[AuditEntry]:
    """The subject's history, newest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == subject_type)
            .where(AuditEntry.subject_id == str(subject_id))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        )
    )

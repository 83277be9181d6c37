"""What a creator's page shows beside the profile: their block list (both ways) and one
timeline of what happened to them: the audit log's changes and the messages sent to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from matchdesk.audit import entries_for
from matchdesk.mail.models import OutboxMessage
from matchdesk.roster.models import Creator, CreatorBlock


@dataclass(frozen=True)
class Blocks:
    """Whom the creator blocks, and who blocks them (either way, never matched)."""

    blocks: list[str]
    blocked_by: list[str]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # aware UTC
    kind: str  # "change" or "message"
    who: str
    what: str


def creator_blocks(session: Session, creator_id: int) -> Blocks:
    """The handles the creator blocks and those that block them, each sorted."""
    other = aliased(Creator)
    blocks = session.scalars(
        select(other.handle)
        .join(CreatorBlock, CreatorBlock.blocked_id == other.id)
        .where(CreatorBlock.creator_id == creator_id)
        .order_by(other.handle)
    ).all()
    blocked_by = session.scalars(
        select(other.handle)
        .join(CreatorBlock, CreatorBlock.creator_id == other.id)
        .where(CreatorBlock.blocked_id == creator_id)
        .order_by(other.handle)
    ).all()
    return Blocks(list(blocks), list(blocked_by))


def creator_timeline(session: Session, creator: Creator, limit: int = 100) -> list[TimelineEntry]:
    """The newest `limit` changes and messages of the creator, newest first. Messages are
    those addressed to the creator's e-mail address, with their delivery status."""
    entries = [
        TimelineEntry(
            _aware(e.at), "change", e.actor.removeprefix("operator:"), e.action.replace("_", " ")
        )
        for e in entries_for(session, "creator", creator.handle)[:limit]
    ]
    if creator.email:
        for at, kind, subject, status in session.execute(
            select(
                OutboxMessage.created_at,
                OutboxMessage.kind,
                OutboxMessage.subject,
                OutboxMessage.status,
            )
            .where(OutboxMessage.recipient == creator.email)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        ):
            what = f"{kind.replace('_', ' ')} “{subject}” ({status})"
            entries.append(TimelineEntry(_aware(at), "message", "matchdesk", what))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

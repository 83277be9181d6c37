"""Reading the outbox for people: every message with its state, filtered and paged, one
message as it goes out, and a retry of one that failed. The caller owns the transaction.

Pages are keyset pages (newest first, `before` the last id seen), so the thousandth page
of a 100,000-message outbox costs what the first does, and a message arriving meanwhile
neither repeats nor hides a row on the next page.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matchdesk.errors import Conflict, InvalidInput, NotFound
from matchdesk.mail.messages import build_email
from matchdesk.mail.models import OutboxMessage
from matchdesk.roster.models import utcnow

STATUSES = ("queued", "sending", "sent", "failed")
PAGE_SIZE = 50


@dataclass(frozen=True)
class OutboxFilter:
    """What the outbox page shows: a status, a kind, and part of a recipient's address."""

    status: str = ""
    kind: str = ""
    recipient: str = ""

    def problems(self) -> list[str]:
        """Why this filter cannot be used (empty when it can)."""
        if self.status and self.status not in STATUSES:
            return [f"status: '{self.status}' is not one of {', '.join(STATUSES)}"]
        return []


@dataclass(frozen=True)
class OutboxRow:
    """One line of the outbox page."""

    id: int
    kind: str
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime


@dataclass(frozen=True)
class OutboxPage:
    """A page of messages, newest first; `next_before` is the `before` of the next page
    (None on the last one)."""

    rows: list[OutboxRow]
    next_before: int | None
    counts: dict[str, int]  # messages by status, over the whole outbox (filters aside)
    kinds: list[str]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_messages(
    session: Session,
    filters: OutboxFilter,
    *,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> OutboxPage:
    """The messages that pass `filters` with an id below `before` (newest first), at most
    `size` of them. Raises `InvalidInput` for an unknown status."""
    problems = filters.problems()
    if problems:
        raise InvalidInput("the outbox filter is not valid", problems)
    query = select(
        OutboxMessage.id,
        OutboxMessage.kind,
        OutboxMessage.recipient,
        OutboxMessage.subject,
        OutboxMessage.status,
        OutboxMessage.attempts,
        OutboxMessage.last_error,
        OutboxMessage.created_at,
        OutboxMessage.sent_at,
        OutboxMessage.next_attempt_at,
    )
    if filters.status:
        query = query.where(OutboxMessage.status == filters.status)
    if filters.kind:
        query = query.where(OutboxMessage.kind == filters.kind)
    needle = filters.recipient.strip().lower()
    if needle:
        # Addresses are ASCII in practice, where lower() agrees on both backends.
        pattern = f"%{_escape_like(needle)}%"
        query = query.where(func.lower(OutboxMessage.recipient).like(pattern, escape="\\"))
    if before is not None:
        query = query.where(OutboxMessage.id < before)
    found = session.execute(query.order_by(OutboxMessage.id.desc()).limit(size + 1)).all()
    rows = [OutboxRow(**r._asdict()) for r in found[:size]]
    counts = dict(
        session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    kinds = list(
        session.scalars(select(OutboxMessage.kind).distinct().order_by(OutboxMessage.kind))
    )
    return OutboxPage(
        rows=rows,
        next_before=rows[-1].id if len(found) > size else None,
        counts={s: int(counts.get(s, 0)) for s in STATUSES},
        kinds=kinds,
    )


@dataclass(frozen=True)
class MessageView:
    """One message as it goes out: its row, its headers and its parts."""

    message: OutboxMessage
    headers: list[tuple[str, str]]
    attachments: list[dict[str, Any]]  # filename, content_type, size (bytes)


def get_message(session: Session, message_id: int, from_address: str, domain: str) -> MessageView:
    """The message with `message_id`, with the headers it is sent with. Raises `NotFound`."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"No message {message_id} in the outbox.")
    email = build_email(message, from_address, domain)
    headers = [
        (name, str(value))
        for name, value in email.items()
        if name in ("From", "To", "Subject", "Date", "Message-ID")
    ]
    attachments = [
        {
            "filename": a["filename"],
            "content_type": a["content_type"],
            "size": len(base64.b64decode(a["content"])),
        }
        for a in message.attachments or ()
    ]
    return MessageView(message, headers, attachments)


def retry_message(session: Session, message_id: int) -> OutboxMessage:
    """Put a failed message back in the queue, due now, with its attempts counted afresh
    (its last error stays until the next attempt). Only a failed message can be retried;
    two retries at once give one (the second is refused with `Conflict`)."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"No message {message_id} in the outbox.")
    changed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "failed")
        .values(status="queued", attempts=0, next_attempt_at=utcnow(), claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(message)
        raise Conflict(
            f"Message {message_id} is {message.status}, not failed: only a failed message "
            "can be retried."
        )
    session.refresh(message)
    return message

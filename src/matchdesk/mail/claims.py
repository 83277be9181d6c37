"""Claiming outbox rows for one worker, and recording what became of each.

A claim is a lease: the row is `sending`, `claimed_by` a worker until `claimed_until`.
Rows are claimed in one statement, so two workers never get the same row: PostgreSQL
locks the chosen rows with `FOR UPDATE SKIP LOCKED` (a concurrent claim skips them
instead of waiting), SQLite runs the whole UPDATE under its single write lock. A claim
that outlives its lease (the worker died) is claimable again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, and_, bindparam, or_, select, text, update
from sqlalchemy.orm import Session

from matchdesk.mail.models import OutboxMessage

MAX_ERROR_LENGTH = 2000


@dataclass(slots=True)
class Claimed:
    """A claimed message, as its row reads once the claim is taken (the columns a worker
    needs; plain values, not an ORM object: a worker claims hundreds at a time, and
    loading them as `OutboxMessage` objects cost more than the claim's statement)."""

    id: int
    kind: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    attachments: list[dict[str, Any]] | None
    headers: dict[str, str] | None
    idempotency_key: str
    attempts: int
    claimed_until: datetime | None
    created_at: datetime


_outbox = OutboxMessage.__table__
_CLAIMED_COLUMNS = [_outbox.c[field.name] for field in fields(Claimed)]


def claim_batch(
    session: Session, *, worker_id: str, limit: int, lease: timedelta, now: datetime
) -> list[Claimed]:
    """Claim up to `limit` due messages for `worker_id` (queued ones whose time has come,
    and claims whose lease expired), oldest first, counting an attempt on each.

    Must be the first statement of the caller's transaction (on SQLite, a transaction
    that reads before it writes can fail instead of waiting for the write lock); commit
    right after, so other workers see the claim."""
    due = or_(
        and_(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )
    chosen = (
        select(OutboxMessage.id)
        .where(due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(chosen.scalar_subquery()))
        .values(
            status="sending",
            claimed_by=worker_id,
            claimed_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(*_CLAIMED_COLUMNS)
    )
    # Core, not the ORM: the rows as tuples, each JSON column decoded once.
    rows = session.connection().execute(statement).all()
    return sorted((Claimed(*row) for row in rows), key=lambda message: message.id)


class Accepted(NamedTuple):
    """A message the server accepted: its row, the Message-ID it went out with, and when."""

    row_id: int
    header_id: str
    at: datetime


# Built once: a worker runs it for every message it sends.
_MARK_SENT = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("row_id"), OutboxMessage.status == "sending")
    .values(
        status="sent",
        sent_at=bindparam("at"),
        message_id=bindparam("header_id"),
        claimed_until=None,
        last_error=None,
    )
)


# PostgreSQL: one UPDATE for all of them, from arrays (one statement to plan and run
# instead of one per message).
_MARK_SENT_ARRAYS = text(
    "UPDATE outbox SET status = 'sent', sent_at = v.at, message_id = v.header_id,"
    " claimed_until = NULL, last_error = NULL"
    " FROM unnest(CAST(:ids AS integer[]), CAST(:header_ids AS varchar[]),"
    " CAST(:ats AS timestamptz[])) AS v(id, header_id, at)"
    " WHERE outbox.id = v.id AND outbox.status = 'sending'"
)


def mark_sent(connection: Connection, accepted: Sequence[Accepted]) -> None:
    """Record that these messages went out, in one statement (whoever holds the claim
    now: they were sent)."""
    if not accepted:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(
            _MARK_SENT_ARRAYS,
            {
                "ids": [entry.row_id for entry in accepted],
                "header_ids": [entry.header_id for entry in accepted],
                "ats": [entry.at for entry in accepted],
            },
        )
        return
    connection.execute(_MARK_SENT, [entry._asdict() for entry in accepted])


def mark_retry(
    connection: Connection, message_id: int, *, worker_id: str, error: str, at: datetime
) -> None:
    """Put the message back in the queue until `at`, keeping the reason."""
    connection.execute(
        update(OutboxMessage)
        .where(_held(message_id, worker_id))
        .values(
            status="queued",
            next_attempt_at=at,
            last_error=error[:MAX_ERROR_LENGTH],
            claimed_by=None,
            claimed_until=None,
        )
    )


def mark_failed(connection: Connection, message_id: int, *, worker_id: str, error: str) -> None:
    """Give the message up for good, keeping the reason."""
    connection.execute(
        update(OutboxMessage)
        .where(_held(message_id, worker_id))
        .values(status="failed", last_error=error[:MAX_ERROR_LENGTH], claimed_until=None)
    )


def release(
    connection: Connection,
    message_ids: Sequence[int],
    *,
    worker_id: str,
    at: datetime,
    error: str | None = None,
) -> None:
    """Hand back claimed messages that were not tried (the worker is stopping, its lease
    is running out, or the server is unreachable): queued again from `at`, the attempt
    counted by the claim taken back."""
    if not message_ids:
        return
    values: dict[str, object] = {
        "status": "queued",
        "next_attempt_at": at,
        "attempts": OutboxMessage.attempts - 1,
        "claimed_by": None,
        "claimed_until": None,
    }
    if error is not None:
        values["last_error"] = error[:MAX_ERROR_LENGTH]
    connection.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(message_ids)),
            OutboxMessage.status == "sending",
            OutboxMessage.claimed_by == worker_id,
        )
        .values(values)
    )


def release_worker(connection: Connection, worker_id: str, *, now: datetime) -> int:
    """Hand back every claim `worker_id` still holds (a restarted worker with a fixed id
    recovers its rows at once instead of waiting for the leases to run out). Their attempt
    stays counted: the worker may have died while sending them."""
    result = connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_by == worker_id)
        .values(status="queued", next_attempt_at=now, claimed_by=None, claimed_until=None)
    )
    return result.rowcount


def _held(message_id: int, worker_id: str) -> ColumnElement[bool]:
    # Only the claim's holder may requeue or fail a row: after a takeover, the new holder
    # decides.
    return and_(
        OutboxMessage.id == message_id,
        OutboxMessage.status == "sending",
        OutboxMessage.claimed_by == worker_id,
    )

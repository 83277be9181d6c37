"""Claiming outbox rows for one worker, and recording what became of each.

A claim is a lease: the row is `sending`, `claimed_by` a worker until `claimed_until`.
Rows are claimed in one statement, so two workers never get the same row: PostgreSQL
locks the chosen rows with `FOR UPDATE SKIP LOCKED` (a concurrent claim skips them
instead of waiting), SQLite runs the whole UPDATE under its single write lock. A claim
that outlives its lease (the worker died) is claimable again.

Messages of the kinds a worker sends at most once (newsletters) are marked before their
content goes to the server: the Message-ID they go out with is written to the row
(`mark_attempted`) and committed first. A claim that outlives its lease with that mark
(the worker died, or lost its connection, after handing the message over and before the
server's reply was recorded) is not sent again: it is `failed` with a reason starting
`uncertain:` (`settle_uncertain`), its Message-ID kept, so that nobody gets it twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, and_, bindparam, or_, select, text, update
from sqlalchemy.orm import Session

from matchdesk.mail.models import OutboxMessage

MAX_ERROR_LENGTH = 2000
# How a message that may or may not have reached the server is failed (kinds sent at most
# once): its reason starts with this; the newsletter figures count them apart.
UNCERTAIN = "uncertain: "


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
    session: Session,
    *,
    worker_id: str,
    limit: int,
    lease: timedelta,
    now: datetime,
    at_most_once: Collection[str] = (),
) -> list[Claimed]:
    """Claim up to `limit` due messages for `worker_id` (queued ones whose time has come,
    and claims whose lease expired), oldest first, counting an attempt on each. Expired
    claims of the `at_most_once` kinds that were handed to the server are not claimed:
    they are failed as uncertain first (`settle_uncertain`).

    Must be the first statement of the caller's transaction (on SQLite, a transaction
    that reads before it writes can fail instead of waiting for the write lock); commit
    right after, so other workers see the claim."""
    if at_most_once:
        settle_uncertain(session.connection(), at_most_once, now=now)
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
            # Not handed to any server in this attempt yet (an operator's retry of an
            # uncertain message left its old Message-ID).
            message_id=None,
        )
        .returning(*_CLAIMED_COLUMNS)
    )
    # Core, not the ORM: the rows as tuples, each JSON column decoded once.
    rows = session.connection().execute(statement).all()
    return sorted((Claimed(*row) for row in rows), key=lambda message: message.id)


def settle_uncertain(
    connection: Connection,
    kinds: Collection[str],
    *,
    now: datetime,
    worker_id: str | None = None,
) -> int:
    """Fail, as uncertain, the claims of `kinds` that were handed to the server and whose
    outcome was never recorded: those whose lease ran out, or (`worker_id`) that worker's
    (restarted under the same id). Their Message-ID is kept (a bounce still finds them);
    they are not sent again. Returns how many."""
    holder = (
        OutboxMessage.claimed_until < now
        if worker_id is None
        else OutboxMessage.claimed_by == worker_id
    )
    result = connection.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "sending",
            holder,
            OutboxMessage.message_id.is_not(None),
            OutboxMessage.kind.in_(list(kinds)),
        )
        .values(
            status="failed",
            claimed_until=None,
            last_error=UNCERTAIN
            + "handed to the server, but the worker stopped before the reply was recorded;"
            " not sent again, so that nobody gets it twice",
        )
    )
    return result.rowcount


_MARK_ATTEMPTED = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id == bindparam("row_id"),
        OutboxMessage.status == "sending",
        OutboxMessage.claimed_by == bindparam("worker_id"),
    )
    .values(message_id=bindparam("header_id"))
)


def mark_attempted(
    connection: Connection, message_id: int, *, worker_id: str, header_id: str
) -> bool:
    """Note, before its content goes to the server, that the message is being handed over
    under `header_id` (commit before sending it). False when `worker_id` no longer holds
    the claim: then it must not be sent."""
    result = connection.execute(
        _MARK_ATTEMPTED, {"row_id": message_id, "worker_id": worker_id, "header_id": header_id}
    )
    return bool(result.rowcount)


# PostgreSQL: the sent messages and the marks in one UPDATE from arrays (`op` 's' for
# sent, 'm' for a mark), saying which rows it changed.
_RECORD_ARRAYS = text(
    "UPDATE outbox SET"
    " status = CASE WHEN v.op = 's' THEN 'sent' ELSE outbox.status END,"
    " sent_at = CASE WHEN v.op = 's' THEN v.at ELSE outbox.sent_at END,"
    " message_id = v.header_id,"
    " claimed_until = CASE WHEN v.op = 's' THEN NULL ELSE outbox.claimed_until END,"
    " last_error = CASE WHEN v.op = 's' THEN NULL ELSE outbox.last_error END"
    " FROM unnest(CAST(:ids AS integer[]), CAST(:header_ids AS varchar[]),"
    " CAST(:ats AS timestamptz[]), CAST(:ops AS varchar[])) AS v(id, header_id, at, op)"
    " WHERE outbox.id = v.id AND ("
    "(v.op = 's' AND (outbox.status = 'sending'"
    " OR (outbox.status = 'failed' AND outbox.message_id = v.header_id)))"
    " OR (v.op = 'm' AND outbox.status = 'sending' AND outbox.claimed_by = :worker_id))"
    " RETURNING outbox.id, v.op"
)


def record_outcomes(
    connection: Connection,
    accepted: Sequence[Accepted],
    marks: Sequence[tuple[int, str]],
    *,
    worker_id: str,
) -> set[int]:
    """`mark_sent(accepted)` and `mark_attempted` for each (row id, Message-ID) of
    `marks`, in one statement on PostgreSQL; returns the row ids of the marks held."""
    if not marks:
        mark_sent(connection, accepted)
        return set()
    if connection.dialect.name == "postgresql":
        changed = connection.execute(
            _RECORD_ARRAYS,
            {
                "ids": [a.row_id for a in accepted] + [row_id for row_id, _ in marks],
                "header_ids": [a.header_id for a in accepted] + [h for _, h in marks],
                "ats": [a.at for a in accepted] + [None] * len(marks),
                "ops": ["s"] * len(accepted) + ["m"] * len(marks),
                "worker_id": worker_id,
            },
        ).all()
        return {row_id for row_id, op in changed if op == "m"}
    mark_sent(connection, accepted)
    return {
        row_id
        for row_id, header_id in marks
        if mark_attempted(connection, row_id, worker_id=worker_id, header_id=header_id)
    }


def mark_uncertain(connection: Connection, message_id: int, *, worker_id: str, error: str) -> None:
    """Give up a message (of a kind sent at most once) that may have reached the server:
    the connection was lost after its content was sent, before the reply. Not sent
    again; its Message-ID kept."""
    connection.execute(
        update(OutboxMessage)
        .where(_held(message_id, worker_id))
        .values(
            status="failed",
            last_error=(UNCERTAIN + error + "; not sent again, so that nobody gets it twice")[
                :MAX_ERROR_LENGTH
            ],
            claimed_until=None,
        )
    )


class Accepted(NamedTuple):
    """A message the server accepted: its row, the Message-ID it went out with, and when."""

    row_id: int
    header_id: str
    at: datetime


# Built once: a worker runs it for every message it sends.
_MARK_SENT = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id == bindparam("row_id"),
        or_(
            OutboxMessage.status == "sending",
            and_(
                OutboxMessage.status == "failed",
                OutboxMessage.message_id == bindparam("header_id"),
            ),
        ),
    )
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
    " WHERE outbox.id = v.id AND (outbox.status = 'sending'"
    " OR (outbox.status = 'failed' AND outbox.message_id = v.header_id))"
)


def mark_sent(connection: Connection, accepted: Sequence[Accepted]) -> None:
    """Record that these messages went out, in one statement (whoever holds the claim
    now: they were sent; and one failed as uncertain meanwhile, under the same
    Message-ID, was sent after all)."""
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
            message_id=None,
        )
    )


def mark_failed(connection: Connection, message_id: int, *, worker_id: str, error: str) -> None:
    """Give the message up for good, keeping the reason."""
    connection.execute(
        update(OutboxMessage)
        .where(_held(message_id, worker_id))
        .values(
            status="failed",
            last_error=error[:MAX_ERROR_LENGTH],
            claimed_until=None,
            message_id=None,
        )
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
        "message_id": None,
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


def release_worker(
    connection: Connection,
    worker_id: str,
    *,
    now: datetime,
    at_most_once: Collection[str] = (),
) -> int:
    """Hand back every claim `worker_id` still holds (a restarted worker with a fixed id
    recovers its rows at once instead of waiting for the leases to run out). Their attempt
    stays counted: the worker may have died while sending them. Those of the
    `at_most_once` kinds it had handed to the server are failed as uncertain instead."""
    if at_most_once:
        settle_uncertain(connection, at_most_once, now=now, worker_id=worker_id)
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

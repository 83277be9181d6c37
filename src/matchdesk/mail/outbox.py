"""Writing messages to the outbox, in the caller's transaction.

A message is enqueued in the same transaction as the change that causes it (a round
published, a check-in booked), so it exists exactly when the change does: a rollback
leaves no message behind, and a commit leaves one for the worker to deliver.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from matchdesk.db import sqlite_insert_many
from matchdesk.errors import InvalidInput
from matchdesk.mail.models import OutboxMessage
from matchdesk.roster.models import utcnow

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message, e.g. `invite.ics` as `text/calendar; method=REQUEST`."""

    filename: str
    content_type: str
    content: bytes

    def as_json(self) -> dict[str, str]:
        """The form stored in `outbox.attachments` (the content base64-encoded)."""
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "content": base64.b64encode(self.content).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attachment:
        """The attachment stored as `data` by `as_json`."""
        return cls(data["filename"], data["content_type"], base64.b64decode(data["content"]))


@dataclass(frozen=True)
class NewMessage:
    """A message to enqueue; `idempotency_key` names it uniquely in the program."""

    kind: str
    recipient: str
    subject: str
    text: str
    idempotency_key: str
    html: str | None = None
    attachments: Sequence[Attachment] = field(default_factory=tuple)
    # Extra headers (a newsletter's List-Unsubscribe); one line each.
    headers: dict[str, str] | None = None
    # Not delivered before this moment (a newsletter sent at a time); None: now.
    not_before: datetime | None = None


def key_digest(idempotency_key: str) -> str:
    """The stable hash of an idempotency key: the Message-ID's left part and the `.eml`
    file's name, the same on every delivery attempt."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The stable Message-ID of the message with `idempotency_key`, `<hash@domain>`."""
    return f"<{key_digest(idempotency_key)}@{domain}>"


def enqueue(
    session: Session,
    *,
    kind: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Iterable[Attachment] = (),
    idempotency_key: str,
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction and return its row.

    Idempotent on `idempotency_key`: when a message with that key exists (in any status),
    nothing is written and the existing row is returned, even if another transaction
    enqueued it concurrently. Raises `InvalidInput` for a malformed recipient, subject or
    key (a line break in a header would let a value inject headers)."""
    message = NewMessage(
        kind=kind,
        recipient=recipient,
        subject=subject,
        text=text,
        idempotency_key=idempotency_key,
        html=html,
        attachments=tuple(attachments),
    )
    enqueue_many(session, [message])
    row = session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    ).one()
    return row


def enqueue_many(session: Session, messages: Iterable[NewMessage]) -> int:
    """Add many messages in one statement (a newsletter to a whole segment); keys already
    in the outbox are skipped. Returns how many messages were given."""
    rows = [_row(message) for message in messages]
    if not rows:
        return 0
    # The same keys in every row (one executemany): "due now" is the time of the call.
    if any("next_attempt_at" in row for row in rows):
        now = utcnow()
        for row in rows:
            row.setdefault("next_attempt_at", now)
    dialect = session.get_bind().dialect.name
    # Flush first so rows added through the ORM earlier in the transaction are in place.
    session.flush()
    if len(rows) >= COPY_FROM:
        if dialect == "postgresql":
            _copy_in(session, rows)
        else:
            _sqlite_in(session, rows)
        return len(rows)
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
    session.execute(statement, rows)
    return len(rows)


# From this many messages on, PostgreSQL gets them by COPY (one stream) rather than one
# INSERT each; fewer are not worth the temporary table.
COPY_FROM = 50
_COPIED = (
    "kind",
    "recipient",
    "subject",
    "body_text",
    "body_html",
    "attachments",
    "headers",
    "idempotency_key",
    "next_attempt_at",
)


def _copy_in(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` on PostgreSQL by COPY into a temporary table of this transaction,
    then one INSERT ... SELECT that skips the keys already in the outbox (the unique
    key decides, as for one row: a concurrent enqueue of the same key waits, then one of
    the two is kept), in the given order."""
    now = utcnow()
    columns = ", ".join(_COPIED)
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS outbox_incoming (seq integer, kind text,"
            " recipient text, subject text, body_text text, body_html text, attachments json,"
            " headers json, idempotency_key text, next_attempt_at timestamptz)"
            " ON COMMIT DROP"
        )
        with cursor.copy(f"COPY outbox_incoming (seq, {columns}) FROM STDIN") as copy:
            for seq, row in enumerate(rows):
                copy.write_row(
                    (
                        seq,
                        row["kind"],
                        row["recipient"],
                        row["subject"],
                        row["body_text"],
                        row["body_html"],
                        json.dumps(row["attachments"]),
                        None if row["headers"] is None else json.dumps(row["headers"]),
                        row["idempotency_key"],
                        row.get("next_attempt_at", now),
                    )
                )
        cursor.execute(
            f"INSERT INTO outbox ({columns}, status, attempts, created_at)"
            f" SELECT {columns}, 'queued', 0, %s FROM outbox_incoming ORDER BY seq"
            " ON CONFLICT (idempotency_key) DO NOTHING",
            (now,),
        )
        cursor.execute("TRUNCATE outbox_incoming")


def _sqlite_in(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` on SQLite with the driver's own executemany of one prepared
    INSERT ... ON CONFLICT (idempotency_key) DO NOTHING, in the given order: the values
    converted by the columns' own types (the JSON columns as SQLAlchemy writes them, the
    times in its text form), so the rows are those the ORM's bulk path wrote, which cost
    more per row (its per-row parameter processing) than SQLite's insert itself."""
    now = utcnow()
    sqlite_insert_many(
        session,
        OutboxMessage.__table__,  # type: ignore[arg-type]
        [*_COPIED, "status", "attempts", "created_at"],
        (
            [
                *(row[name] for name in _COPIED[:-1]),
                row.get("next_attempt_at", now),
                "queued",
                0,
                now,
            ]
            for row in rows
        ),
        "ON CONFLICT (idempotency_key) DO NOTHING",
    )


def _row(message: NewMessage) -> dict[str, Any]:
    problems = []
    if not 0 < len(message.idempotency_key) <= MAX_KEY_LENGTH:
        problems.append(f"idempotency_key: must be 1 to {MAX_KEY_LENGTH} characters")
    if "@" not in message.recipient or _has_line_break(message.recipient):
        problems.append(f"recipient: {message.recipient!r} is not an e-mail address")
    if _has_line_break(message.subject):
        problems.append("subject: must be one line")
    for attachment in message.attachments:
        if "/" not in attachment.content_type or _has_line_break(attachment.filename):
            problems.append(f"attachment {attachment.filename!r}: invalid name or type")
    for name, value in (message.headers or {}).items():
        if not name.replace("-", "").isalnum() or _has_line_break(value):
            problems.append(f"header {name!r}: invalid name or a line break in its value")
    if problems:
        raise InvalidInput("the message cannot be sent", problems)
    row: dict[str, Any] = {
        "kind": message.kind,
        "recipient": message.recipient.strip(),
        "subject": message.subject,
        "body_text": message.text,
        "body_html": message.html,
        "attachments": [a.as_json() for a in message.attachments],
        "idempotency_key": message.idempotency_key,
        "headers": message.headers,
    }
    if message.not_before is not None:
        row["next_attempt_at"] = message.not_before
    return row


def withdraw(session: Session, keys: Sequence[str]) -> set[str]:
    """Take back the messages with `keys` that no worker has claimed yet (still
    `queued`): they are deleted and their keys returned. A message being sent or already
    sent stays as it is; enqueueing a withdrawn key again makes it a new message with
    the same Message-ID. In the caller's transaction."""
    withdrawn: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        statement = (
            delete(OutboxMessage)
            .where(OutboxMessage.idempotency_key.in_(chunk), OutboxMessage.status == "queued")
            .returning(OutboxMessage.idempotency_key)
        )
        withdrawn.update(
            session.scalars(statement, execution_options={"synchronize_session": False})
        )
    return withdrawn


def _has_line_break(value: str) -> bool:
    return "\r" in value or "\n" in value

"""Enqueueing messages in the caller's transaction (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import (
    Attachment,
    NewMessage,
    enqueue,
    enqueue_many,
    key_digest,
    message_id_for,
)

ICS = Attachment("match.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n")


def count(md: Matchdesk) -> int:
    with md.transaction() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_enqueue_writes_a_queued_row(md: Matchdesk) -> None:
    with md.transaction() as session:
        row = enqueue(
            session,
            kind="match_published",
            recipient="luna@example.com",
            subject="Your match",
            text="Hello",
            html="<p>Hello</p>",
            attachments=[ICS],
            idempotency_key="match:1:luna",
        )
        row_id = row.id
    with md.transaction() as session:
        stored = session.get_one(OutboxMessage, row_id)
        assert (stored.kind, stored.recipient, stored.subject) == (
            "match_published",
            "luna@example.com",
            "Your match",
        )
        assert (stored.body_text, stored.body_html) == ("Hello", "<p>Hello</p>")
        assert stored.attachments == [
            {
                "filename": "match.ics",
                "content_type": "text/calendar; method=REQUEST",
                "content": "QkVHSU46VkNBTEVOREFSDQo=",
            }
        ]
        assert (stored.status, stored.attempts, stored.message_id) == ("queued", 0, None)
        assert Attachment.from_json(stored.attachments[0]) == ICS


def test_enqueue_is_idempotent_on_the_key(md: Matchdesk) -> None:
    with md.transaction() as session:
        first = enqueue(
            session, kind="k", recipient="a@x.org", subject="one", text="1", idempotency_key="k1"
        )
        again = enqueue(
            session, kind="k", recipient="b@x.org", subject="two", text="2", idempotency_key="k1"
        )
        assert again.id == first.id
    with md.transaction() as session:
        later = enqueue(
            session, kind="k", recipient="c@x.org", subject="three", text="3", idempotency_key="k1"
        )
        assert (later.id, later.subject, later.recipient) == (first.id, "one", "a@x.org")
    assert count(md) == 1


def test_a_rolled_back_enqueue_leaves_no_message(md: Matchdesk) -> None:
    def change_that_fails() -> None:
        with md.transaction() as session:
            enqueue(
                session, kind="k", recipient="a@x.org", subject="s", text="t", idempotency_key="r"
            )
            raise RuntimeError("the change that caused the message failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert count(md) == 0


def test_enqueue_many_skips_keys_already_there(md: Matchdesk) -> None:
    with md.transaction() as session:
        enqueue(session, kind="k", recipient="a@x.org", subject="s", text="t", idempotency_key="n1")
        given = enqueue_many(
            session,
            [
                NewMessage("k", f"c{i}@x.org", "s", "t", idempotency_key=f"n{i}")
                for i in range(1, 4)
            ],
        )
    assert (given, count(md)) == (3, 3)


def test_enqueue_refuses_what_would_break_the_headers(md: Matchdesk) -> None:
    with pytest.raises(InvalidInput) as caught, md.transaction() as session:
        enqueue(
            session,
            kind="k",
            recipient="nobody",
            subject="Hi\r\nBcc: evil@x.org",
            text="t",
            idempotency_key="",
        )
    assert caught.value.details == [
        "idempotency_key: must be 1 to 200 characters",
        "recipient: 'nobody' is not an e-mail address",
        "subject: must be one line",
    ]
    assert count(md) == 0


def test_the_message_id_is_derived_from_the_key() -> None:
    digest = hashlib.sha256(b"match:1:luna").hexdigest()[:32]
    assert key_digest("match:1:luna") == digest
    assert message_id_for("match:1:luna", "example.org") == f"<{digest}@example.org>"

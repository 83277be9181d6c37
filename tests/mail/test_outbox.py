"""Enqueueing messages in the caller's transaction (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import (
    COPY_FROM,
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


def test_a_large_enqueue_many_stores_every_field_once_per_key(
    md: Matchdesk, hold_clock: Callable[[datetime], datetime]
) -> None:
    # Past COPY_FROM: PostgreSQL takes the rows by COPY; each backend must store the same.
    # The program's clock held: a row without a time is due at the moment of enqueueing
    # (on the real clock "before `later`" held only until 2030-01-08 09:30 UTC).
    now = hold_clock(datetime(2030, 1, 7, 12, 0, tzinfo=UTC))
    later = datetime(2030, 1, 8, 9, 30, tzinfo=UTC)
    messages = [
        NewMessage(
            "newsletter",
            f"c{i}@x.org",
            f"Hello {i}, Zoë",
            f"Text {i}\nwith a tab\tand a backslash \\ and 'quotes'",
            idempotency_key=f"big:{i}",
            html=f"<p>Hello {i}</p>" if i % 2 else None,
            attachments=(ICS,) if i == 7 else (),
            headers={"List-Unsubscribe": f"<https://x.org/u/{i}>"} if i % 3 else None,
            not_before=later if i % 5 == 0 else None,
        )
        for i in range(COPY_FROM + 30)
    ]
    with md.transaction() as session:
        enqueue(session, kind="k", recipient="a@x.org", subject="first", text="t",
                idempotency_key="big:3")  # fmt: skip
        # A key twice in the same call: the first is kept.
        given = enqueue_many(session, [*messages, NewMessage("k", "z@x.org", "dup", "t", "big:4")])
    assert given == COPY_FROM + 31
    with md.transaction() as session:
        rows = {r.idempotency_key: r for r in session.scalars(select(OutboxMessage))}
        assert len(rows) == COPY_FROM + 30
        assert rows["big:3"].subject == "first"
        assert rows["big:4"].recipient == "c4@x.org"
        ordered = session.scalars(
            select(OutboxMessage.idempotency_key).order_by(OutboxMessage.id)
        ).all()
        assert ordered == ["big:3"] + [f"big:{i}" for i in range(COPY_FROM + 30) if i != 3]
        for i, message in enumerate(messages):
            if i == 3:
                continue
            row = rows[message.idempotency_key]
            assert (row.kind, row.recipient, row.subject, row.body_text, row.body_html) == (
                message.kind,
                message.recipient,
                message.subject,
                message.text,
                message.html,
            )
            assert row.attachments == [a.as_json() for a in message.attachments]
            assert row.headers == message.headers
            assert (row.status, row.attempts, row.message_id, row.claimed_by) == (
                "queued",
                0,
                None,
                None,
            )
            due = (
                row.next_attempt_at.replace(tzinfo=UTC)
                if row.next_attempt_at.tzinfo is None
                else row.next_attempt_at
            )
            assert due == (later if message.not_before is not None else now)


def test_a_rolled_back_large_enqueue_many_leaves_no_message(md: Matchdesk) -> None:
    def change_that_fails() -> None:
        with md.transaction() as session:
            enqueue_many(
                session,
                [NewMessage("k", f"c{i}@x.org", "s", "t", f"r{i}") for i in range(COPY_FROM)],
            )
            raise RuntimeError("the change that caused the messages failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert count(md) == 0
    # Twice in one transaction (the temporary table is there from the first time).
    with md.transaction() as session:
        enqueue_many(
            session, [NewMessage("k", f"c{i}@x.org", "s", "t", f"a{i}") for i in range(COPY_FROM)]
        )
        enqueue_many(
            session, [NewMessage("k", f"c{i}@x.org", "s", "t", f"b{i}") for i in range(COPY_FROM)]
        )
    assert count(md) == 2 * COPY_FROM

"""Publishing writes its messages through the outbox's bulk path (COPY on PostgreSQL, the
driver's executemany on SQLite): the rows it stores are exactly those the one-message
path (the ORM's insert, one message per call) stores for the same messages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select, text

from matchdesk.context import Matchdesk
from matchdesk.mail import outbox
from matchdesk.mail.models import OutboxMessage
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.service import save_records
from matchdesk.rounds import invitations
from matchdesk.rounds.lifecycle import publish
from tests.rounds.conftest import MANAGER, build

# Every stored column but the id and the two times of the call.
STORED = (
    "kind, recipient, subject, body_text, body_html, CAST(attachments AS TEXT),"
    " idempotency_key, message_id, status, attempts, claimed_by, claimed_until, sent_at,"
    " last_error"
)


def stored(md: Matchdesk) -> list[tuple[Any, ...]]:
    """The outbox's rows as stored (the JSON attachments as their text), by id, with the
    headers as the application reads them."""
    with md.transaction() as session:
        rows = session.execute(text(f"SELECT {STORED} FROM outbox ORDER BY id")).all()
        headers = session.scalars(select(OutboxMessage.headers).order_by(OutboxMessage.id)).all()
    return [(*row, header) for row, header in zip(rows, headers, strict=True)]


def test_publish_stores_the_rows_the_one_message_path_stores(
    md: Matchdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(400, seed=11))
    round_id = build(md)
    given: list[list[outbox.NewMessage]] = []

    def recording(session: Any, messages: list[outbox.NewMessage]) -> int:
        given.append(list(messages))
        return outbox.enqueue_many(session, messages)

    monkeypatch.setattr(invitations, "enqueue_many", recording)
    with md.transaction() as session:
        queued = publish(session, md.settings, md.program, round_id, MANAGER)
    [messages] = given
    assert queued == len(messages) >= outbox.COPY_FROM  # the bulk path was taken
    assert {m.attachments[0].filename for m in messages} == {"invite.ics"}
    # English and translated messages alike.
    assert any(m.text.isascii() for m in messages)
    assert not all(m.text.isascii() for m in messages)
    bulk = stored(md)
    assert [row[6] for row in bulk] == [m.idempotency_key for m in messages]

    with md.transaction() as session:
        session.execute(delete(OutboxMessage))
    with md.transaction() as session:
        for message in messages:  # one at a time: below COPY_FROM, the ORM's insert
            assert outbox.enqueue_many(session, [message]) == 1
    one_by_one = stored(md)
    assert bulk == one_by_one
    assert {row[8:10] for row in bulk} == {("queued", 0)}

"""Pipelined delivery (RFC 2920): each message's envelope goes out behind the content of
the one before, and every message still gets its own outcome, on a real SMTP server on
loopback (aiosmtpd offering PIPELINING, or not), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event, select

from matchdesk.context import Matchdesk
from matchdesk.mail import transports
from matchdesk.mail.delivery import BatchReport, Courier, DeliverySettings
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import NewMessage, enqueue_many
from tests.mail.conftest import Clock, Recorder, free_port


@dataclass
class Picky(Recorder):
    """Refuses the recipient gone@, answers 451 to the message for busy@ and 554 to the
    one for spam@, and accepts the rest."""

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("gone@"):
            return "550 5.1.1 No such user"
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if envelope.rcpt_tos[0].startswith("busy@"):
            return "451 4.3.0 Busy"
        if envelope.rcpt_tos[0].startswith("spam@"):
            return "554 5.7.1 Rejected"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(params=[True, False], ids=["pipelining", "plain"])
def picky(request: pytest.FixtureRequest) -> Iterator[tuple[Picky, int]]:
    recorder, port = Picky(pipelining=request.param), free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield recorder, port
    controller.stop()


RECIPIENTS = [
    "a@example.com",
    "gone@example.com",
    "b.dot@example.com",
    "busy@example.com",
    "spam@example.com",
    "c@example.com",
    "gone@example.org",
    "d@example.com",
]


def test_every_message_of_a_pipelined_batch_has_its_own_outcome(
    md: Matchdesk, picky: tuple[Picky, int], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder, port = picky
    with md.transaction() as session:
        enqueue_many(
            session,
            [
                NewMessage("k", to, f"Hello {i}", f"Line one\n.starts with a dot\n{i}\n", f"k{i}")
                for i, to in enumerate(RECIPIENTS)
            ],
        )
    writes: list[bytes] = []
    write = transports.SmtpTransport._write

    def counted(self: transports.SmtpTransport, data: bytes) -> None:
        writes.append(data)
        write(self, data)

    monkeypatch.setattr(transports.SmtpTransport, "_write", counted)
    settings = DeliverySettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="noreply@example.org",
        mail_rate=0,
    )
    report = Courier(md, settings, "w1", clock=clock).deliver_batch()

    assert report == BatchReport(claimed=8, sent=4, retried=1, failed=3)
    with md.transaction() as session:
        outcome = {
            r.recipient: (r.status, r.last_error)
            for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        }
    assert outcome == {
        "a@example.com": ("sent", None),
        "gone@example.com": ("failed", "recipient refused: 550 5.1.1 No such user"),
        "b.dot@example.com": ("sent", None),
        "busy@example.com": ("queued", "refused: 451 4.3.0 Busy"),
        "spam@example.com": ("failed", "refused: 554 5.7.1 Rejected"),
        "c@example.com": ("sent", None),
        "gone@example.org": ("failed", "recipient refused: 550 5.1.1 No such user"),
        "d@example.com": ("sent", None),
    }
    received = recorder.received
    assert [r.rcpt_tos for r in received] == [
        ["a@example.com"],
        ["b.dot@example.com"],
        ["c@example.com"],
        ["d@example.com"],
    ]
    assert len({r.session for r in received}) == 1
    # The dot that starts a line arrives as it was sent (stuffed on the way, unstuffed).
    assert all(r.email.get_content() == f"Line one\r\n.starts with a dot\r\n{i}\r\n"
               for r, i in zip(received, (0, 2, 5, 7), strict=True))  # fmt: skip
    if recorder.pipelining:
        # One write for the first envelope, then one for each message accepted by its
        # envelope (its content and the next envelope); each refused envelope is
        # followed by a write of the next envelope alone.
        assert len(writes) == 1 + 6 + 2
        assert writes[1].endswith(b"\r\n.\r\nMAIL FROM:<noreply@example.org>\r\n"
                                  b"RCPT TO:<gone@example.com>\r\nDATA\r\n")  # fmt: skip
    else:
        assert writes == []


def test_a_batch_over_several_connections_arrives_once_each(
    md: Matchdesk, picky: tuple[Picky, int], clock: Clock
) -> None:
    recorder, port = picky
    with md.transaction() as session:
        enqueue_many(
            session,
            [NewMessage("k", f"c{i}@example.com", f"Hello {i}", "Hi", f"k{i}") for i in range(10)]
            + [NewMessage("k", "gone@example.com", "Hello", "Hi", "gone")],
        )
    settings = DeliverySettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="noreply@example.org",
        mail_rate=0,
        mail_connections=3,
        mail_batch_size=6,
    )
    courier = Courier(md, settings, "w1", clock=clock)
    try:
        first = courier.deliver_batch()
        rest = courier.deliver_due()
    finally:
        courier.close()
    assert first == BatchReport(claimed=6, sent=6)
    assert rest == BatchReport(claimed=5, sent=4, failed=1)
    received = sorted(r.rcpt_tos[0] for r in recorder.received)
    assert received == sorted(f"c{i}@example.com" for i in range(10))
    # Three connections for the first batch of six, two each; three for the next five.
    assert len({r.session for r in recorder.received[:6]}) == 3
    with md.transaction() as session:
        statuses = sorted(session.scalars(select(OutboxMessage.status)))
    assert statuses == ["failed"] + ["sent"] * 10


def test_a_batch_over_several_connections_records_its_sent_messages_in_one_book(
    md: Matchdesk, picky: tuple[Picky, int], clock: Clock
) -> None:
    """The batch's SMTP connections share one database connection and one count of
    accepted messages: a commit for every `mail_commit_every` of the batch (not of each
    connection's share)."""
    recorder, port = picky
    with md.transaction() as session:
        enqueue_many(
            session,
            [NewMessage("k", f"c{i}@example.com", f"Hello {i}", "Hi", f"k{i}") for i in range(9)],
        )
    settings = DeliverySettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="noreply@example.org",
        mail_rate=0,
        mail_connections=3,
        mail_batch_size=9,
        mail_commit_every=2,
    )
    recorded: list[tuple[int, int]] = []

    def note(
        connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if statement.lstrip().lower().startswith("update outbox") and "sent_at" in statement:
            # PostgreSQL: one statement over arrays; SQLite: one row a parameter set.
            if isinstance(parameters, dict):
                rows = len(parameters["ids"])
            else:
                rows = len(parameters) if many else 1
            recorded.append((id(connection.connection.dbapi_connection), rows))

    event.listen(md.engine, "before_cursor_execute", note)
    courier = Courier(md, settings, "w1", clock=clock)
    try:
        report = courier.deliver_batch()
    finally:
        courier.close()
        event.remove(md.engine, "before_cursor_execute", note)
    assert report == BatchReport(claimed=9, sent=9)
    # 9 accepted, 2 a commit, the last one at the end of the batch: 5 statements (a
    # book per connection made 6: 2 + 1 for each share of 3), over one connection.
    assert [rows for _, rows in recorded] == [2, 2, 2, 2, 1]
    assert len({connection for connection, _ in recorded}) == 1
    assert len({r.session for r in recorder.received}) == 3
    assert sorted(r.rcpt_tos[0] for r in recorder.received) == [
        f"c{i}@example.com" for i in range(9)
    ]
    with md.transaction() as session:
        assert sorted(session.scalars(select(OutboxMessage.status))) == ["sent"] * 9

"""Kinds sent at most once (the worker's newsletters): a message whose outcome is unknown
(the connection lost between its content and the server's reply, or the worker gone
after marking it handed over) is failed as uncertain and never sent again, while a
transactional message in the same place is tried again (better twice than never). On a
real SMTP server on loopback, with and without PIPELINING, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.mail import claims
from matchdesk.mail.delivery import BatchReport, Courier, DeliverySettings
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import NewMessage, enqueue_many, message_id_for
from tests.mail.conftest import Clock, Recorder, free_port

ONCE = frozenset({"newsletter"})


@dataclass
class Dropping(Recorder):
    """Takes the message for each address of `drop` the first time, then closes the
    connection instead of replying (the message is the server's: it counts as received)."""

    drop: set[str] = field(default_factory=set)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        reply = await super().handle_DATA(server, session, envelope)
        if envelope.rcpt_tos[0] in self.drop:
            self.drop.discard(envelope.rcpt_tos[0])
            server.transport.close()
        return reply


@pytest.fixture(params=[True, False], ids=["pipelining", "plain"])
def dropping(request: pytest.FixtureRequest) -> Iterator[tuple[Dropping, int]]:
    recorder, port = Dropping(pipelining=request.param), free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield recorder, port
    controller.stop()


def settings_for(port: int) -> DeliverySettings:
    return DeliverySettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="noreply@example.org",
        mail_rate=0,
        mail_retry_seconds=60,
        mail_claim_seconds=300,
    )


def rows(md: Matchdesk) -> dict[str, tuple[str, str | None, str | None]]:
    with md.transaction() as session:
        return {
            r.recipient: (r.status, r.message_id, r.last_error)
            for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        }


def test_a_lost_reply_is_uncertain_for_a_newsletter_and_retried_for_transactional_mail(
    md: Matchdesk, dropping: tuple[Dropping, int], clock: Clock
) -> None:
    recorder, port = dropping
    recorder.drop = {"drop@x.org", "invite@x.org"}
    with md.transaction() as session:
        enqueue_many(
            session,
            [
                NewMessage("newsletter", "a@x.org", "s", "a", "newsletter:1:1"),
                NewMessage("newsletter", "drop@x.org", "s", "b", "newsletter:1:2"),
                NewMessage("newsletter", "c@x.org", "s", "c", "newsletter:1:3"),
                NewMessage("invitation", "invite@x.org", "s", "d", "match:1:invite"),
            ],
        )
    courier = Courier(md, settings_for(port), "w1", clock=clock, at_most_once=ONCE)
    # The connection is lost after drop@'s content: the rest of the batch waits.
    assert courier.deliver_batch() == BatchReport(claimed=4, sent=1, uncertain=1, released=2)
    dropped = message_id_for("newsletter:1:2", "example.org")
    state = rows(md)
    assert state["a@x.org"][:2] == ("sent", message_id_for("newsletter:1:1", "example.org"))
    status, message_id, error = state["drop@x.org"]
    assert (status, message_id) == ("failed", dropped)  # its Message-ID kept (for bounces)
    assert error is not None
    assert error.startswith(claims.UNCERTAIN + "connection lost")
    assert error.endswith("not sent again, so that nobody gets it twice")
    assert state["c@x.org"][0] == state["invite@x.org"][0] == "queued"

    clock.advance(hours=1)
    # The invitation's reply is lost too: it is tried again, and arrives twice.
    assert courier.deliver_batch() == BatchReport(claimed=2, sent=1, retried=1)
    clock.advance(hours=1)
    assert courier.deliver_batch() == BatchReport(claimed=1, sent=1)
    clock.advance(hours=10)
    assert courier.deliver_batch() == BatchReport()
    courier.close()

    state = rows(md)
    assert {to: s for to, (s, _, _) in state.items()} == {
        "a@x.org": "sent",
        "drop@x.org": "failed",
        "c@x.org": "sent",
        "invite@x.org": "sent",
    }
    assert Counter(r.rcpt_tos[0] for r in recorder.received) == {
        "a@x.org": 1,
        "drop@x.org": 1,
        "c@x.org": 1,
        "invite@x.org": 2,
    }


class Killed(BaseException):
    """Stands for the worker's death at the fault-injection point."""


@pytest.mark.parametrize("recovery", ["lease-expired", "restarted-same-id"])
def test_a_worker_gone_after_marking_a_newsletter_never_sends_it(
    md: Matchdesk, dropping: tuple[Dropping, int], clock: Clock, recovery: str
) -> None:
    recorder, port = dropping
    with md.transaction() as session:
        enqueue_many(
            session,
            [
                NewMessage("newsletter", f"n{i}@x.org", "s", "b", f"newsletter:1:{i}")
                for i in range(4)
            ]
            + [NewMessage("invitation", "invite@x.org", "s", "d", "match:1:invite")],
        )
    marked: list[int] = []

    def die_at_the_third(row_id: int) -> None:
        marked.append(row_id)
        if len(marked) == 3:
            raise Killed

    settings = settings_for(port)
    courier = Courier(
        md, settings, "w1", clock=clock, at_most_once=ONCE, before_content=die_at_the_third
    )
    with pytest.raises(Killed):
        courier.deliver_batch()
    courier.close()
    state = rows(md)
    third = message_id_for("newsletter:1:2", "example.org")
    assert state["n2@x.org"][:2] == ("sending", third)  # marked, its content never sent
    assert [r.rcpt_tos[0] for r in recorder.received] == ["n0@x.org", "n1@x.org"]

    if recovery == "lease-expired":
        clock.advance(seconds=settings.mail_claim_seconds + 1)
        successor = Courier(md, settings, "w2", clock=clock, at_most_once=ONCE)
    else:
        with md.engine.begin() as connection:
            claims.release_worker(connection, "w1", now=clock(), at_most_once=ONCE)
        successor = Courier(md, settings, "w1", clock=clock, at_most_once=ONCE)
    successor.deliver_due()
    successor.close()

    state = rows(md)
    assert {to: s for to, (s, _, _) in state.items()} == {
        "n0@x.org": "sent",
        "n1@x.org": "sent",
        "n2@x.org": "failed",
        "n3@x.org": "sent",
        "invite@x.org": "sent",
    }
    _, message_id, error = state["n2@x.org"]
    assert message_id == third
    assert error == (
        claims.UNCERTAIN + "handed to the server, but the worker stopped before the reply was"
        " recorded; not sent again, so that nobody gets it twice"
    )
    assert Counter(r.rcpt_tos[0] for r in recorder.received) == {
        "n0@x.org": 1,
        "n1@x.org": 1,
        "n3@x.org": 1,
        "invite@x.org": 1,
    }

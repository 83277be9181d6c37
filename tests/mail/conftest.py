"""A real SMTP server on loopback (aiosmtpd) that records what it receives, and a clock
the tests move by hand."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller

import matchdesk.clock
from matchdesk.mail.delivery import DeliverySettings

# The moment a test's clock starts at; the `clock` fixture holds the program's own clock
# there too, so rows enqueued during a test are due at T0 whatever the real date (T0 was
# "later than any real now", and from 2030-01-07 12:00 UTC rows enqueued on the real clock
# were not due yet: every delivery test found nothing to send).
T0 = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    session: int

    @property
    def email(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.data, policy=policy.default))


@dataclass
class Recorder:
    """An aiosmtpd handler: accepts and records every message, except that it first
    answers RCPT or DATA with the replies queued in `rcpt_replies` / `data_replies`.

    With `hold_at` set, the reply to that message (counted from 1) is held back: `held`
    is set once it is recorded, and the reply goes out only when `release` is set. A
    test uses it to stop a sender at a known point (inside a batch, waiting for the
    server), whatever the machine's speed."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold_at: int | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    # Offer PIPELINING (RFC 2920), as Postfix does: the worker then pipelines each
    # message's envelope behind the one before (aiosmtpd reads pipelined commands in
    # turn, though it does not offer the extension by itself).
    pipelining: bool = True

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.data_replies:
            return self.data_replies.pop(0)
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, id(session))
            )
            hold = len(self.received) == self.hold_at
        if hold:
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return "250 Message accepted"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(r.email["Message-ID"]) for r in self.received]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    recorder: Recorder
    port: int


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer(recorder, port)
    recorder.release.set()
    controller.stop()


@pytest.fixture
def smtp_settings(smtp_server: SmtpServer) -> DeliverySettings:
    return DeliverySettings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        mail_from="Match Desk <noreply@example.org>",
        mail_rate=0,
        mail_retry_seconds=60,
        mail_max_attempts=3,
    )


class Clock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A stopped clock at T0, the courier's and the program's (`matchdesk.clock.now`: the
    outbox's "due now", the newsletters' send times): moving it moves both."""
    stopped = Clock()
    monkeypatch.setattr(matchdesk.clock, "now", stopped)
    return stopped


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC; PostgreSQL aware."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)

"""Delivery to a real SMTP server on loopback (aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import func, select

from matchdesk.context import Matchdesk
from matchdesk.mail.delivery import BatchReport, Courier, DeliverySettings
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import Attachment, enqueue, message_id_for
from matchdesk.mail.transports import PermanentFailure, TemporaryFailure, Transport
from tests.mail.conftest import Clock, SmtpServer, aware, free_port

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def add(md: Matchdesk, key: str, recipient: str = "luna@example.com", **kw: object) -> int:
    with md.transaction() as session:
        return enqueue(
            session,
            kind="match_published",
            recipient=recipient,
            subject=f"Your match {key}",
            text=f"Hello {key}",
            idempotency_key=key,
            **kw,  # type: ignore[arg-type]
        ).id


def row(md: Matchdesk, row_id: int) -> OutboxMessage:
    with md.transaction() as session:
        return session.get_one(OutboxMessage, row_id, populate_existing=True)


def courier(md: Matchdesk, settings: DeliverySettings, clock: Clock, **kw: object) -> Courier:
    return Courier(md, settings, "w1", clock=clock, **kw)  # type: ignore[arg-type]


def test_a_message_arrives_exactly_as_enqueued(
    md: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    row_id = add(
        md,
        "match:7:luna",
        html="<p>Hello</p>",
        attachments=[Attachment("match.ics", "text/calendar; method=REQUEST", ICS)],
    )
    report = courier(md, smtp_settings, clock).deliver_due()

    assert report == BatchReport(claimed=1, sent=1)
    [received] = smtp_server.recorder.received
    assert (received.mail_from, received.rcpt_tos) == ("noreply@example.org", ["luna@example.com"])
    email = received.email
    expected_id = message_id_for("match:7:luna", "example.org")
    assert expected_id.endswith("@example.org>")
    assert email["Message-ID"] == expected_id
    assert email["From"] == "Match Desk <noreply@example.org>"
    assert email["To"] == "luna@example.com"
    assert email["Subject"] == "Your match match:7:luna"
    text_part = email.get_body(("plain",))
    html_part = email.get_body(("html",))
    assert text_part is not None
    assert html_part is not None
    assert text_part.get_content() == "Hello match:7:luna\r\n"  # CRLF: as on the wire
    assert html_part.get_content() == "<p>Hello</p>\r\n"
    [attachment] = list(email.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "match.ics"
    assert attachment.get_payload(decode=True) == ICS

    sent = row(md, row_id)
    assert (sent.status, sent.attempts, sent.message_id, sent.last_error) == (
        "sent",
        1,
        expected_id,
        None,
    )
    assert aware(sent.sent_at) == clock.now

    again = courier(md, smtp_settings, clock).deliver_due()
    assert again == BatchReport()
    assert len(smtp_server.recorder.received) == 1


def test_a_batch_goes_over_one_connection(
    md: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    for i in range(3):
        add(md, f"k{i}", recipient=f"c{i}@example.com")
    assert courier(md, smtp_settings, clock).deliver_batch() == BatchReport(claimed=3, sent=3)
    received = smtp_server.recorder.received
    assert [r.rcpt_tos for r in received] == [[f"c{i}@example.com"] for i in range(3)]
    assert len({r.session for r in received}) == 1


def test_a_temporary_failure_is_retried_later_then_delivered(
    md: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    row_id = add(md, "k")
    smtp_server.recorder.data_replies.append("451 4.3.0 Try again later")

    assert courier(md, smtp_settings, clock).deliver_due() == BatchReport(claimed=1, retried=1)
    waiting = row(md, row_id)
    assert (waiting.status, waiting.attempts, waiting.last_error, waiting.claimed_by) == (
        "queued",
        1,
        "refused: 451 4.3.0 Try again later",
        None,
    )
    retry_at = aware(waiting.next_attempt_at)
    assert retry_at is not None
    # 60 s for the first retry, plus up to 25% jitter.
    assert clock.now + timedelta(seconds=60) <= retry_at <= clock.now + timedelta(seconds=75)

    clock.advance(seconds=59)
    assert courier(md, smtp_settings, clock).deliver_due() == BatchReport()

    clock.advance(seconds=17)
    assert courier(md, smtp_settings, clock).deliver_due() == BatchReport(claimed=1, sent=1)
    delivered = row(md, row_id)
    assert (delivered.status, delivered.attempts, delivered.last_error) == ("sent", 2, None)
    assert len(smtp_server.recorder.received) == 1


def test_a_permanent_refusal_fails_the_message(
    md: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    row_id = add(md, "k", recipient="gone@example.com")
    smtp_server.recorder.rcpt_replies.append("550 5.1.1 No such user")

    assert courier(md, smtp_settings, clock).deliver_due() == BatchReport(claimed=1, failed=1)
    failed = row(md, row_id)
    assert (failed.status, failed.attempts, failed.last_error, failed.sent_at) == (
        "failed",
        1,
        "recipient refused: 550 5.1.1 No such user",
        None,
    )
    clock.advance(days=1)
    assert courier(md, smtp_settings, clock).deliver_due() == BatchReport()
    assert smtp_server.recorder.received == []


def test_too_many_temporary_failures_fail_the_message(
    md: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    row_id = add(md, "k")
    smtp_server.recorder.data_replies.extend(["451 4.3.0 Busy"] * 3)
    reports = []
    for _ in range(3):
        reports.append(courier(md, smtp_settings, clock).deliver_due())
        clock.advance(hours=1)
    assert reports == [
        BatchReport(claimed=1, retried=1),
        BatchReport(claimed=1, retried=1),
        BatchReport(claimed=1, failed=1),
    ]
    failed = row(md, row_id)
    assert (failed.status, failed.attempts, failed.last_error) == (
        "failed",
        3,
        "gave up after 3 attempts: refused: 451 4.3.0 Busy",
    )
    assert smtp_server.recorder.received == []


def test_an_unreachable_server_costs_one_attempt_and_the_batch_waits(
    md: Matchdesk, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    ids = [add(md, f"k{i}") for i in range(3)]
    settings = smtp_settings.model_copy(update={"smtp_port": free_port()})

    report = courier(md, settings, clock).deliver_batch()

    assert report == BatchReport(claimed=3, retried=1, released=2)
    rows = [row(md, i) for i in ids]
    assert [(r.status, r.attempts) for r in rows] == [("queued", 1), ("queued", 0), ("queued", 0)]
    for r in rows:
        assert r.last_error is not None
        assert r.last_error.startswith(f"cannot connect to 127.0.0.1:{settings.smtp_port}: ")
        next_at = aware(r.next_attempt_at)
        assert next_at is not None
        assert next_at >= clock.now + timedelta(seconds=60)


def test_a_stopping_worker_hands_its_batch_back_untried(
    md: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    ids = [add(md, f"k{i}") for i in range(2)]
    stop = threading.Event()
    stop.set()
    report = courier(md, smtp_settings, clock, stop=stop).deliver_batch()
    assert report == BatchReport(claimed=2, released=2)
    rows = [row(md, i) for i in ids]
    assert [(r.status, r.attempts, r.claimed_by) for r in rows] == [("queued", 0, None)] * 2
    assert [aware(r.next_attempt_at) for r in rows] == [clock.now] * 2
    assert smtp_server.recorder.received == []


class Probe:
    """A transport that accepts every message (or fails those in `failures`, by index)
    and notes, at each one, how many rows the database already records as sent; it
    moves the clock on by `step` per message."""

    def __init__(
        self,
        md: Matchdesk,
        clock: Clock,
        step: timedelta = timedelta(),
        failures: dict[int, Exception] | None = None,
    ) -> None:
        self.md, self.clock, self.step = md, clock, step
        self.failures = failures or {}
        self.recorded: list[int] = []

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def send(self, email: EmailMessage, sender: str, recipient: str, name: str) -> None:
        with self.md.transaction() as session:
            sent = session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
        self.recorded.append(sent or 0)
        self.clock.advance(seconds=self.step.total_seconds())
        failure = self.failures.get(len(self.recorded) - 1)
        if failure is not None:
            raise failure


def probe_settings(probe: Probe, commit_every: int) -> DeliverySettings:
    class Probed(DeliverySettings):
        def transport(self) -> Transport:
            return probe

    return Probed(smtp_host="", mail_rate=0, mail_commit_every=commit_every)


def test_accepted_messages_are_recorded_every_commit_every(md: Matchdesk, clock: Clock) -> None:
    ids = [add(md, f"k{i}") for i in range(8)]
    probe = Probe(md, clock)
    report = courier(md, probe_settings(probe, 3), clock).deliver_batch()

    assert report == BatchReport(claimed=8, sent=8)
    # Never more than 3 accepted messages unrecorded; the last 2 at the end of the batch.
    assert probe.recorded == [0, 0, 0, 3, 3, 3, 6, 6]
    assert [(row(md, i).status, aware(row(md, i).sent_at)) for i in ids] == [
        ("sent", clock.now)
    ] * 8


def test_accepted_messages_wait_at_most_half_a_second_for_their_commit(
    md: Matchdesk, clock: Clock
) -> None:
    ids = [add(md, f"k{i}") for i in range(8)]
    start = clock.now
    probe = Probe(md, clock, step=timedelta(seconds=0.2))
    report = courier(md, probe_settings(probe, 100), clock).deliver_batch()

    assert report == BatchReport(claimed=8, sent=8)
    # Accepted at 0.2, 0.4, 0.6, 0.8 s: before the fifth send the first has waited 0.6 s.
    assert probe.recorded == [0, 0, 0, 0, 4, 4, 4, 4]
    assert [aware(row(md, i).sent_at) for i in ids] == [
        start + timedelta(seconds=0.2 * (n + 1)) for n in range(8)
    ]


def test_a_failure_commits_the_messages_accepted_before_it(md: Matchdesk, clock: Clock) -> None:
    ids = [add(md, f"k{i}") for i in range(5)]
    failures: dict[int, Exception] = {
        2: TemporaryFailure("refused: 451 4.3.0 Busy"),
        3: PermanentFailure("recipient refused: 550 5.1.1 No such user"),
    }
    probe = Probe(md, clock, failures=failures)
    report = courier(md, probe_settings(probe, 10), clock).deliver_batch()

    assert report == BatchReport(claimed=5, sent=3, retried=1, failed=1)
    # The retry of the third message commits the first two with it.
    assert probe.recorded == [0, 0, 0, 2, 2]
    rows = [row(md, i) for i in ids]
    assert [(r.status, r.attempts, r.last_error) for r in rows] == [
        ("sent", 1, None),
        ("sent", 1, None),
        ("queued", 1, "refused: 451 4.3.0 Busy"),
        ("failed", 1, "recipient refused: 550 5.1.1 No such user"),
        ("sent", 1, None),
    ]

"""Delivering the outbox: claim a batch, send it over one connection or several, record
each result.

The messages the server accepts are marked `sent` together, one commit for every
`mail_commit_every` of them (10 by default; counted over all of the batch's SMTP
connections, which share one database connection; and at least every half second,
before any other change to a row of the batch, and at the end of the batch). So the only
way a message can go out twice is a crash (or a lost database connection) between the
server's "250 OK" and that commit: a killed worker's restart or successor sends again at
most `mail_commit_every` messages (plus one for each further SMTP connection, caught
between its server's reply and the record), the ones accepted since the last commit,
each with the same Message-ID as before, by which receiving systems recognise it. A
message recorded as sent never goes out again. A crash anywhere else leaves the row
`sending` until its lease runs out, and another worker delivers it: nothing is lost.

Messages of the courier's `at_most_once` kinds (newsletters) never go out twice, not even
then. Before a message's content is written to the server, its row is marked with the
Message-ID it goes out under and that mark is committed (with the accepted messages not
yet recorded: one commit a message). A worker killed, or a connection lost, after that
mark and before the server's reply is recorded leaves the message's outcome unknown: it
is failed as uncertain (`claims.UNCERTAIN`), by the next claim once its lease runs out
or by the worker itself for a lost connection, and never sent again. At most one message
per SMTP connection can be caught so (a connection hands over one message at a time),
plus those accepted since the last commit: a worker's connections that far.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from matchdesk.context import Matchdesk
from matchdesk.mail import claims
from matchdesk.mail.messages import email_bytes
from matchdesk.mail.outbox import key_digest, message_id_for
from matchdesk.mail.pacing import TokenBucket, retry_delay
from matchdesk.mail.transports import (
    EmlTransport,
    PermanentFailure,
    SmtpTransport,
    TemporaryFailure,
    Transport,
)
from matchdesk.roster.models import utcnow

log = logging.getLogger("matchdesk.delivery")

# Accepted messages are recorded at the latest this long after the first of them (when
# the server is slow, a commit costs little next to a message).
COMMIT_WITHIN = timedelta(seconds=0.5)


class DeliverySettings(BaseSettings):
    """How the worker sends e-mail, from `MATCHDESK_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="MATCHDESK_", extra="ignore")

    smtp_host: str = Field(
        default="",
        description="SMTP server for outgoing e-mail; when empty, messages are written as "
        "`.eml` files to the outbox folder instead.",
    )
    smtp_port: int = Field(
        default=0,
        ge=0,
        description="SMTP port; 0 means the usual one for the security (25, 587 or 465).",
    )
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="starttls",
        description="`starttls` upgrades a plain connection, `tls` connects over TLS "
        "(SMTPS), `none` sends in the clear (a local relay only).",
    )
    smtp_username: str = Field(default="", description="SMTP login; empty for none.")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP password.")
    smtp_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait for the SMTP server."
    )
    mail_from: str = Field(
        default="matchdesk <matchdesk@localhost>",
        description="The From address of every message; its domain ends each Message-ID.",
    )
    mail_rate: float = Field(
        default=100.0,
        ge=0,
        description="Messages a second each worker sends at most (0: no limit).",
    )
    mail_max_attempts: int = Field(
        default=8, ge=1, description="Attempts before a message is marked failed."
    )
    mail_retry_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Wait before the first retry; doubled after each failure (capped at "
        "6 hours), plus jitter.",
    )
    mail_batch_size: int = Field(
        default=50,
        ge=1,
        description="Messages a worker claims at once and sends over its connections.",
    )
    mail_commit_every: int = Field(
        default=10,
        ge=1,
        description="Sent messages recorded per database commit, for all of a worker's "
        "connections together. A worker killed before the commit makes at most this many "
        "transactional messages go out again, plus one for each further connection (each "
        "with its same Message-ID); 1 commits after every message (slower). Newsletter "
        "messages never go out twice: each is marked, and committed, before its content.",
    )
    mail_connections: int = Field(
        default=1,
        ge=1,
        le=32,
        description="SMTP connections a worker sends over at once, each with its share of "
        "the batch (a message costs a round trip to the server: several connections "
        "hide that wait).",
    )
    mail_claim_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Lease on claimed messages; a dead worker's messages are taken over after it.",
    )
    outbox_dir: Path = Field(
        default=Path("outbox"),
        description="Folder the `.eml` files are written to when no SMTP host is set.",
    )

    @field_validator("mail_from")
    @classmethod
    def _an_address(cls, value: str) -> str:
        if "@" not in parseaddr(value)[1]:
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @property
    def sender(self) -> str:
        """The bare address of `mail_from` (the SMTP envelope sender)."""
        return parseaddr(self.mail_from)[1]

    @property
    def domain(self) -> str:
        """The right-hand side of every Message-ID."""
        return self.sender.rpartition("@")[2]

    def transport(self) -> Transport:
        """SMTP when a host is set, otherwise `.eml` files in `outbox_dir`."""
        if not self.smtp_host:
            return EmlTransport(self.outbox_dir)
        return SmtpTransport(
            self.smtp_host,
            self.smtp_port,
            security=self.smtp_security,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value(),
            timeout=self.smtp_timeout,
        )


def delivery_settings_documentation() -> dict[str, str]:
    """Each delivery setting's environment variable and description (for the README)."""
    return {
        f"MATCHDESK_{name.upper()}": field.description or ""
        for name, field in DeliverySettings.model_fields.items()
    }


@dataclass
class BatchReport:
    """What one batch did: messages claimed, sent, put back for a retry, failed for good,
    released untried, withheld (failed unsent: their address may not get them), and
    uncertain (of a kind sent at most once, lost between its content and the reply)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    withheld: int = 0
    uncertain: int = 0

    def add(self, other: BatchReport) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.released += other.released
        self.withheld += other.withheld
        self.uncertain += other.uncertain


# Which claimed messages must not go out, with why, decided in the claim's transaction
# by the areas that know (the worker passes outreach's suppression list): mail itself
# knows nothing of them.
Withhold = Callable[[Session, Sequence[claims.Claimed]], dict[int, str]]


@dataclass
class Courier:
    """Delivers outbox batches for one worker, with that worker's rate limit; messages
    of the `at_most_once` kinds are never sent twice (see the module's docstring)."""

    md: Matchdesk
    settings: DeliverySettings
    worker_id: str
    stop: threading.Event | None = None
    clock: Callable[[], datetime] = utcnow
    limiter: TokenBucket | None = None
    withhold: Withhold | None = None
    at_most_once: frozenset[str] = frozenset()
    # Tests only: called with a message's row id right after its "being handed over"
    # mark is committed, before its content is written (a fault is injected there).
    before_content: Callable[[int], None] | None = None

    def __post_init__(self) -> None:
        if self.limiter is None:
            self.limiter = TokenBucket(self.settings.mail_rate)
        # Parsed once rather than for every message.
        self._sender = self.settings.sender
        self._domain = self.settings.domain
        self._pool: ThreadPoolExecutor | None = None

    def deliver_due(self) -> BatchReport:
        """Deliver batches until nothing is due (or the worker is asked to stop)."""
        total = BatchReport()
        while not self._stopping():
            report = self.deliver_batch()
            total.add(report)
            if report.claimed == 0:
                break
        return total

    def deliver_batch(self) -> BatchReport:
        """Claim one batch and deliver it, over `mail_connections` connections at once
        (each with its share of the batch, in a thread of its own)."""
        lease = timedelta(seconds=self.settings.mail_claim_seconds)
        with self.md.transaction() as session:
            batch = claims.claim_batch(
                session,
                worker_id=self.worker_id,
                limit=self.settings.mail_batch_size,
                lease=lease,
                now=self.clock(),
                at_most_once=self.at_most_once,
            )
            withheld = self.withhold(session, batch) if batch and self.withhold else {}
            for row_id, reason in withheld.items():
                claims.mark_failed(
                    session.connection(), row_id, worker_id=self.worker_id, error=reason
                )
        report = BatchReport(claimed=len(batch), withheld=len(withheld))
        batch = [message for message in batch if message.id not in withheld]
        if not batch:
            return report
        ways = min(self.settings.mail_connections, len(batch))
        # One database connection for the whole batch, its outcomes recorded by one book
        # for all its SMTP connections: a connection of its own for each share cost
        # PostgreSQL a new backend per batch for the shares beyond the pool's size, and
        # a commit for every `mail_commit_every` messages of each share.
        with self.md.engine.connect() as connection:
            marks = any(message.kind in self.at_most_once for message in batch)
            book = _Book(
                connection, self.settings.mail_commit_every, self.clock, self.worker_id, marks
            )
            try:
                if ways == 1:
                    report.add(self._deliver_share(batch, book))
                else:
                    if self._pool is None:
                        self._pool = ThreadPoolExecutor(
                            self.settings.mail_connections,
                            thread_name_prefix=f"mail-{self.worker_id}",
                        )
                    # Every connection gets every n-th message: each share oldest first.
                    shares = [
                        self._pool.submit(self._deliver_share, batch[i::ways], book)
                        for i in range(ways)
                    ]
                    wait(shares)
                    for share in shares:
                        report.add(share.result())
            finally:
                try:
                    book.record()
                finally:
                    book.close()
        report.claimed -= len(batch)
        return report

    def close(self) -> None:
        """Stop the connections' threads (when the worker stops)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _deliver_share(self, share: list[claims.Claimed], book: _Book) -> BatchReport:
        """Deliver claimed messages over one SMTP connection, recording in `book` (the
        batch's); `claimed` counts them."""
        report = BatchReport(claimed=len(share))
        pending = list(share)
        lost: TemporaryFailure | None = None
        try:
            with self.settings.transport() as transport:
                built = _Built(self, transport)
                while pending and lost is None and self._may_send(pending[0], book):
                    message = pending.pop(0)
                    lost = self._deliver(transport, message, built, pending, report, book)
        except TemporaryFailure as exc:
            # The connection could not be opened: that is the first message's attempt.
            lost = exc
            self._retry(pending.pop(0), report, str(exc), book)
        finally:
            # What this connection got accepted is recorded with the rest of the batch's
            # (the next `every`, or at the end of the batch).
            self._give_back(pending, report, lost, book)
        return report

    def _deliver(
        self,
        transport: Transport,
        message: claims.Claimed,
        built: _Built,
        pending: list[claims.Claimed],
        report: BatchReport,
        book: _Book,
    ) -> TemporaryFailure | None:
        """Send one message and note the outcome; returns the failure when the
        connection is gone (the rest of the batch then waits)."""
        if message.attempts > self.settings.mail_max_attempts:
            self._fail(message, report, "gave up: the worker stopped during every attempt", book)
            return None
        data = built.take(message)
        if isinstance(data, Exception):
            self._fail(message, report, f"cannot build the message: {data}", book)
            return None
        assert self.limiter is not None
        self.limiter.acquire()
        once = message.kind in self.at_most_once
        if once:
            # Marked (and committed) as being handed over before its content goes out:
            # from here on, it is never sent again.
            if not book.attempt(message.id, built.header_ids[message.id]):
                # The claim was taken over (the lease ran out): the new holder decides.
                report.released += 1
                return TemporaryFailure(
                    f"the claim on message {message.id} was lost", connection_lost=True
                )
            if self.before_content is not None:
                self.before_content(message.id)
        try:
            if built.pipelines:
                following = pending[0] if pending else None
                then = None
                if following is not None and built.sendable(following):
                    then = (self._sender, following.recipient)
                transport.send(data, self._sender, message.recipient, "", then=then)  # type: ignore[call-arg]
            else:
                # The .eml transport names its file by the key's hash (SMTP needs none).
                name = key_digest(message.idempotency_key)
                transport.send(data, self._sender, message.recipient, name)
        except PermanentFailure as exc:
            self._fail(message, report, str(exc), book)
        except TemporaryFailure as exc:
            if once and exc.uncertain:
                self._uncertain(message, report, str(exc), book)
            else:
                self._retry(message, report, str(exc), book)
            return exc if exc.connection_lost else None
        else:
            # From here until the book's next commit, a crash makes the message go out
            # again (with the same Message-ID): at most `mail_commit_every` are.
            book.add(
                claims.Accepted(message.id, built.header_id(message), self.clock()), marked=once
            )
            report.sent += 1
        return None

    def _retry(self, message: claims.Claimed, report: BatchReport, error: str, book: _Book) -> None:
        if message.attempts >= self.settings.mail_max_attempts:
            self._fail(message, report, f"gave up after {message.attempts} attempts: {error}", book)
            return
        delay = retry_delay(message.attempts, base_seconds=self.settings.mail_retry_seconds)
        log.info("message %s: %s; retry in %s", message.id, error, delay)
        at = self.clock() + delay
        book.record(
            lambda connection: claims.mark_retry(
                connection, message.id, worker_id=self.worker_id, error=error, at=at
            )
        )
        report.retried += 1

    def _uncertain(
        self, message: claims.Claimed, report: BatchReport, error: str, book: _Book
    ) -> None:
        log.warning("message %s: outcome unknown, not sent again: %s", message.id, error)
        book.record(
            lambda connection: claims.mark_uncertain(
                connection, message.id, worker_id=self.worker_id, error=error
            )
        )
        report.uncertain += 1

    def _fail(self, message: claims.Claimed, report: BatchReport, error: str, book: _Book) -> None:
        log.warning("message %s failed: %s", message.id, error)
        book.record(
            lambda connection: claims.mark_failed(
                connection, message.id, worker_id=self.worker_id, error=error
            )
        )
        report.failed += 1

    def _give_back(
        self,
        pending: list[claims.Claimed],
        report: BatchReport,
        lost: TemporaryFailure | None,
        book: _Book,
    ) -> None:
        """Release the messages not tried; after a lost connection they wait as long as
        a first retry would, without an attempt counted."""
        if not pending:
            return
        at, error = self.clock(), None
        if lost is not None:
            at += retry_delay(1, base_seconds=self.settings.mail_retry_seconds)
            error = str(lost)
        ids = [m.id for m in pending]
        book.record(
            lambda connection: claims.release(
                connection, ids, worker_id=self.worker_id, at=at, error=error
            )
        )
        report.released += len(pending)
        pending.clear()

    def _may_send(self, message: claims.Claimed, book: _Book) -> bool:
        if book.overdue():
            book.record()
        if self._stopping():
            return False
        # Leave the rest for the next claim rather than send after the lease ran out
        # (another worker may have taken the row over by then).
        assert message.claimed_until is not None
        margin = timedelta(
            seconds=min(self.settings.smtp_timeout + 5, self.settings.mail_claim_seconds / 2)
        )
        return self.clock() + margin < _aware(message.claimed_until)

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()


class _Built:
    """The bytes of a batch's messages, each made once, just before it is needed: the
    next message is made before the current one goes out, so that its envelope can be
    pipelined behind it only when it will be sent."""

    def __init__(self, courier: Courier, transport: Transport) -> None:
        self.courier = courier
        self.linesep = getattr(transport, "linesep", "\r\n")
        self.pipelines = bool(getattr(transport, "pipelines", False))
        self.made: dict[int, bytes | Exception] = {}
        self.header_ids: dict[int, str] = {}

    def _make(self, message: claims.Claimed) -> bytes | Exception:
        made = self.made.get(message.id)
        if made is None:
            settings = self.courier.settings
            header_id = message_id_for(message.idempotency_key, self.courier._domain)
            self.header_ids[message.id] = header_id
            try:
                made = email_bytes(
                    message,
                    settings.mail_from,
                    self.courier._domain,
                    linesep=self.linesep,
                    message_id=header_id,
                )
            except (ValueError, TypeError, KeyError) as exc:
                made = exc
            self.made[message.id] = made
        return made

    def take(self, message: claims.Claimed) -> bytes | Exception:
        """The message's bytes, or why they cannot be made."""
        made = self._make(message)
        self.made.pop(message.id, None)
        return made

    def header_id(self, message: claims.Claimed) -> str:
        """The Message-ID `message` went out with (once `take` made it)."""
        return self.header_ids.pop(message.id)

    def sendable(self, message: claims.Claimed) -> bool:
        """Whether `message`, next in the batch, will be sent next (barring a stop or
        the end of its lease, after which the connection is dropped mid-envelope)."""
        courier = self.courier
        if message.attempts > courier.settings.mail_max_attempts:
            return False
        return not isinstance(self._make(message), Exception)


class _Mark:
    """A message to be marked handed over before its content goes out: `held` once the
    mark is committed (False: its claim was lost)."""

    __slots__ = ("done", "header_id", "held", "row_id")

    def __init__(self, row_id: int, header_id: str) -> None:
        self.row_id, self.header_id = row_id, header_id
        self.done = self.held = False


class _Book:
    """The messages of a batch the server accepted and the database does not know yet,
    and the marks of the messages about to be handed over (kinds sent at most once).

    Accepted messages are recorded as `sent` in one transaction once there are `every`
    of them, when the first has waited `COMMIT_WITHIN` (checked before each message),
    with any other change to a row of the batch (a retry, a failure, the release of the
    rest), with any mark, and at the end of the batch: one commit for many messages
    instead of one each, and never more than `every` accepted messages unrecorded. A
    mark is committed before its message goes on (the caller waits): the marks that the
    batch's other connections ask for meanwhile go in the next commit together (a group
    commit), with what was accepted since."""

    def __init__(
        self,
        connection: Connection,
        every: int,
        clock: Callable[[], datetime],
        worker_id: str,
        marks: bool = False,
    ):
        # A batch with marks to commit, on PostgreSQL: each statement commits itself
        # (autocommit, the session's commits not waiting for the disk), one round trip
        # for a commit instead of four (BEGIN, SET LOCAL, the UPDATE, COMMIT), which
        # every mark of the batch waits for. The statements of one record then commit
        # one by one: each is complete in itself (a crash between them leaves rows
        # `sending`, as a crash before the record would).
        self.autocommit = marks and connection.dialect.name == "postgresql"
        if self.autocommit:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("SET synchronous_commit TO OFF")
            connection.commit()  # ends the autobegun (logical) transaction
        self.connection = connection
        self.every = every
        self.clock = clock
        self.worker_id = worker_id
        self.accepted: list[claims.Accepted] = []
        self.marks: list[_Mark] = []
        # The batch's SMTP connections share the book (and its database connection):
        # one commit at a time (`lock`); `queue` guards the lists, held only briefly,
        # so that a connection can ask for a mark during a commit (and have it go in
        # the next one, with the others asked for meanwhile).
        self.lock = threading.Lock()
        self.queue = threading.Lock()

    def add(self, accepted: claims.Accepted, *, marked: bool = False) -> None:
        """Note a message the server accepted; commit when there are `every`. A `marked`
        one (sent at most once) waits for the next commit, whoever makes it: it cannot
        go out again, and a connection that waited here for another's commit would
        only delay its own next mark."""
        if marked:
            with self.queue:
                self.accepted.append(accepted)
            return
        # Under the commit lock: no more than `every` wait, even while another
        # connection commits.
        with self.lock:
            with self.queue:
                self.accepted.append(accepted)
                full = len(self.accepted) >= self.every
            if full:
                self._record(None)

    def close(self) -> None:
        """Give the database connection back as it was found."""
        if self.autocommit:
            self.connection.exec_driver_sql("RESET synchronous_commit")
            self.connection.commit()

    def overdue(self) -> bool:
        """Whether the first unrecorded message has waited `COMMIT_WITHIN`."""
        accepted = self.accepted
        return bool(accepted) and self.clock() - accepted[0].at >= COMMIT_WITHIN

    def record(self, also: Callable[[Connection], None] | None = None) -> None:
        """Commit the accepted messages as sent (and the marks asked for), with `also`
        in the same transaction."""
        with self.lock:
            self._record(also)

    def attempt(self, row_id: int, header_id: str) -> bool:
        """Commit that message `row_id` is being handed over under `header_id` (with
        whatever else waits): False when this worker no longer holds its claim."""
        mark = _Mark(row_id, header_id)
        with self.queue:
            self.marks.append(mark)
        with self.lock:
            if not mark.done:  # not committed by another connection's commit meanwhile
                self._record(None)
        return mark.held

    def _record(self, also: Callable[[Connection], None] | None) -> None:
        # Forgotten even if the commit fails: those rows stay `sending` and go out again
        # after their lease, as after a crash (or, marked, are failed as uncertain then;
        # a mark whose commit failed counts as not held: its message is not sent).
        with self.queue:
            accepted, self.accepted = self.accepted, []
            marks, self.marks = self.marks, []
        if not accepted and not marks and also is None:
            return
        try:
            with self.connection.begin():
                if self.connection.dialect.name == "postgresql" and not self.autocommit:
                    # The row must survive this worker being killed, not the database
                    # server crashing: a commit in the server's WAL buffer does the
                    # first, and not waiting for the disk makes each commit cheap. (A
                    # server crash in the next fraction of a second can only make a
                    # message go out again, with its same Message-ID, a newsletter's too:
                    # its mark lost; it cannot lose one.)
                    self.connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                held = claims.record_outcomes(
                    self.connection,
                    accepted,
                    [(mark.row_id, mark.header_id) for mark in marks],
                    worker_id=self.worker_id,
                )
                if also is not None:
                    also(self.connection)
            for mark in marks:
                mark.held = mark.row_id in held
        finally:
            for mark in marks:
                mark.done = True


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

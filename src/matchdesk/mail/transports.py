"""Where messages go: an SMTP server, or `.eml` files in a folder when none is set.

A transport is opened once per batch (one SMTP connection for many messages) and raises
`PermanentFailure` (the server refused the message for good: a 5xx reply) or
`TemporaryFailure` (a 4xx reply, a refused or dropped connection: try again later).
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol

Security = Literal["none", "starttls", "tls"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "tls": 465}


class DeliveryFailure(Exception):
    """A message was not delivered; `str(exc)` is the reason kept in `last_error`."""


class PermanentFailure(DeliveryFailure):
    """Trying again will not help (the server said 5xx)."""


class TemporaryFailure(DeliveryFailure):
    """Trying again later may help. `connection_lost`: the connection is unusable, so the
    rest of the batch waits for the next attempt rather than failing one by one.
    `uncertain`: it was lost after the message's content was sent and before the server's
    reply to it was read, so the server may have taken the message (trying again may
    deliver it twice)."""

    def __init__(
        self, message: str, *, connection_lost: bool = False, uncertain: bool = False
    ) -> None:
        super().__init__(message)
        self.connection_lost = connection_lost
        self.uncertain = uncertain


class Transport(Protocol):
    def __enter__(self) -> Transport: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def send(self, email: EmailMessage | bytes, sender: str, recipient: str, name: str) -> None:
        """Deliver `email` (or its bytes, with the transport's `linesep` if it has one:
        CRLF otherwise) to `recipient`; `name` is the message's stable hash."""


class SmtpTransport:
    """One SMTP connection: plain, upgraded with STARTTLS, or TLS from the start (SMTPS),
    logging in when a username is set."""

    linesep = "\r\n"
    # `send` takes `then`: the next message's envelope, pipelined.
    pipelines = True

    def __init__(
        self,
        host: str,
        port: int = 0,
        *,
        security: Security = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port or DEFAULT_PORTS[security]
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.smtp: smtplib.SMTP | None = None
        # Whether the server offers PIPELINING; the envelope already written for the
        # next message, and its refusal if it was refused.
        self.pipelining = False
        self._open: tuple[str, str] | None = None
        self._open_refused: DeliveryFailure | None = None

    def __enter__(self) -> SmtpTransport:
        try:
            self.smtp = self._connect()
            self.pipelining = self.smtp.has_extn("pipelining")
        except smtplib.SMTPResponseException as exc:
            raise _failure(exc.smtp_code, exc.smtp_error, "connect", lost=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(
                f"cannot connect to {self.host}:{self.port}: {exc}", connection_lost=True
            ) from exc
        return self

    def _connect(self) -> smtplib.SMTP:
        # Loading the CA store costs tens of milliseconds: only when TLS is used.
        context = None
        if self.security != "none":
            context = self.ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.smtp is None:
            return
        if self._open is not None:
            self._drop()
            return
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()
        self.smtp = None

    def send(
        self,
        email: EmailMessage | bytes,
        sender: str,
        recipient: str,
        name: str,
        *,
        then: tuple[str, str] | None = None,
    ) -> None:
        """Send over the open connection; a refusal becomes a Permanent/TemporaryFailure.

        `email` as bytes is the message as on the wire (CRLF line ends). `then`, the
        (sender, recipient) of the message the caller sends next, is written right after
        this one's content when the server offers PIPELINING (RFC 2920): one round trip
        a message instead of four. This message's outcome is still known, from the
        server's reply to its ".", before `send` returns."""
        if self.smtp is None:
            raise TemporaryFailure("the SMTP connection is closed", connection_lost=True)
        data = email if isinstance(email, bytes) else email.as_bytes(policy=SMTP_POLICY)
        if not self.pipelining:
            self._send_plain(data, sender, recipient)
            return
        started = False
        try:
            if self._open is not None and self._open != (sender, recipient):
                # The server waits for the content of another message: only dropping
                # the connection ends that without sending it.
                self._drop()
                raise TemporaryFailure("connection dropped mid-message", connection_lost=True)
            if self._open is None:
                self._write(_envelope(sender, recipient))
                refused = self._read_envelope()
            else:
                refused = self._open_refused
            self._open, self._open_refused = None, None
            if refused is not None:
                raise refused
            # From the first byte of the content to the reply, a lost connection leaves
            # the outcome unknown.
            started = True
            if then is not None:
                self._write(_dot_stuffed(data) + _envelope(*then))
            else:
                self._write(_dot_stuffed(data))
            code, reply = self._smtp().getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TemporaryFailure(
                f"connection lost: {exc}", connection_lost=True, uncertain=started
            ) from exc
        if then is not None:
            # The next message's envelope: its replies follow, and belong to it (a
            # lost connection now fails the next message, not this one).
            self._open = then
            try:
                self._open_refused = self._read_envelope()
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                self._open_refused = TemporaryFailure(
                    f"connection lost: {exc}", connection_lost=True
                )
        if code != 250:
            raise _failure(code, reply, "refused")

    def _send_plain(self, data: bytes, sender: str, recipient: str) -> None:
        """One command at a time (what `smtplib.SMTP.sendmail` does, step by step: a lost
        connection is known to be before or after the content)."""
        smtp = self._smtp()
        started = False
        try:
            smtp.ehlo_or_helo_if_needed()
            code, reply = smtp.mail(sender)
            if code != 250:
                smtp.rset()
                raise _failure(code, reply, "refused")
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                smtp.rset()
                raise _failure(code, reply, "recipient refused")
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                smtp.rset()
                raise _failure(code, reply, "refused")
            started = True
            smtp.send(_dot_stuffed(data))
            code, reply = smtp.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TemporaryFailure(
                f"connection lost: {exc}", connection_lost=True, uncertain=started
            ) from exc
        if code != 250:
            raise _failure(code, reply, "refused")

    def _read_envelope(self) -> DeliveryFailure | None:
        """Read the replies to MAIL, RCPT and DATA: None when the server waits for the
        content, otherwise the refusal (the transaction then reset)."""
        smtp = self._smtp()
        replies = [smtp.getreply() for _ in range(3)]
        (mail_code, mail_reply), (rcpt_code, rcpt_reply), (data_code, data_reply) = replies
        if data_code == 354 and mail_code == 250 and rcpt_code in (250, 251):
            return None
        if data_code == 354:
            # Content expected although the envelope was refused: not a server to trust.
            self._drop()
            return TemporaryFailure(
                "the server accepted DATA after a refusal", connection_lost=True
            )
        lost = 421 in (mail_code, rcpt_code, data_code)
        if not lost:
            smtp.rset()
        else:
            self._drop()
        if mail_code != 250:
            return _failure(mail_code, mail_reply, "sender refused", lost=lost)
        if rcpt_code not in (250, 251):
            return _failure(rcpt_code, rcpt_reply, "recipient refused", lost=lost)
        return _failure(data_code, data_reply, "refused", lost=lost)

    def _write(self, data: bytes) -> None:
        smtp = self._smtp()
        assert smtp.sock is not None
        smtp.sock.sendall(data)

    def _smtp(self) -> smtplib.SMTP:
        if self.smtp is None:
            raise smtplib.SMTPServerDisconnected("the connection is closed")
        return self.smtp

    def _drop(self) -> None:
        """Close the connection without QUIT (which a server inside DATA would take as
        a line of the message)."""
        if self.smtp is not None:
            self.smtp.close()
        self.smtp, self._open, self.pipelining = None, None, False


def _envelope(sender: str, recipient: str) -> bytes:
    return f"MAIL FROM:{_quoted(sender)}\r\nRCPT TO:{_quoted(recipient)}\r\nDATA\r\n".encode()


# A bare address of the usual kind is its own envelope form; anything else is parsed as
# smtplib does (`quoteaddr`, which costs a worker more than the rest of a message).
_BARE_ADDRESS = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
)


def _quoted(address: str) -> str:
    if _BARE_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


_LINE_START_DOT = re.compile(rb"(?m)^\.")


def _dot_stuffed(data: bytes) -> bytes:
    """The content as sent after DATA: CRLF line ends (as it comes), a "." starting a
    line doubled, and the ending line of a lone "." (RFC 5321 section 4.5.2)."""
    body = _LINE_START_DOT.sub(b"..", data)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def _failure(code: int, reply: bytes | str, what: str, *, lost: bool = False) -> DeliveryFailure:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{what}: {code} {text}"
    if 500 <= code < 600:
        return PermanentFailure(message)
    # 421: the server is closing the connection.
    return TemporaryFailure(message, connection_lost=lost or code == 421)


class EmlTransport:
    """Writes each message to `folder/<hash>.eml`, so a new user without an SMTP server
    sees what would have gone out. Written atomically under the message's stable name:
    a second delivery of the same message replaces the file instead of adding one."""

    # An .eml file's lines end as the standard library writes them.
    linesep = "\n"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> EmlTransport:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TemporaryFailure(f"cannot create {self.folder}: {exc}") from exc
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def send(self, email: EmailMessage | bytes, sender: str, recipient: str, name: str) -> None:
        """Write the message to `<name>.eml` (sender and recipient are its From and To)."""
        data = email if isinstance(email, bytes) else email.as_bytes()
        target = self.folder / f"{name}.eml"
        try:
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {target}: {exc}") from exc

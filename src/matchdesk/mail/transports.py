"""Where messages go: an SMTP server, or `.eml` files in a folder when none is set.

A transport is opened once per batch (one SMTP connection for many messages) and raises
`PermanentFailure` (the server refused the message for good: a 5xx reply) or
`TemporaryFailure` (a 4xx reply, a refused or dropped connection: try again later).
"""

from __future__ import annotations

import os
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
    rest of the batch waits for the next attempt rather than failing one by one."""

    def __init__(self, message: str, *, connection_lost: bool = False) -> None:
        super().__init__(message)
        self.connection_lost = connection_lost


class Transport(Protocol):
    def __enter__(self) -> Transport: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def send(self, email: EmailMessage, sender: str, recipient: str, name: str) -> None:
        """Deliver `email` to `recipient`; `name` is the message's stable hash."""


class SmtpTransport:
    """One SMTP connection: plain, upgraded with STARTTLS, or TLS from the start (SMTPS),
    logging in when a username is set."""

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

    def __enter__(self) -> SmtpTransport:
        try:
            self.smtp = self._connect()
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
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()
        self.smtp = None

    def send(self, email: EmailMessage, sender: str, recipient: str, name: str) -> None:
        """Send over the open connection; a refusal becomes a Permanent/TemporaryFailure."""
        if self.smtp is None:
            raise TemporaryFailure("the SMTP connection is closed", connection_lost=True)
        try:
            # Flattened once, with CRLF line ends as on the wire (send_message would
            # parse the headers again and flatten twice).
            self.smtp.sendmail(sender, [recipient], email.as_bytes(policy=SMTP_POLICY))
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _failure(code, reply, "recipient refused") from exc
        except smtplib.SMTPResponseException as exc:
            raise _failure(exc.smtp_code, exc.smtp_error, "refused") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.smtp.close()
            self.smtp = None
            raise TemporaryFailure(f"connection lost: {exc}", connection_lost=True) from exc


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

    def send(self, email: EmailMessage, sender: str, recipient: str, name: str) -> None:
        """Write the message to `<name>.eml` (sender and recipient are its From and To)."""
        target = self.folder / f"{name}.eml"
        try:
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(email.as_bytes())
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {target}: {exc}") from exc

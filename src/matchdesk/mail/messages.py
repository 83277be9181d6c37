"""Turning an outbox row into the e-mail that goes out."""

from __future__ import annotations

import random
import re
import sys
from datetime import UTC, datetime
from email import policy

# The content manager's own encoder of text parts (its heuristics choose 7bit, 8bit,
# quoted-printable or base64), so a part written directly is encoded the very same way.
from email.contentmanager import _encode_text  # type: ignore[attr-defined]
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime
from functools import lru_cache
from typing import Any

from matchdesk.mail.claims import Claimed
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import Attachment, message_id_for


class _Header(BaseHeader):
    """A header that remembers how it was folded (a shared one is folded for every
    message it is in)."""

    def fold(self, *, policy: Policy) -> str:
        folded: dict[Policy, str] = self.__dict__.setdefault("_folded", {})
        text = folded.get(policy)
        if text is None:
            text = folded[policy] = super().fold(policy=policy)
        return text


class _CachedHeaderRegistry(HeaderRegistry):
    """The standard header registry, with the same results for less work.

    Building a message parses each of its nine or so headers, and `HeaderRegistry`
    builds a new class with `type()` for every header it parses: together nearly all of
    the time a worker spends on a message apart from the network. The classes made for
    one name are all alike, so one per name is kept; and a header object is an
    immutable string, so the most recent ones are reused for the same name and value
    (`MIME-Version: 1.0`, the From and Content-Type of every message)."""

    def __init__(self) -> None:
        super().__init__(base_class=_Header)
        self._classes: dict[str, type[BaseHeader]] = {}
        self._parse = lru_cache(maxsize=256)(super().__call__)

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if isinstance(value, str):
            header: BaseHeader = self._parse(name, value)
            return header
        return super().__call__(name, value)


# `email.policy.default`, only faster to build messages with.
POLICY = policy.default.clone(header_factory=_CachedHeaderRegistry())


def build_email(message: OutboxMessage | Claimed, from_address: str, domain: str) -> EmailMessage:
    """The e-mail for `message`: plain text, an HTML alternative when there is one, its
    attachments, and a Message-ID and Date that are the same on every attempt (so a
    receiving system that sees it twice can tell it is one message)."""
    email = EmailMessage(policy=POLICY)
    email["From"] = from_address
    email["To"] = message.recipient
    email["Subject"] = message.subject
    created = message.created_at
    if created.tzinfo is None:  # SQLite returns naive UTC
        created = created.replace(tzinfo=UTC)
    # A datetime is formatted as the header's text directly (a string would be parsed).
    email["Date"] = created
    email["Message-ID"] = message_id_for(message.idempotency_key, domain)
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.body_text)
    if message.body_html is not None:
        email.add_alternative(message.body_html, subtype="html")
    for data in message.attachments or ():
        attachment = Attachment.from_json(data)
        maintype, subtype, params = _content_type(attachment.content_type)
        email.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    return email


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    """`text/calendar; method=REQUEST` -> ("text", "calendar", {"method": "REQUEST"})."""
    kind, *parameters = (part.strip() for part in value.split(";"))
    maintype, subtype = kind.split("/", 1)
    params = {}
    for parameter in parameters:
        name, _, param_value = parameter.partition("=")
        if name:
            params[name.strip()] = param_value.strip().strip('"')
    return maintype, subtype, params


# What the worker sends: the standard SMTP policy's lines (CRLF), and an .eml file's (LF).
SMTP_POLICY = POLICY.clone(linesep="\r\n")
_POLICIES = {"\r\n": SMTP_POLICY, "\n": POLICY}

# Values the standard library writes as they are (checked in tests/mail/test_messages.py
# against it): printable ASCII words with single spaces, short enough not to be folded.
_PLAIN = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
_ADDR_SPEC = r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_ADDRESS = re.compile(rf"{_ADDR_SPEC}|[A-Za-z0-9]+(?: [A-Za-z0-9]+)* <{_ADDR_SPEC}>")
_MESSAGE_ID = re.compile(r"<[0-9a-f]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>")
MAX_LINE = POLICY.max_line_length or 78
# Headers whose value is free text in the standard registry (others are parsed).
_UNSTRUCTURED = frozenset({"subject", "list-unsubscribe", "list-unsubscribe-post", "list-id"})


def email_bytes(
    message: OutboxMessage | Claimed,
    from_address: str,
    domain: str,
    *,
    linesep: str = "\r\n",
    message_id: str | None = None,
) -> bytes:
    """The bytes `build_email(...).as_bytes()` gives under the policy with `linesep`
    (CRLF: as SMTP sends them; LF: an .eml file), made without building the message.

    Building and flattening an `EmailMessage` costs a worker about a millisecond, more
    than everything else it does for a message together. For what nearly every message
    is (a text part and perhaps an HTML alternative, no attachments) the same bytes are
    written directly: each header folded by the same header classes (or written as it
    is when the standard library would too), each body encoded by its content manager's
    own function. Messages with attachments are built as before. `message_id`: the
    message's Message-ID when the caller has it already (`message_id_for` its key)."""
    if message.attachments:
        return build_email(message, from_address, domain).as_bytes(policy=_POLICIES[linesep])
    nl = linesep
    out = [
        _header("From", from_address, linesep),
        _header("To", message.recipient, linesep),
        _header("Subject", message.subject, linesep),
        f"Date: {format_datetime(_utc(message.created_at))}{nl}",
        _header(
            "Message-ID", message_id or message_id_for(message.idempotency_key, domain), linesep
        ),
    ]
    out.extend(_header(name, value, linesep) for name, value in (message.headers or {}).items())
    text_cte, text = _encode_text(message.body_text, "utf-8", None, POLICY)
    if message.body_html is None:
        out.append(f'Content-Type: text/plain; charset="utf-8"{nl}')
        out.append(f"Content-Transfer-Encoding: {text_cte}{nl}MIME-Version: 1.0{nl}{nl}")
        out.append(text.replace("\n", nl))
    else:
        html_cte, html = _encode_text(message.body_html, "utf-8", None, POLICY)
        text, html = text.replace("\n", nl), html.replace("\n", nl)
        boundary = _boundary(text + html)
        out.append(f"MIME-Version: 1.0{nl}Content-Type: multipart/alternative;{nl}")
        out.append(f' boundary="{boundary}"{nl}{nl}--{boundary}{nl}')
        out.append(f'Content-Type: text/plain; charset="utf-8"{nl}')
        out.append(f"Content-Transfer-Encoding: {text_cte}{nl}{nl}{text}{nl}--{boundary}{nl}")
        out.append(f'Content-Type: text/html; charset="utf-8"{nl}')
        out.append(f"Content-Transfer-Encoding: {html_cte}{nl}MIME-Version: 1.0{nl}{nl}")
        out.append(f"{html}{nl}--{boundary}--{nl}")
    # Bodies in 8bit carry their UTF-8 bytes as surrogates, as in the standard library.
    return "".join(out).encode("ascii", "surrogateescape")


def _header(name: str, value: str, linesep: str) -> str:
    key = name.lower()
    if len(name) + 2 + len(value) <= MAX_LINE and (
        (key in _UNSTRUCTURED and _PLAIN.fullmatch(value) and "=?" not in value)
        or (key in ("from", "to") and _ADDRESS.fullmatch(value))
        or (key == "message-id" and _MESSAGE_ID.fullmatch(value))
    ):
        return f"{name}: {value}{linesep}"
    return _folded(name, value, linesep)


@lru_cache(maxsize=1024)
def _folded(name: str, value: str, linesep: str) -> str:
    # Shared values (the From of every message) are folded once.
    return str(POLICY.header_factory(name, value).fold(policy=_POLICIES[linesep]))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _boundary(text: str) -> str:
    # As the standard generator makes them: random, and not a line of the parts.
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
        if f"--{boundary}" not in text:
            return boundary

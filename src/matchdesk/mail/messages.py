"""Turning an outbox row into the e-mail that goes out."""

from __future__ import annotations

from datetime import UTC
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import Policy
from functools import lru_cache
from typing import Any

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


def build_email(message: OutboxMessage, from_address: str, domain: str) -> EmailMessage:
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

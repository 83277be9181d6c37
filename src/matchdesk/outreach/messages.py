"""Turning an outbox row into the e-mail that goes out."""

from __future__ import annotations

from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime

from matchdesk.outreach.models import OutboxMessage
from matchdesk.outreach.outbox import Attachment, message_id_for


def build_email(message: OutboxMessage, from_address: str, domain: str) -> EmailMessage:
    """The e-mail for `message`: plain text, an HTML alternative when there is one, its
    attachments, and a Message-ID and Date that are the same on every attempt (so a
    receiving system that sees it twice can tell it is one message)."""
    email = EmailMessage()
    email["From"] = from_address
    email["To"] = message.recipient
    email["Subject"] = message.subject
    created = message.created_at
    if created.tzinfo is None:  # SQLite returns naive UTC
        created = created.replace(tzinfo=UTC)
    email["Date"] = format_datetime(created)
    email["Message-ID"] = message_id_for(message.idempotency_key, domain)
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

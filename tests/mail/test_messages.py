"""Building e-mails: the worker's faster header handling makes the very same bytes as
the standard library's `email.policy.default`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy

import pytest

from matchdesk.mail import messages
from matchdesk.mail.messages import build_email
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import Attachment

BOUNDARY = re.compile(rb"={15}\d+==")
INVITE = Attachment("match.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n")


def outbox_row(n: int, **kw: object) -> OutboxMessage:
    values: dict[str, object] = {
        "id": n,
        "kind": "k",
        "recipient": f"c{n}@example.com",
        "subject": f"Your match #{n}",
        "body_text": "Hello " * 40,
        "body_html": None,
        "attachments": [],
        "idempotency_key": f"match:{n}",
        "created_at": datetime(2030, 1, 7, 12, n, tzinfo=UTC),
    }
    values.update(kw)
    return OutboxMessage(**values)


ROWS = [
    outbox_row(1),
    outbox_row(2),  # the same shape again: shared headers are reused
    outbox_row(
        3,
        recipient="Zoë Müller <zoe@example.com>",
        subject="Ton match avec Zoë 🎉 " * 6,  # folded over several lines
        body_text="Héllo\n" * 3,
        body_html="<p>Héllo</p>",
        attachments=[
            Attachment(
                "match.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n"
            ).as_json()
        ],
        created_at=datetime(2030, 1, 7, 12, 3),  # naive, as SQLite returns it
    ),
]


def flattened(row: OutboxMessage, from_address: str) -> tuple[bytes, bytes]:
    email = build_email(row, from_address, "example.org")
    # Multipart boundaries are random: the same placeholder for each.
    return (
        BOUNDARY.sub(b"BOUNDARY", email.as_bytes(policy=policy.SMTP)),  # as SMTP sends it
        BOUNDARY.sub(b"BOUNDARY", email.as_bytes()),  # as an .eml file holds it
    )


@pytest.mark.parametrize("from_address", ["noreply@example.org", "Match Désk <n@example.org>"])
def test_messages_are_byte_for_byte_those_of_the_standard_policy(
    monkeypatch: pytest.MonkeyPatch, from_address: str
) -> None:
    fast = [flattened(row, from_address) for row in ROWS + ROWS]
    monkeypatch.setattr(messages, "POLICY", policy.default)
    standard = [flattened(row, from_address) for row in ROWS + ROWS]
    assert fast == standard
